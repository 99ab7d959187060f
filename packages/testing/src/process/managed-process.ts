import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Options of {@link ManagedProcess.start}. */
export interface ManagedProcessOptions {
  /** A short name used in errors. */
  name: string;
  command: string;
  args: readonly string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Resolve `start` once a line of stdout or stderr matches this. Without it, `start` resolves once spawned. */
  readyPattern?: RegExp;
  /** @defaultValue 20 000 */
  readyTimeoutMs?: number;
  /** Called with every output line. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Lines of output kept for error messages. @defaultValue 200 */
  keepLines?: number;
}

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Children still running; whatever a test left behind (a hook that timed out, say) is killed when this process exits. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLeftoversOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * A child process for tests and demos: started and awaited until it says it is ready, its recent
 * output kept for error messages, stopped with SIGTERM then SIGKILL, or killed with any signal.
 * None outlives the process that started it: those still running when it exits are killed.
 */
export class ManagedProcess {
  /** Recent output lines, oldest first. */
  readonly lines: string[] = [];
  /** Settles when the process exits. */
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;
  private readonly listeners = new Set<(line: string) => void>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly options: ManagedProcessOptions,
  ) {
    running.add(child);
    killLeftoversOnExit();
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    const keep = options.keepLines ?? 200;
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      createInterface({ input: source }).on('line', (line) => {
        this.lines.push(line);
        if (this.lines.length > keep) this.lines.shift();
        options.onLine?.(line, stream);
        for (const listener of this.listeners) listener(line);
      });
    }
  }

  /** Starts a process and waits until it is ready. @throws when it exits or times out first. */
  static async start(options: ManagedProcessOptions): Promise<ManagedProcess> {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const managed = new ManagedProcess(child, options);
    if (options.readyPattern) await managed.waitForLine(options.readyPattern, options.readyTimeoutMs ?? 20_000, { includePast: true });
    return managed;
  }

  /**
   * Waits for an output line matching `pattern` (by default only lines printed from now on).
   * @throws when the process exits or the time runs out first; the error shows the last output.
   */
  waitForLine(pattern: RegExp, timeoutMs = 20_000, options: { includePast?: boolean } = {}): Promise<string> {
    const past = options.includePast ? this.lines.find((line) => pattern.test(line)) : undefined;
    if (past !== undefined) return Promise.resolve(past);
    return new Promise<string>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (line: string) => {
        if (!pattern.test(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`printed no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(listener);
      void this.exited.then((exit) => {
        if (!this.listeners.has(listener)) return;
        done();
        reject(this.failure(`exited (code ${exit.code}, signal ${exit.signal}) before printing a line matching ${pattern}`));
      });
    });
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT, SIGTERM…). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  /** Stops the process: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<ProcessExit> {
    if (!this.running) return this.exitInfo as ProcessExit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  private failure(what: string): Error {
    return new Error(`${this.options.name} ${what}. Last output:\n${this.lines.slice(-30).join('\n')}`);
  }
}
