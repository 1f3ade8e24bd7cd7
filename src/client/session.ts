// One client session on a connected stream (shared by `connect` and `listen`): the input's
// bytes go to the peer, the peer's bytes go to the output, our side half-closes (FIN) at the
// input's end, and the session ends when the peer closes. Binary-safe, with backpressure both
// ways. The interactive line mode (interactive.ts) plugs in instead of the raw byte pipe.

import { Readable, type Writable } from 'node:stream';
import { WirecatError } from '../errors.js';
import { monotonicMs } from '../monotonic.js';
import type { Conn, StreamHandler } from '../transport/conn.js';
import { type LineModeOptions, startLineMode } from './interactive.js';

/**
 * After the peer's FIN, how long our input may stay quiet before we end our side too.
 * Input that keeps flowing (a file being uploaded) is sent to its end.
 */
export const DEFAULT_HALF_CLOSE_GRACE_MS = 500;

/** With no `output`, the most bytes collected into `received`. */
export const DEFAULT_MAX_COLLECT_BYTES = 16 * 1_048_576;

/** What a session does with the connection. */
export interface SessionOptions {
  /** What to send: a stream (sent as it arrives, half-close at its end), bytes, or nothing (half-close at once). */
  input?: Readable | Buffer | string;
  /** Where received bytes go; when absent they are collected into `received`. */
  output?: Writable;
  /** Keep the write side open after the input ends (do not send FIN). Default false. */
  noHalfClose?: boolean;
  /** After the peer's FIN, end our side once the input has been quiet this long (default 500 ms). */
  halfCloseGraceMs?: number;
  /** Send every bare LF of the input as CRLF (HTTP, SMTP and friends by hand). Default false. */
  crlf?: boolean;
  /** Limit for `received` when no output is given. */
  maxCollectBytes?: number;
  /** Aborts the connection (the CLI's Ctrl-C). */
  signal?: AbortSignal;
  /**
   * Talk line by line on a terminal instead of piping bytes: a prompt with editing and
   * history, incoming text printed above it (control characters made visible).
   */
  lineMode?: LineModeOptions;
}

/** What happened on the connection. */
export interface SessionResult {
  /** The bytes received, when no `output` was given. */
  received?: Buffer;
  bytesSent: number;
  bytesReceived: number;
  /** 'peer' when the peer closed (or half-closed) first, 'us' when we did. */
  closedFirstBy: 'peer' | 'us' | undefined;
  /** Milliseconds from the start to the first FIN, RST or close (either side). */
  firstCloseMs?: number;
  durationMs: number;
}

/**
 * How a session moves data: `receive` takes the peer's bytes, `peerEnded` hears its FIN,
 * `stop` ends input when the connection is over. `start` begins sending.
 */
export interface SessionIo {
  start(conn: Conn): void;
  receive(conn: Conn, chunk: Buffer): void;
  peerEnded(conn: Conn): void;
  stop(): void;
  /** A failure the io itself caused (a collect overflow), reported instead of the socket's. */
  failure?: WirecatError;
  /** The reader of our output went away (`| head`): end quietly, as nc does. */
  outputGone?: boolean;
}

/**
 * Run a session on a started-fresh Conn and resolve when it closes (reject on a reset, an
 * idle timeout, an abort or an overflow).
 */
export function runSession(
  conn: Conn,
  options: SessionOptions,
  started = monotonicMs(),
): Promise<SessionResult> {
  const io = options.lineMode ? startLineMode(options.lineMode, options.crlf) : rawIo(options);
  return new Promise<SessionResult>((resolve, reject) => {
    const onAbort = () => conn.abort('WIRECAT_ABORTED');
    const handler: StreamHandler = {
      data: (c, chunk) => io.receive(c, chunk),
      end: (c) => io.peerEnded(c),
      close(c) {
        options.signal?.removeEventListener('abort', onAbort);
        io.stop();
        const failure = io.failure ?? (io.outputGone ? undefined : failureOf(c));
        if (failure) return reject(failure);
        resolve({
          received: (io as RawIo).collected?.(),
          bytesSent: c.bytesOut,
          bytesReceived: c.bytesIn,
          closedFirstBy: c.closedFirstBy,
          firstCloseMs: c.closedFirstAt === undefined ? undefined : c.closedFirstAt - started,
          durationMs: monotonicMs() - started,
        });
      },
    };
    if (options.signal?.aborted) queueMicrotask(onAbort);
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    conn.start(handler, true);
    io.start(conn);
  });
}

type RawIo = SessionIo & { collected?: () => Buffer };

/** The byte pipe: input → peer, peer → output (or a bounded collection). */
function rawIo(options: SessionOptions): RawIo {
  const { output } = options;
  const parts: Buffer[] = [];
  const maxCollect = options.maxCollectBytes ?? DEFAULT_MAX_COLLECT_BYTES;
  let collectedBytes = 0;
  let input: Readable | undefined;
  let conn: Conn | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const onOutputDrain = () => conn?.resumeReading();
  const io: RawIo = {
    start(c) {
      conn = c;
      output?.on('error', () => {
        io.outputGone = true;
        c.abort('OUTPUT_CLOSED');
      });
      input =
        typeof options.input === 'string' || Buffer.isBuffer(options.input)
          ? Readable.from([options.input])
          : options.input;
      if (input) pipeInput(c, input, options);
      else if (!options.noHalfClose) c.end();
    },
    receive(c, chunk) {
      if (output) {
        if (!output.write(chunk)) {
          c.pauseReading();
          output.once('drain', onOutputDrain);
        }
      } else if (collectedBytes + chunk.length > maxCollect) {
        io.failure = new WirecatError(
          'WIRECAT_BUFFER_LIMIT',
          `reply larger than ${maxCollect} bytes; pass an output stream`,
        );
        c.abort('WIRECAT_BUFFER_LIMIT');
      } else {
        parts.push(c.keep(chunk));
        collectedBytes += chunk.length;
      }
    },
    // The peer is done sending, but what we are still sending must not be cut (an upload to
    // a listener whose own stdin was empty). Input that is flowing keeps flowing and ends
    // with its EOF; input that stays quiet for the grace (an open terminal or pipe that
    // has nothing to say, say against daytime) ends our side too.
    peerEnded(c) {
      if (!input || input.readableEnded || options.noHalfClose) {
        io.stop();
        c.end();
        return;
      }
      const quietFor = options.halfCloseGraceMs ?? DEFAULT_HALF_CLOSE_GRACE_MS;
      graceTimer = setTimeout(() => {
        io.stop();
        c.end();
      }, quietFor);
      input.on('data', () => graceTimer?.refresh());
      input.once('end', () => clearTimeout(graceTimer));
    },
    stop() {
      clearTimeout(graceTimer);
      if (input) {
        input.removeAllListeners('data');
        input.pause();
      }
    },
    collected: output ? undefined : () => Buffer.concat(parts, collectedBytes),
  };
  return io;
}

/**
 * Send a readable's bytes through the Conn (counted, with the stream's backpressure) and
 * half-close at its end unless told not to. Used for one peer here and for many by `listen`.
 */
export function pipeInput(
  conn: Conn,
  input: Readable,
  options: { noHalfClose?: boolean; crlf?: boolean },
): void {
  const toCrlf = options.crlf ? crlfConverter() : undefined;
  input.on('data', (chunk: Buffer | string) => {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (toCrlf) bytes = toCrlf(bytes);
    if (!conn.write(bytes)) {
      input.pause();
      conn.socket.once('drain', () => input.resume());
    }
  });
  input.on('end', () => {
    if (!options.noHalfClose && !conn.isClosed) conn.end();
  });
  input.on('error', (err) => conn.abort('WIRECAT_IO', `input failed: ${err.message}`));
}

/** A stateful LF → CRLF converter (a CR ending one chunk pairs with an LF opening the next). */
export function crlfConverter(): (chunk: Buffer) => Buffer {
  let lastWasCr = false;
  return (chunk) => {
    let bare = 0;
    let prevCr = lastWasCr;
    for (const b of chunk) {
      if (b === 0x0a && !prevCr) bare++;
      prevCr = b === 0x0d;
    }
    const startCr = lastWasCr;
    lastWasCr = prevCr;
    if (bare === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + bare);
    let o = 0;
    prevCr = startCr;
    for (const b of chunk) {
      if (b === 0x0a && !prevCr) out[o++] = 0x0d;
      out[o++] = b;
      prevCr = b === 0x0d;
    }
    return out;
  };
}

/** The error a user sees for how the connection ended, or undefined for a clean end. */
export function failureOf(conn: Conn): WirecatError | undefined {
  switch (conn.failure) {
    case undefined:
      return undefined;
    case 'ECONNRESET':
    case 'EPIPE':
      return new WirecatError('WIRECAT_RESET', 'the peer reset the connection');
    case 'WIRECAT_IDLE_TIMEOUT':
      return new WirecatError('WIRECAT_IDLE_TIMEOUT', 'no traffic for the idle timeout; gave up');
    case 'WIRECAT_ABORTED':
      return new WirecatError('WIRECAT_ABORTED', 'aborted');
    default:
      return new WirecatError('WIRECAT_IO', `connection failed: ${conn.failure}`);
  }
}
