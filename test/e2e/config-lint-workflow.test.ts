import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { ROOT } from '../helpers/process';

/**
 * The shipped GitHub Actions workflow (docker/ci/config-lint.yml), run step by step as a runner
 * would in a lab repository that holds a routes.yaml: the gateway is checked out (a clone of
 * this repository stands for `actions/checkout` of it) and built with the workflow's own
 * commands, then its lint and diff steps run on a pull request's change.
 */
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
}

const workflow = yaml.load(readFileSync(join(ROOT, 'docker', 'ci', 'config-lint.yml'), 'utf8')) as { jobs: { lint: { steps: Step[] } } };
const steps = workflow.jobs.lint.steps;

let lab: string;
let runnerTemp: string;

function git(...args: string[]): string {
  return execFileSync('git', args, {
    cwd: lab,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'lab', GIT_AUTHOR_EMAIL: 'lab@example.org', GIT_COMMITTER_NAME: 'lab', GIT_COMMITTER_EMAIL: 'lab@example.org' },
  });
}

/** A step's script with the GitHub expressions a pull request against main would give it. */
function script(step: Step): string {
  return step.run!.replaceAll('${{ github.base_ref }}', 'main');
}

function runStep(step: Step): { status: number; output: string } {
  const result = spawnSync('bash', ['-e', '-c', script(step)], {
    cwd: lab,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, RUNNER_TEMP: runnerTemp, CI: 'true' },
    timeout: 240_000,
  });
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

function stepNamed(text: string): Step {
  const step = steps.find((s) => s.name?.includes(text));
  if (!step) throw new Error(`config-lint.yml has no step named like "${text}"`);
  return step;
}

beforeAll(() => {
  lab = mkdtempSync(join(tmpdir(), 'lab-routes-'));
  runnerTemp = mkdtempSync(join(tmpdir(), 'runner-temp-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(lab, 'routes.yaml'), readFileSync(join(ROOT, 'routes.yaml')));
  cpSync(join(ROOT, 'schemas'), join(lab, 'schemas'), { recursive: true });
  git('add', '-A');
  git('commit', '-q', '-m', 'routes');
  git('update-ref', 'refs/remotes/origin/main', 'main');
  // The pull request: the sequencing route's timeout raised.
  git('checkout', '-q', '-b', 'longer-timeout');
  writeFileSync(join(lab, 'routes.yaml'), readFileSync(join(lab, 'routes.yaml'), 'utf8').replace('timeout: 60s ', 'timeout: 90s '));
  git('commit', '-q', '-am', 'longer sequencing timeout');
});

afterAll(() => {
  rmSync(lab, { recursive: true, force: true });
  rmSync(runnerTemp, { recursive: true, force: true });
});

describe('docker/ci/config-lint.yml, run as the runner would', () => {
  it('checks out the gateway into .tracseq-gateway and builds its CLI with the workflow command', () => {
    const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout') && s.with?.path === '.tracseq-gateway');
    expect(checkout?.with?.repository).toContain('TRACSEQ_GATEWAY_REPOSITORY');
    // What actions/checkout does there: this repository, at its committed state.
    execFileSync('git', ['clone', '-q', '--depth', '1', `file://${ROOT}`, join(lab, '.tracseq-gateway')]);
    const built = runStep(stepNamed('Build the gateway CLI'));
    expect(built.output).not.toMatch(/npm (ERR|error)/);
    expect(built.status).toBe(0);
  }, 300_000);

  it('lints the shipped routes.yaml without secrets: exit 0, the unset secret as a warning annotation', () => {
    const lint = runStep(stepNamed('Lint routes.yaml'));
    expect(lint.status).toBe(0);
    expect(lint.output).toMatch(/^::warning file=routes\.yaml,line=\d+,col=\d+::.*AUTHENTICATION__JWT_SECRET_KEY/m);
    expect(lint.output).not.toContain('::error');
  });

  it('fails the lint step with an error annotation at the line of a mistake', () => {
    const good = readFileSync(join(lab, 'routes.yaml'), 'utf8');
    writeFileSync(join(lab, 'routes.yaml'), good.replace('service: storage', 'service: storge'));
    try {
      const lint = runStep(stepNamed('Lint routes.yaml'));
      expect(lint.status).toBe(1);
      expect(lint.output).toMatch(/^::error file=routes\.yaml,line=\d+,col=\d+::.*storge.*did you mean "storage"/m);
    } finally {
      writeFileSync(join(lab, 'routes.yaml'), good);
    }
  });

  it('shows what the pull request changes, with old and new values, and passes', () => {
    const step = stepNamed('Show what the change does');
    expect(step.if).toBe("github.event_name == 'pull_request'");
    const diff = runStep(step);
    if (diff.status !== 0) throw new Error(`the diff step failed (${diff.status}):\n${diff.output}`);
    expect(diff.output.trim().split('\n')).toEqual(['route sequencing: changed (timeout)', '  timeout: "60s" → "90s"']);
  });
});
