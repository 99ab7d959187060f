import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Finds an executable on `PATH`, like `which`.
 *
 * @param name - the program's name
 * @param pathEnv - the search path; default `process.env.PATH`
 * @returns its full path, or `undefined` when it is not on the path
 */
export function findExecutable(name: string, pathEnv = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
