const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A one-line progress indicator for long commands, shown only on a terminal. */
export class Spinner {
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private text = '';

  constructor(private readonly enabled: boolean) {}

  /** Shows (or updates) the spinner with a message. */
  start(text: string): void {
    if (!this.enabled) return;
    this.text = text;
    this.timer ??= setInterval(() => this.draw(), 100);
    this.timer.unref();
    this.draw();
  }

  /** Erases it. */
  clear(): void {
    if (!this.enabled || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    process.stdout.write('\r\x1b[2K');
  }

  private draw(): void {
    process.stdout.write(`\r\x1b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.text}`);
  }
}
