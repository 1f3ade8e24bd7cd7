// Per-client flood control: a token bucket (`burst` lines at once, refilled at
// `linesPerSecond`). A line over the rate is dropped and counts a strike; the first strike
// warns, the `floodStrikes`-th disconnects; strikes are forgiven once the bucket is full again.

/** What the bucket says about one line. */
export type FloodVerdict = 'ok' | 'warn' | 'drop' | 'disconnect';

export class FloodControl {
  private tokens: number;
  private last: number;
  private strikes = 0;

  constructor(
    private readonly linesPerSecond: number,
    private readonly burst: number,
    private readonly maxStrikes: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.tokens = burst;
    this.last = this.now();
  }

  /** Take a token for one line. */
  take(): FloodVerdict {
    const now = this.now();
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.last) * this.linesPerSecond) / 1000,
    );
    this.last = now;
    if (this.tokens >= this.burst) this.strikes = 0;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    this.strikes++;
    if (this.strikes >= this.maxStrikes) return 'disconnect';
    return this.strikes === 1 ? 'warn' : 'drop';
  }
}
