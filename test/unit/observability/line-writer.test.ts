import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { createLogger, LineWriter } from '../../../src/observability/logger';
import { distEntry } from '../../helpers/process';

/** The access log's writer: batched, and nothing lost when the process ends. */
function writerInto(): { writer: LineWriter; written: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { writer: new LineWriter(createLogger('info', stream)), written: () => chunks };
}

it('writes the lines of one batch in one write, in order, within the flush interval', async () => {
  const { writer, written } = writerInto();
  for (let i = 0; i < 5; i++) writer.write(`{"n":${i}}`);
  expect(written()).toEqual([]);
  await new Promise((r) => setTimeout(r, 60));
  expect(written()).toEqual(['{"n":0}\n{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n']);
});

it('writes at once when 64 KiB are waiting', () => {
  const { writer, written } = writerInto();
  const line = `{"pad":"${'x'.repeat(1000)}"}`;
  for (let i = 0; i < 70; i++) writer.write(line);
  expect(written().length).toBe(1);
  expect(written()[0].split('\n').length - 1).toBeGreaterThanOrEqual(64);
});

it('keeps a line longer than a chunk whole, after the lines before it', async () => {
  const { writer, written } = writerInto();
  const long = `{"pad":"${'y'.repeat(100 * 1024)}"}`;
  writer.write('{"n":1}');
  writer.write(long);
  writer.write('{"n":2}');
  await new Promise((r) => setTimeout(r, 60));
  expect(written().join('')).toBe(`{"n":1}\n${long}\n{"n":2}\n`);
});

it('a process that exits with lines still waiting writes them first', () => {
  const logger = distEntry('observability/logger.js');
  const script = `const { createLogger, LineWriter } = require(${JSON.stringify(logger)});
    const w = new LineWriter(createLogger('info'));
    w.write('{"last":1}'); w.write('{"last":2}');
    process.exit(3);`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(run.status).toBe(3);
  expect(run.stdout).toBe('{"last":1}\n{"last":2}\n');
});
