import { mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A folder laid out as the kubelet lays out a mounted ConfigMap (its AtomicWriter), and updated
 * as it updates one:
 *   ..2026_12_02_06_16_33.1234567890/routes.yaml   the data of one version
 *   ..data -> ..2026_12_02_06_16_33.1234567890     the current version
 *   routes.yaml -> ..data/routes.yaml              what the pod reads
 * An update writes a new timestamped folder, points a new `..data_tmp` symlink at it, renames that
 * over `..data` (atomic), then removes the old folder.
 */
export class ConfigMapVolume {
  readonly dir = mkdtempSync(join(tmpdir(), 'gw-configmap-volume-'));
  private version = 0;

  constructor(files: Record<string, string>) {
    const first = this.writeVersion(files);
    symlinkSync(first, join(this.dir, '..data'));
    for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(this.dir, name));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** The kubelet's update: new version folder, `..data` swapped by a rename, old folder removed. */
  update(files: Record<string, string>): void {
    const old = readlinkSync(join(this.dir, '..data'));
    const next = this.writeVersion(files);
    symlinkSync(next, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    rmSync(join(this.dir, old), { recursive: true });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeVersion(files: Record<string, string>): string {
    // The kubelet's name: `..` + time as 2006_01_02_15_04_05 + `.` + a random number.
    const stamp = new Date(Date.now() + this.version * 1000).toISOString().replace(/[-T:]/g, '_').replace(/\..*$/, '');
    const name = `..${stamp}.${String(1_000_000_000 + this.version++)}`;
    mkdirSync(join(this.dir, name));
    for (const [file, text] of Object.entries(files)) writeFileSync(join(this.dir, name, file), text);
    return name;
  }
}
