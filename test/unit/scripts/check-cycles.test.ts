import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '../../../scripts/check-cycles.js');

function run(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
}

describe('npm run check:cycles', () => {
  it('passes the gateway sources', () => {
    const result = spawnSync(process.execPath, [SCRIPT, 'src'], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/^no import cycles among \d+ files/);
    expect(result.status).toBe(0);
  });

  it('fails on a cycle made of type-only imports, naming its files', () => {
    const result = run({
      'a/types.ts': "import type { Root } from '../b/root';\nexport interface Leaf { root: Root }\n",
      'b/root.ts': "import type { Leaf } from '../a/types';\nexport interface Root { leaves: Leaf[] }\n",
      'c/free.ts': "import type { Leaf } from '../a/types';\nexport type Free = Leaf;\n",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('import cycle of 2 files');
    expect(result.stderr).toMatch(/a\/types\.ts -> .*b\/root\.ts/);
    expect(result.stderr).not.toContain('free.ts');
  });

  it('fails on a cycle through require() and an index file', () => {
    const result = run({
      'x/index.ts': "export const x = require('../y/y');\n",
      'y/y.ts': "import { x } from '../x';\nexport const y = x;\n",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('import cycle of 2 files');
  });
});
