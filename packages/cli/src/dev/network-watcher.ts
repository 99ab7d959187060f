import { watch, type FSWatcher } from 'node:fs';
import { dirname, extname } from 'node:path';

/** Files whose change reloads the network: modules and JSON beside it. */
const WATCHED = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.json']);

/**
 * Calls `onChange` once a module in the network file's directory (the network file, or a module
 * beside it that it may import) has changed and stayed unchanged for `debounceMs` (an editor's
 * save is often several writes, or a rename over the file). The directory is watched, so a file
 * replaced by a rename is still seen.
 */
export function watchNetworkFile(file: string, onChange: () => void, debounceMs = 150): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && !WATCHED.has(extname(changed))) return;
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
