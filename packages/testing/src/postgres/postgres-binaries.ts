import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../redis/find-executable.js';

/** Where PostgreSQL's server programs are: `initdb` and `postgres`. */
export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/**
 * Finds `initdb` and `postgres`: on `PATH`, else in Debian's `/usr/lib/postgresql/<major>/bin`
 * (the newest major), where the `postgresql` package puts them without linking them onto `PATH`.
 * @returns the binaries, or undefined when PostgreSQL is not installed.
 */
export function findPostgresBinaries(root = '/usr/lib/postgresql'): PostgresBinaries | undefined {
  const initdb = findExecutable('initdb');
  const postgres = findExecutable('postgres');
  if (initdb && postgres) return { initdb, postgres };
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
  }
  return undefined;
}

/**
 * The uid and gid a PostgreSQL server may run as: this process's when it is not root (PostgreSQL
 * refuses to run as root), else the `postgres` user's (Debian's package creates it), else undefined.
 */
export function postgresServerUser(): { uid: number; gid: number } | undefined {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined) return undefined;
  if (uid !== 0) return { uid, gid };
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , userId, groupId] = line.split(':');
      if (name === 'postgres' && userId && groupId) return { uid: Number(userId), gid: Number(groupId) };
    }
  } catch {
    // no passwd file
  }
  return undefined;
}
