import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** Tests of the shipped entry points run the compiled build, as operators do (`npm test` builds first). */
export function distEntry(relative: string): string {
  const file = join(ROOT, 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm test does it)`);
  return file;
}

export interface RunningProcess {
  child: ChildProcess;
  /** Stdout lines that parsed as JSON (the gateway's log lines). */
  jsonLines: Record<string, unknown>[];
  output(): string;
  exited: Promise<number | null>;
}

export function runNode(entry: string, args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [entry, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const jsonLines: Record<string, unknown>[] = [];
  let text = '';
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        jsonLines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, jsonLines, output: () => text, exited };
}
