/**
 * Progress on stderr: a bar redrawn in place on a terminal, a plain line every few seconds
 * otherwise (a log file or a pipe). Measured in bytes of the file, the one total known
 * before the end; rows and rows per second beside it.
 */
export interface ProgressOptions {
  label: string;
  totalBytes: number;
  /** Monotonic milliseconds (performance.now in the command, a fake in tests). */
  now: () => number;
  tty: boolean;
  columns?: number;
  /** Between plain lines when not on a terminal. */
  intervalMs?: number;
  /** What is counted (default 'rows'). */
  unit?: string;
}

// Not toLocaleString: its first call loads locale data (~100 ms).
export const thousands = (v: number): string => String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export class Progress {
  readonly #out: NodeJS.WritableStream;
  readonly #o: ProgressOptions;
  readonly #start: number;
  #last = -Infinity;
  #drawn = false;
  #lastRows = -1;
  #fromBytes = 0;
  constructor(out: NodeJS.WritableStream, options: ProgressOptions) {
    this.#out = out;
    this.#o = options;
    this.#start = options.now();
  }

  update(bytes: number, rows: number, force = false): void {
    const now = this.#o.now();
    const every = this.#o.tty ? 100 : (this.#o.intervalMs ?? 5000);
    if (!force && now - this.#last < every) return;
    // The closing update repeats nothing a plain line already said.
    if (force && !this.#o.tty && rows === this.#lastRows) return;
    this.#last = now;
    this.#lastRows = rows;
    const total = Math.max(this.#o.totalBytes, 1);
    const fraction = Math.min(1, bytes / total);
    const elapsed = (now - this.#start) / 1000;
    const rate = elapsed > 0 ? rows / elapsed : 0;
    // From what this run read: a resumed run starts part-way through the file.
    const done = bytes - this.#fromBytes;
    const eta = done > 0 && fraction < 1 ? (elapsed / done) * (total - bytes) : 0;
    const pct = `${(fraction * 100).toFixed(0).padStart(3)}%`;
    const unit = this.#o.unit ?? 'rows';
    const tail = `${pct} · ${thousands(rows)} ${unit} · ${thousands(rate)} ${unit}/s${fraction < 1 ? ` · ${duration(eta)} left` : ''}`;
    if (!this.#o.tty) {
      this.#out.write(`${this.#o.label}: ${tail}\n`);
      return;
    }
    const width = Math.max(10, Math.min(40, (this.#o.columns ?? 80) - this.#o.label.length - tail.length - 6));
    const filled = Math.round(fraction * width);
    this.#out.write(`\r\x1b[K${this.#o.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tail}`);
    this.#drawn = true;
  }

  /** Where this run's own reading starts (after the rows a resumed run skips). */
  startAt(bytes: number): void {
    this.#fromBytes = bytes;
  }

  /** Clears the bar so that a message can be printed; the next update draws it again at once. */
  clear(): void {
    if (!this.#drawn) return;
    this.#out.write('\r\x1b[K');
    this.#drawn = false;
    this.#last = -Infinity;
  }

  /** Leaves the line (a message printed next does not land on the bar). */
  end(): void {
    if (this.#drawn) this.#out.write('\n');
    this.#drawn = false;
  }
}
