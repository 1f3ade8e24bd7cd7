// Every limit wirecat enforces, with its named default. Documented in README.md ("Limits").

/** Limits a Host applies to every service it runs. All sizes in bytes, all times in ms. */
export interface Limits {
  /** Connections open at once, over all stream endpoints; the next one is refused. */
  maxConnections: number;
  /** Connections open at once from one source address (IPv4-mapped IPv6 folded to IPv4). */
  maxConnectionsPerSource: number;
  /** A connection with no bytes either way for this long is closed. 0 disables. */
  idleTimeoutMs: number;
  /**
   * A client must send its whole request within this: a Gopher selector, an HTTP request head
   * (the whole request gets twice as long), a chat nickname. Then an error and a close: a client
   * that sends a byte every few seconds never trips the idle timeout (slowloris). 0 disables.
   */
  requestTimeoutMs: number;
  /** Longest line or message a line-based service accepts; longer gets an error line and a close. */
  maxLineBytes: number;
  /**
   * Unsent bytes for a peer that does not read. We stop reading from it long before (at the
   * socket's high-water mark); a service that goes on writing anyway is cut past this.
   */
  maxBufferedBytes: number;
  /** reverse/ack/stamp: a partial line is answered after the client is quiet this long. */
  flushDelayMs: number;
  /** Largest UDP reply we ever send. */
  maxDatagramReply: number;
  /** UDP replies one source address may get per second (token bucket, burst = rate). */
  udpRepliesPerSourcePerSec: number;
  /** Source addresses tracked by the UDP reply budget (least recently seen forgotten first). */
  udpSourcesTracked: number;
  /** On SIGINT/SIGTERM, in-flight exchanges get this long to finish before they are cut. */
  drainTimeoutMs: number;
}

/** The defaults: safe for a lab box, roomy enough for a test suite. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxConnections: 10_000,
  maxConnectionsPerSource: 1_000,
  idleTimeoutMs: 300_000,
  requestTimeoutMs: 30_000,
  maxLineBytes: 8_192,
  maxBufferedBytes: 1_048_576,
  flushDelayMs: 200,
  maxDatagramReply: 512,
  udpRepliesPerSourcePerSec: 1_000,
  udpSourcesTracked: 4_096,
  drainTimeoutMs: 5_000,
});

/** Fill the gaps in `partial` with the defaults. */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(partial) as (keyof Limits)[]) {
    const value = partial[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}
