/**
 * Runs `run` every `intervalMs`, never two at once (a round still running when the next is due
 * is not started again), on a timer that does not keep the process alive. The gateway's
 * background loops (failure sweeper, reconciler, housekeeping) each own one.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly intervalMs: number,
    /** Told about a round that failed (the next round runs all the same). */
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts the rounds (idempotent). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.run()
        .catch(this.onError)
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops, and waits for a round in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
