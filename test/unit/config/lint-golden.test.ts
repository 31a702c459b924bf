import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { lintFiles } from '../../../src/cli/lint';

const REPO = resolve(__dirname, '..', '..', '..');
const INVALID_DIR = 'test/fixtures/config/invalid';
const MINIMAL = 'test/fixtures/config/valid/minimal.yaml';

/**
 * Golden files name each fixture by its path from the repository root. When jest runs from another
 * directory, that path is what lint prints instead, so the golden text is rewritten to it; run from
 * the root (as `npm test` does) the comparison is byte for byte.
 */
function fromCwd(repoPath: string): string {
  return relative(process.cwd(), join(REPO, repoPath));
}

function readGolden(repoPath: string): string {
  return readFileSync(join(REPO, repoPath.replace(/\.yaml$/, '.expected.txt')), 'utf8')
    .split(repoPath)
    .join(fromCwd(repoPath));
}

interface JsonProblem {
  line: number;
  column: number;
  severity: string;
  pointer: string;
  message: string;
}

interface JsonReport {
  valid: boolean;
  files: { file: string; valid: boolean; problems: JsonProblem[] }[];
}

const cases = readdirSync(join(REPO, INVALID_DIR))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => {
    const file = `${INVALID_DIR}/${f}`;
    // Some fixtures start with a byte order mark or end lines with CR alone: that is what they test.
    const firstLine = readFileSync(join(REPO, file), 'utf8')
      .replace(/^\uFEFF/, '')
      .split(/\r\n|\r|\n/)[0];
    return { name: f.replace(/\.yaml$/, ''), file, firstLine, breaks: firstLine.replace(/^#\s*/, '') };
  });

describe('lint golden files', () => {
  it('has a fixture per check, each explaining what it breaks and with its expected output', () => {
    expect(cases.length).toBeGreaterThanOrEqual(24);
    for (const c of cases) {
      expect(c.firstLine).toMatch(/^# \S/);
      expect(existsSync(join(REPO, c.file.replace(/\.yaml$/, '.expected.txt')))).toBe(true);
    }
  });

  it.each(cases)('$name: $breaks', ({ file }) => {
    const out = lintFiles([fromCwd(file)], 'text', {});
    expect(out.stdout).toBe(readGolden(file));
    expect(out.stderr).toBe('');
    expect(out.exitCode).toBe(1);
  });
});

const WARNINGS_DIR = 'test/fixtures/config/warnings';
const warningCases = readdirSync(join(REPO, WARNINGS_DIR))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => ({
    name: f.replace(/\.yaml$/, ''),
    file: `${WARNINGS_DIR}/${f}`,
    breaks: readFileSync(join(REPO, WARNINGS_DIR, f), 'utf8')
      .split('\n')[0]
      .replace(/^#\s*/, ''),
  }));

function readStrictGolden(repoPath: string): string | undefined {
  const golden = join(REPO, repoPath.replace(/\.yaml$/, '.strict.expected.txt'));
  return existsSync(golden) ? readFileSync(golden, 'utf8').split(repoPath).join(fromCwd(repoPath)) : undefined;
}

describe('lint warnings golden files: valid files that do not do what they seem to', () => {
  it.each(warningCases)('$name: $breaks', ({ file }) => {
    const out = lintFiles([fromCwd(file)], 'text', {});
    expect(out.stdout).toBe(readGolden(file));
    expect(out.stdout).toMatch(/: valid \(\d+ warnings?\)\n$/);
    expect(out.exitCode).toBe(0);
    const strict = readStrictGolden(file);
    if (strict === undefined) return;
    const refused = lintFiles([fromCwd(file)], 'text', {}, { strict: true });
    expect(refused.stdout).toBe(strict);
    expect(refused.exitCode).toBe(1);
  });
});

describe('lint', () => {
  it('passes the repository routes.yaml with the placeholders of .env.example (what npm run lint:config does)', () => {
    const file = fromCwd('routes.yaml');
    const env = parseEnv(readFileSync(join(REPO, '.env.example'), 'utf8')) as Record<string, string>;
    expect(lintFiles([file], 'text', env)).toEqual({ exitCode: 0, stdout: `${file}: valid\n`, stderr: '' });
  });

  it('passes the repository routes.yaml without secrets, warning that start refuses it until the JWT secret is set', () => {
    const file = fromCwd('routes.yaml');
    const out = lintFiles([file], 'text', {});
    expect(out).toEqual({
      exitCode: 0,
      stdout:
        `${file}:50:13 warning /auth/jwt/secret: environment variable "AUTHENTICATION__JWT_SECRET_KEY" is not set here, so route "samples" and every other route that requires auth have no key to verify tokens with; \`tracseq-gateway start\` refuses to run until it is set (lint --strict makes this an error)\n` +
        `${file}: valid (1 warning)\n`,
      stderr: '',
    });
    const json = JSON.parse(lintFiles([file], 'json', {}).stdout) as JsonReport;
    expect(json.valid).toBe(true);
    expect(json.files[0].problems).toEqual([expect.objectContaining({ line: 50, column: 13, severity: 'warning', pointer: '/auth/jwt/secret' })]);
  });

  it('lint --strict refuses the repository routes.yaml without a JWT secret, as start does', () => {
    const file = fromCwd('routes.yaml');
    const out = lintFiles([file], 'text', {}, { strict: true });
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/error \/defaults\/auth\/required: route "samples" requires auth but no key is set: set auth\.jwt\.secret \(or AUTHENTICATION__JWT_SECRET_KEY\)/);
  });

  it('accepts the repository routes.yaml without a secret when auth is switched off', () => {
    const file = fromCwd('routes.yaml');
    expect(lintFiles([file], 'text', { AUTHENTICATION__ENABLED: 'false' }).exitCode).toBe(0);
  });

  it('reports an invalid file as JSON with the same problems as the text format', () => {
    const file = `${INVALID_DIR}/wrong-types.yaml`;
    const out = lintFiles([fromCwd(file)], 'json', {});
    expect(out.exitCode).toBe(1);
    const report = JSON.parse(out.stdout) as JsonReport;
    expect(report.valid).toBe(false);
    expect(report.files).toHaveLength(1);
    expect(report.files[0]).toMatchObject({ file: fromCwd(file), valid: false });

    const problems = report.files[0].problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p).toEqual({
        line: expect.any(Number),
        column: expect.any(Number),
        severity: 'error',
        pointer: expect.stringMatching(/^\//),
        message: expect.any(String),
      });
    }
    const asText = problems.map((p) => `${fromCwd(file)}:${p.line}:${p.column} ${p.severity} ${p.pointer}: ${p.message}`);
    expect(asText).toEqual(readGolden(file).trimEnd().split('\n').slice(0, -1));
  });

  it('reports JSON valid: true for a clean file', () => {
    const report = JSON.parse(lintFiles([fromCwd(MINIMAL)], 'json', {}).stdout) as JsonReport;
    expect(report).toEqual({ valid: true, files: [{ file: fromCwd(MINIMAL), valid: true, problems: [] }] });
  });

  it('emits one GitHub Actions annotation per problem', () => {
    const file = `${INVALID_DIR}/route-unknown-service.yaml`;
    const out = lintFiles([fromCwd(file)], 'github', {});
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toBe(`::error file=${fromCwd(file)},line=9,col=14::/routes/0/service: unknown service "sample" (did you mean "samples"?)\n`);
  });

  it('emits an annotation for every line of a multi-problem file', () => {
    const file = `${INVALID_DIR}/wrong-types.yaml`;
    const lines = lintFiles([fromCwd(file)], 'github', {})
      .stdout.trimEnd()
      .split('\n');
    const textLines = readGolden(file).trimEnd().split('\n').slice(0, -1);
    expect(lines).toHaveLength(textLines.length);
    for (const line of lines) expect(line).toMatch(/^::error file=[^,]+,line=\d+,col=\d+::\/\S+: .+$/);
  });

  it('exits 2 with the reason on stderr when a file cannot be read', () => {
    const missing = fromCwd(`${INVALID_DIR}/no-such-file.yaml`);
    const out = lintFiles([missing], 'text', {});
    expect(out.exitCode).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(missing);
    expect(out.stderr).toMatch(/cannot read/);
  });

  it('prints JSON for exit 2 too: the unreadable file, why, and the files it could read', () => {
    const missing = fromCwd(`${INVALID_DIR}/no-such-file.yaml`);
    const out = lintFiles([fromCwd(MINIMAL), missing], 'json', {});
    expect(out.exitCode).toBe(2);
    expect(JSON.parse(out.stdout)).toEqual({
      valid: false,
      files: [
        { file: fromCwd(MINIMAL), valid: true, problems: [] },
        { file: missing, valid: false, unreadable: 'no such file', problems: [] },
      ],
    });
    expect(out.stderr).toContain(missing);
  });

  it('exits 2 when one of several files cannot be read, and still lints the others', () => {
    const missing = fromCwd(`${INVALID_DIR}/no-such-file.yaml`);
    const out = lintFiles([fromCwd(MINIMAL), missing], 'text', {});
    expect(out.exitCode).toBe(2);
    expect(out.stdout).toBe(`${fromCwd(MINIMAL)}: valid\n`);
    expect(out.stderr).toContain(missing);
  });
});

describe('lint with environment overrides', () => {
  it.each([
    { variable: 'PORT', value: 'abc', pointer: '/gateway/port', line: 4, column: 9 },
    { variable: 'CORS__ALLOW_ORIGINS', value: 'not-json', pointer: '/cors/origins', line: 6, column: 12 },
    { variable: 'SERVICES__SAMPLES__PORT', value: '99999', pointer: '/services/samples/instances', line: 9, column: 16 },
  ])('$variable=$value is reported naming the variable at $pointer', ({ variable, value, pointer, line, column }) => {
    const env = { [variable]: value };
    const json = lintFiles([fromCwd(MINIMAL)], 'json', env);
    expect(json.exitCode).toBe(1);
    const problems = (JSON.parse(json.stdout) as JsonReport).files[0].problems;
    expect(problems).toEqual([{ line, column, severity: 'error', pointer, message: expect.stringContaining(`${variable}=${JSON.stringify(value)}`) }]);

    const text = lintFiles([fromCwd(MINIMAL)], 'text', env);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain(`${fromCwd(MINIMAL)}:${line}:${column} error ${pointer}: ${variable}=${JSON.stringify(value)}`);
    expect(text.stdout).toMatch(new RegExp(`unset ${variable}\\n`));
  });

  it('accepts well-formed values of the same variables', () => {
    const env = { PORT: '8080', CORS__ALLOW_ORIGINS: '["https://lab.example.org"]', SERVICES__SAMPLES__PORT: '9000' };
    expect(lintFiles([fromCwd(MINIMAL)], 'text', env)).toEqual({ exitCode: 0, stdout: `${fromCwd(MINIMAL)}: valid\n`, stderr: '' });
  });
});
