// Fault injection for `wirecat relay` (a small toxiproxy): composable stages that turn each
// chunk (or datagram) into timed pieces — drop, cut off after N bytes (then reset or stall),
// rate-limit with a token bucket, delay with jitter. Order is always kept.

/** What to do to the traffic, per direction. Every field is off when absent. */
export interface FaultOptions {
  /** Hold every chunk this long before forwarding it. */
  delayMs?: number;
  /** Add a random ±jitter to the delay (never reordering: a piece never overtakes the previous one). */
  jitterMs?: number;
  /** Forward at most this many bytes per second (a token bucket with a 20 ms burst). */
  rateBytesPerSec?: number;
  /** UDP: drop this percentage of datagrams (0–100). */
  dropPercent?: number;
  /** Forward this many bytes, then reset the connection (RST to both sides). */
  resetAfterBytes?: number;
  /** Forward this many bytes, then stop forwarding and reading, keeping the connection open. */
  stallAfterBytes?: number;
  /** Which way the faults apply: from A to B, from B to A, or both (default both). */
  direction?: 'both' | 'to-b' | 'to-a';
  /** The random source for jitter and drop (tests pin it). Default Math.random. */
  random?: () => number;
}

/** A piece of the stream to forward at time `at` (ms, performance.now()), then maybe act. */
export interface Piece {
  data: Buffer;
  at: number;
  /** After this piece is forwarded: reset the connection, or stall it. */
  after?: 'reset' | 'stall';
}

/** One stage: pieces in (in order), pieces out (in order, possibly fewer, split or later). */
export type FaultStage = (pieces: Piece[]) => Piece[];

/** The rate limiter lets at most this many milliseconds' worth of bytes out at once. */
export const RATE_BURST_MS = 20;
/** Pieces a rate-limited stream is cut into are never larger than this. */
export const RATE_MAX_PIECE_BYTES = 16_384;

/** Drop whole datagrams with probability `percent`/100. */
export function dropStage(percent: number, random: () => number): FaultStage {
  return (pieces) => pieces.filter(() => random() * 100 >= percent);
}

/** Let `limit` bytes through in all, then nothing; the piece that reaches the limit carries `then`. */
export function cutStage(limit: number, then: 'reset' | 'stall'): FaultStage {
  let passed = 0;
  let done = false;
  return (pieces) => {
    const out: Piece[] = [];
    for (const p of pieces) {
      if (done) break;
      const room = limit - passed;
      if (p.data.length < room) {
        passed += p.data.length;
        out.push(p);
        continue;
      }
      passed = limit;
      done = true;
      out.push({ ...p, data: p.data.subarray(0, room), after: then });
    }
    return out;
  };
}

/**
 * Token bucket: bytes leave at `bytesPerSec` on average. Stream pieces are split so each
 * holds at most RATE_BURST_MS worth (the output is smooth); datagrams are never split.
 */
export function rateStage(bytesPerSec: number, splitStreams: boolean): FaultStage {
  let busyUntil = 0;
  const maxPiece = Math.max(
    1,
    Math.min(RATE_MAX_PIECE_BYTES, Math.floor((bytesPerSec * RATE_BURST_MS) / 1000)),
  );
  return (pieces) => {
    const out: Piece[] = [];
    for (const p of pieces) {
      const step = splitStreams ? maxPiece : Math.max(1, p.data.length);
      for (let i = 0; i < p.data.length || i === 0; i += step) {
        const data = p.data.subarray(i, i + step);
        const at = Math.max(p.at, busyUntil);
        busyUntil = at + (data.length * 1000) / bytesPerSec;
        const last = i + step >= p.data.length;
        out.push({ data, at, after: last ? p.after : undefined });
        if (p.data.length === 0) break;
      }
    }
    return out;
  };
}

/** Add `delayMs` ± `jitterMs` to every piece, never letting one overtake the one before. */
export function delayStage(delayMs: number, jitterMs: number, random: () => number): FaultStage {
  let lastAt = 0;
  return (pieces) =>
    pieces.map((p) => {
      const jitter = jitterMs ? (random() * 2 - 1) * jitterMs : 0;
      const at = Math.max(lastAt, p.at + Math.max(0, delayMs + jitter));
      lastAt = at;
      return { ...p, at };
    });
}

/**
 * The stages for one direction, in the order they act: drop, reset/stall cut-off, rate,
 * delay. Undefined when no fault applies (the relay then forwards directly).
 *
 * @example
 * const line = faultLine({ rateBytesPerSec: 10_000, delayMs: 50 }, { datagrams: false });
 * line?.([{ data: chunk, at: performance.now() }]); // pieces with release times
 */
export function faultLine(
  options: FaultOptions,
  shape: { datagrams: boolean },
): FaultStage | undefined {
  const random = options.random ?? Math.random;
  const stages: FaultStage[] = [];
  if (options.dropPercent && shape.datagrams) stages.push(dropStage(options.dropPercent, random));
  if (options.resetAfterBytes !== undefined)
    stages.push(cutStage(options.resetAfterBytes, 'reset'));
  if (options.stallAfterBytes !== undefined)
    stages.push(cutStage(options.stallAfterBytes, 'stall'));
  if (options.rateBytesPerSec) stages.push(rateStage(options.rateBytesPerSec, !shape.datagrams));
  if (options.delayMs || options.jitterMs)
    stages.push(delayStage(options.delayMs ?? 0, options.jitterMs ?? 0, random));
  if (stages.length === 0) return undefined;
  return (pieces) => stages.reduce((acc, stage) => stage(acc), pieces);
}

/** True when the faults apply to traffic going `toward` ('b' = from A to B). */
export function appliesToward(options: FaultOptions, toward: 'a' | 'b'): boolean {
  const d = options.direction ?? 'both';
  return d === 'both' || d === `to-${toward}`;
}
