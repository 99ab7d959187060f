import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from './find-executable.js';
import { findFreePort } from './free-port.js';
import { waitForRedisPing } from './redis-ping.js';

/** Options of {@link RedisServerProcess}. */
export interface RedisServerProcessOptions {
  /** Port to listen on; default a free loopback port chosen at the first `start()`. */
  port?: number;
  /** Data directory (kept on `stop()`); default a fresh temporary directory (removed on `stop()`). */
  dir?: string;
  /**
   * Extra `redis-server` arguments, appended after the defaults so they win, e.g.
   * `['--appendonly', 'yes', '--appendfsync', 'always']`.
   */
  args?: string[];
  /** The `redis-server` binary; default the one on `PATH`. */
  binary?: string;
  /** How long `start()` waits for `PING`; default 10 000 ms. */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';
const KILL_AFTER_MS = 2000;
const LOG_LINES = 30;

/**
 * A local `redis-server` child process bound to 127.0.0.1, for tests that need to crash and
 * restart Redis. Defaults: no RDB snapshots, no AOF, `maxmemory-policy noeviction`.
 *
 * @example
 * ```ts
 * const redis = new RedisServerProcess({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
 * await redis.start();
 * await redis.kill('SIGKILL');   // crash
 * await redis.restart();         // same port, same data directory: the AOF is replayed
 * await redis.stop();
 * ```
 */
export class RedisServerProcess {
  readonly #options: RedisServerProcessOptions;
  #port: number | undefined;
  #dir: string | undefined;
  #ownsDir = false;
  #child: ChildProcess | undefined;
  #alive = false;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];
  #onProcessExit: (() => void) | undefined;

  /** @param options - port, data directory, extra arguments */
  constructor(options: RedisServerProcessOptions = {}) {
    this.#options = options;
    this.#port = options.port;
    this.#dir = options.dir;
  }

  /** `127.0.0.1`. */
  get host(): string {
    return HOST;
  }

  /** The port; known once `start()` has run (or when given). */
  get port(): number {
    if (this.#port === undefined) throw new Error('RedisServerProcess: port is not known before start()');
    return this.#port;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  /** The process id while running, else `undefined`. */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  /** The data directory; known once `start()` has run (or when given). */
  get dir(): string | undefined {
    return this.#dir;
  }

  /** Whether the process is alive. */
  get running(): boolean {
    return this.#alive;
  }

  /** The last lines redis-server printed (for failure messages). */
  get recentLog(): readonly string[] {
    return this.#log;
  }

  /**
   * Starts redis-server and waits until it answers `PING`. A no-op when already running.
   *
   * @throws when redis-server is missing, exits, or does not answer in time
   */
  async start(): Promise<void> {
    if (this.running) return;
    const binary = this.#options.binary ?? findExecutable('redis-server');
    if (binary === undefined) throw new Error('redis-server not found on PATH (apt-get install redis-server)');
    if (this.#dir === undefined) {
      this.#dir = mkdtempSync(join(tmpdir(), 'handoff-redis-'));
      this.#ownsDir = true;
    }
    const fixedPort = this.#port !== undefined;
    for (let attempt = 1; ; attempt += 1) {
      this.#port ??= await findFreePort(HOST);
      try {
        await this.#spawnAndWait(binary, this.#port, this.#dir);
        return;
      } catch (err) {
        const portTaken = this.#log.some((line) => /address already in use/i.test(line));
        if (fixedPort || !portTaken || attempt >= 3) throw err;
        this.#port = undefined; // someone took the free port between probe and bind: pick another
      }
    }
  }

  /**
   * Sends a signal and waits until the process has exited. The data directory is kept, so
   * `restart()` can bring the same data back.
   *
   * @param signal - default `SIGKILL` (a crash)
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.#child?.kill(signal);
    await this.#exited;
  }

  /** Stops the process if it runs (SIGTERM, SIGKILL after 2 s) and starts it again on the same port and data directory, after `downMs`. */
  async restart(downMs = 0): Promise<void> {
    await this.#terminate();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  /** Stops the process (SIGTERM, then SIGKILL after 2 s) and removes the data directory if it made it. */
  async stop(): Promise<void> {
    await this.#terminate();
    this.#detachExitHook();
    if (this.#ownsDir && this.#dir !== undefined) {
      rmSync(this.#dir, { recursive: true, force: true });
      this.#dir = undefined;
      this.#ownsDir = false;
    }
  }

  async #terminate(): Promise<void> {
    if (!this.running) return;
    const child = this.#child;
    child?.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), KILL_AFTER_MS);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async #spawnAndWait(binary: string, port: number, dir: string): Promise<void> {
    const args = [
      '--port', String(port),
      '--bind', HOST,
      '--save', '',
      '--appendonly', 'no',
      '--maxmemory-policy', 'noeviction',
      '--dir', dir,
      ...(this.#options.args ?? []),
    ];
    this.#log = [];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#alive = true;
    let spawnError: Error | undefined;
    this.#exited = new Promise((resolve) => {
      const finish = (): void => {
        if (this.#child === child) this.#alive = false;
        resolve();
      };
      child.once('exit', finish);
      child.once('error', (err) => {
        spawnError = err;
        if (child.pid === undefined) finish(); // it never started, so no 'exit' will follow
      });
    });
    const collect = (data: Buffer): void => {
      for (const line of data.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.#log.push(line);
        if (this.#log.length > LOG_LINES) this.#log.shift();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.#attachExitHook();

    try {
      await waitForRedisPing(HOST, port, {
        timeoutMs: this.#options.startTimeoutMs ?? 10_000,
        abortReason: () => {
          if (spawnError) return `could not run ${binary}: ${spawnError.message}`;
          if (!this.#alive) {
            return `redis-server exited (${child.exitCode ?? child.signalCode}) during start: ${this.#log.slice(-5).join(' | ')}`;
          }
          return undefined;
        },
      });
    } catch (err) {
      if (this.running) {
        child.kill('SIGKILL');
        await this.#exited;
      }
      throw err;
    }
  }

  /** Makes sure a crashed or forgetful test run does not leave redis-server behind. */
  #attachExitHook(): void {
    if (this.#onProcessExit) return;
    this.#onProcessExit = () => {
      if (this.running) this.#child?.kill('SIGKILL');
      if (this.#ownsDir && this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    };
    onProcessExit.add(this.#onProcessExit);
    if (!exitListenerInstalled) {
      exitListenerInstalled = true;
      process.once('exit', () => {
        for (const cleanup of onProcessExit) cleanup();
      });
    }
  }

  #detachExitHook(): void {
    if (!this.#onProcessExit) return;
    onProcessExit.delete(this.#onProcessExit);
    this.#onProcessExit = undefined;
  }
}

/** Cleanups of every live instance, run by one shared `process.on('exit')` listener. */
const onProcessExit = new Set<() => void>();
let exitListenerInstalled = false;
