// The live progress display of `evident run` on a terminal (issue #6 item 2): one status line on stderr,
// redrawn in place, under the result lines. Off a terminal nothing of this is drawn: plain lines only.

export interface ProgressTarget {
  write(text: string): unknown;
  columns?: number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class ProgressDisplay {
  private readonly running = new Map<string, number>();
  private done = 0;
  private frame = 0;
  private shown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly status: ProgressTarget,
    private readonly total: number,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  started(step: string): void {
    this.running.set(step, this.now());
    this.draw();
  }

  /** Prints a result line (through `print`) above the status line. */
  finished(step: string, print: () => void): void {
    this.running.delete(step);
    this.done++;
    this.clear();
    print();
    this.draw();
  }

  /** Prints anything else (a warning) above the status line. */
  above(print: () => void): void {
    this.clear();
    print();
    this.draw();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private clear(): void {
    if (this.shown) this.status.write('\r\x1b[2K');
    this.shown = false;
  }

  private draw(): void {
    if (!this.timer) return;
    const now = this.now();
    const names = [...this.running].map(([name, t]) => `${name} ${Math.floor((now - t) / 1000)}s`);
    const text = `${FRAMES[this.frame++ % FRAMES.length]} ${this.done}/${this.total} done${names.length > 0 ? ` · running: ${names.join(', ')}` : ''}`;
    const width = Math.max(20, (this.status.columns || 80) - 1);
    this.status.write(`\r\x1b[2K${text.length > width ? text.slice(0, width - 1) + '…' : text}`);
    this.shown = true;
  }
}
