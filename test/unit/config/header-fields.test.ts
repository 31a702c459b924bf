import { checkConfigText } from '../../../src/config';
import { headerNameProblem, headerValueProblem } from '../../../src/config/http-fields';

const config = (value: string) => `version: 1
services:
  samples:
    instances: ["http://127.0.0.1:8081"]
routes:
  - name: samples
    path: /samples
    service: samples
    transform:
      request:
        headers:
          set:
            X-Origin: "${value}"
`;

describe('header values are checked after variables are filled in', () => {
  it.each([
    { what: '${VAR} holding CR LF', value: '${ORIGIN}', env: { ORIGIN: 'lab\r\nX-Injected: 1' }, holds: 'U+000D (CR, a line break)' },
    { what: '${VAR:-default} whose default is used', value: '${UNSET:-a\\tb}', env: {}, holds: undefined },
    { what: '${env.NAME} holding NUL', value: 'id-${env.SUFFIX}', env: { SUFFIX: 'a\u0000b' }, holds: 'U+0000 (NUL)' },
    { what: '${env.NAME} holding an emoji', value: '${env.MOOD}', env: { MOOD: '😀' }, holds: '"😀" (U+1F600)' },
  ])('$what', ({ value, env, holds }) => {
    const { problems } = checkConfigText('t.yaml', config(value), env);
    if (holds === undefined) return expect(problems).toEqual([]);
    expect(problems).toEqual([
      {
        file: 't.yaml',
        line: 13,
        column: 23,
        severity: 'error',
        pointer: '/routes/0/transform/request/headers/set/X-Origin',
        message: expect.stringContaining(`holds ${holds}; header values are printable text, spaces and tabs only`),
      },
    ]);
  });
});

describe('header fields', () => {
  it.each(['X-Request-Source', 'x_custom', "!#$%&'*+-.^_`|~"])('accepts the name %s', (name) => expect(headerNameProblem(name)).toBeUndefined());
  it.each(['', 'X Y', 'X:Y', 'X\u00e9', 'X\r\n'])('refuses the name %j', (name) => expect(headerNameProblem(name)).toEqual(expect.any(String)));
  it.each(['plain text', 'tab\there', 'caf\u00e9 (Latin-1)', ''])('accepts the value %j', (value) => expect(headerValueProblem(value)).toBeUndefined());
  it.each(['a\nb', 'a\rb', 'a\u0000', '\u001b[0m', 'del\u007f', '\u2028'])('refuses the value %j', (value) => expect(headerValueProblem(value)).toEqual(expect.any(String)));
});
