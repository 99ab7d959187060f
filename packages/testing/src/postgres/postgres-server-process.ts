import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../redis/free-port.js';
import { findPostgresBinaries, postgresServerUser, type PostgresBinaries } from './postgres-binaries.js';

/** Options of {@link PostgresServerProcess}. */
export interface PostgresServerProcessOptions {
  /** Port to listen on; default a free loopback port chosen at the first `start()`. */
  port?: number;
  /** Where `initdb` and `postgres` are; default {@link findPostgresBinaries}. */
  binaries?: PostgresBinaries;
  /** How long `start()` waits for the server to accept connections; default 30 000 ms. */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';
const LOG_LINES = 40;
const KILL_AFTER_MS = 5_000;

/**
 * A private PostgreSQL server for tests: a fresh cluster (`initdb -A trust -U postgres`) in a
 * temporary directory, served by a `postgres` child process on 127.0.0.1 and a free port — never
 * a system PostgreSQL that may run on 5432. As root it runs as the `postgres` user (PostgreSQL
 * refuses root), which owns the directory. Durability is off (`fsync=off`): it is for tests.
 *
 * @example
 * ```ts
 * const pg = new PostgresServerProcess();
 * await pg.start();
 * // pg.url: postgres://postgres@127.0.0.1:<port>/postgres
 * await pg.kill();     // an outage: the data directory stays
 * await pg.start();    // the same port and data again
 * await pg.stop();     // and the directory is removed
 * ```
 */
export class PostgresServerProcess {
  readonly #options: PostgresServerProcessOptions;
  #port: number | undefined;
  #dir: string | undefined;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];
  #onExit: (() => void) | undefined;

  constructor(options: PostgresServerProcessOptions = {}) {
    this.#options = options;
    this.#port = options.port;
  }

  /** The port; known once `start()` has run (or when given). */
  get port(): number {
    if (this.#port === undefined) throw new Error('PostgresServerProcess: port is not known before start()');
    return this.#port;
  }

  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication: no password). */
  get url(): string {
    return `postgres://postgres@${HOST}:${this.port}/postgres`;
  }

  /** Whether the server process is alive. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines the server printed (for failure messages). */
  get recentLog(): readonly string[] {
    return this.#log;
  }

  /**
   * Creates the cluster (first time only) and starts the server; resolves once it accepts
   * connections. A no-op while running.
   * @throws when PostgreSQL is not installed, no user may run it, or it does not start in time.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const binaries = this.#options.binaries ?? findPostgresBinaries();
    if (!binaries) throw new Error('PostgreSQL is not installed: no initdb/postgres on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)');
    const user = postgresServerUser();
    if (!user) throw new Error('PostgreSQL cannot run as root and there is no "postgres" user to run it as');
    if (this.#dir === undefined) {
      // As root, under /tmp: the postgres user must be able to reach the directory (a root-only TMPDIR would not do).
      this.#dir = mkdtempSync(join(process.getuid?.() === 0 && existsSync('/tmp') ? '/tmp' : tmpdir(), 'handoff-postgres-'));
      chownSync(this.#dir, user.uid, user.gid);
    }
    const dir = this.#dir;
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      const init = spawnSync(binaries.initdb, ['-D', dir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'], { uid: user.uid, gid: user.gid, encoding: 'utf8', cwd: dir, env: serverEnv() });
      if (init.status !== 0) throw new Error(`initdb failed (${init.status ?? init.signal}): ${(init.stderr || init.stdout || String(init.error)).trim().split('\n').slice(-5).join(' | ')}`);
    }
    this.#port ??= await findFreePort(HOST);
    const args = ['-D', dir, '-k', dir, '-p', String(this.#port), '-c', `listen_addresses=${HOST}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=50'];
    this.#log = [];
    const child = spawn(binaries.postgres, args, { uid: user.uid, gid: user.gid, cwd: dir, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    let ready: () => void = () => undefined;
    const accepting = new Promise<void>((resolve) => (ready = resolve));
    const collect = (data: Buffer): void => {
      for (const line of data.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.#log.push(line);
        if (this.#log.length > LOG_LINES) this.#log.shift();
        if (/database system is ready to accept connections/.test(line)) ready();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.#attachExitHook();
    const timeoutMs = this.#options.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      accepting.then(() => 'ready' as const),
      this.#exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout'))),
    ]);
    clearTimeout(timer);
    if (outcome !== 'ready') {
      child.kill('SIGKILL');
      await this.#exited;
      throw new Error(`postgres ${outcome === 'exited' ? 'exited during start' : `did not accept connections within ${timeoutMs} ms`}: ${this.#log.slice(-5).join(' | ')}`);
    }
  }

  /**
   * Stops the server (an outage, or a crash with `SIGKILL`) and waits until it has exited; the
   * data directory and the port stay, so `start()` brings the same server back.
   * @param signal - default `SIGINT` (PostgreSQL's fast shutdown)
   */
  async kill(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    if (!this.running) return;
    const child = this.#child;
    child?.kill(signal);
    const timer = setTimeout(() => child?.kill('SIGKILL'), KILL_AFTER_MS);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the server and removes its data directory. Safe to call twice. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.#onExit) {
      onProcessExit.delete(this.#onExit);
      this.#onExit = undefined;
    }
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }

  /** Makes sure a crashed test run leaves no server or directory behind. */
  #attachExitHook(): void {
    if (this.#onExit) return;
    this.#onExit = () => {
      if (this.running) this.#child?.kill('SIGKILL');
      if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    };
    onProcessExit.add(this.#onExit);
    if (!exitListenerInstalled) {
      exitListenerInstalled = true;
      process.once('exit', () => {
        for (const cleanup of onProcessExit) cleanup();
      });
    }
  }
}

/** The environment of initdb and the server: this process's, in the C locale (a locale the machine lacks would stop initdb). */
function serverEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C', LANG: 'C' };
}

const onProcessExit = new Set<() => void>();
let exitListenerInstalled = false;
