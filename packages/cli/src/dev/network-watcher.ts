import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` once the network file has changed and stayed unchanged for `debounceMs` (an
 * editor's save is often several writes, or a rename over the file). The file's directory is
 * watched, so a file replaced by a rename is still seen.
 */
export function watchNetworkFile(file: string, onChange: () => void, debounceMs = 150): { close(): void } {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
