/**
 * The demo's only user and the secret its tokens are signed with. For `npm run demo` only: a real
 * deployment gets its secret from AUTHENTICATION__JWT_SECRET_KEY and its users from the Auth Service.
 */
export const DEMO_JWT_SECRET = 'tracseq-demo-secret-change-me';
export const DEMO_USER = {
  username: 'demo',
  password: 'tracseq-demo',
  sub: 'user-0001',
  email: 'lab.manager@tracseq.dev',
  roles: ['lab_manager', 'researcher'],
};

/** The seven TracSeq services and the ports their stand-ins listen on. */
export const DEMO_SERVICES: { name: string; port: number }[] = [
  { name: 'auth', port: 8080 },
  { name: 'samples', port: 8081 },
  { name: 'storage', port: 8082 },
  { name: 'templates', port: 8083 },
  { name: 'sequencing', port: 8084 },
  { name: 'notifications', port: 8085 },
  { name: 'rag', port: 8086 },
];
