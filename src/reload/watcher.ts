import { watch, FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * Watches the routes file's *directory*, not the file: editors save by writing a new file and
 * renaming it over the old one, and a Kubernetes ConfigMap update swaps a `..data` symlink, and a
 * watch on the file itself would stay attached to the replaced inode in both cases. Events are
 * debounced; the reloader compares content hashes, so a touch without changes reloads nothing.
 */
export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly onChange: () => void,
    private readonly debounceMs = 300,
  ) {}

  start(): void {
    const path = resolve(this.file);
    const name = basename(path);
    this.watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      // Some platforms give no file name; ConfigMaps change `..data`; editors write temp files.
      if (changed && changed !== name && !changed.startsWith('..') && changed !== `${name}~`) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.onChange(), this.debounceMs);
      this.timer.unref();
    });
    this.watcher.on('error', () => undefined);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
