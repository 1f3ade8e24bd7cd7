// The one-shot stream client (`wirecat connect`): input goes to the socket; at the input's
// end we half-close (FIN) and keep reading until the peer closes; what arrives goes to the
// output unchanged. Binary-safe, with backpressure both ways.

import { Readable, type Writable } from 'node:stream';
import { WirecatError } from '../errors.js';
import { Conn, type StreamHandler } from '../transport/conn.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, dialStream } from '../transport/dial.js';
import { type Endpoint, parseEndpoint } from '../transport/endpoint.js';

/** The client's idle timeout when none is given: no traffic either way for this long ends it. */
export const DEFAULT_CLIENT_IDLE_TIMEOUT_MS = 300_000;
/** With no `output`, the most bytes collected into `received`. */
export const DEFAULT_MAX_COLLECT_BYTES = 16 * 1_048_576;

/** Options for `connect`. */
export interface ConnectOptions {
  /** What to send: a stream (sent as it arrives, half-close at its end), bytes, or nothing (half-close at once). */
  input?: Readable | Buffer | string;
  /** Where received bytes go; when absent they are collected into `received`. */
  output?: Writable;
  /** Keep the write side open after the input ends (do not send FIN). Default false. */
  noHalfClose?: boolean;
  connectTimeoutMs?: number;
  /** No traffic either way for this long ends the connection with WIRECAT_IDLE_TIMEOUT. 0 disables. */
  idleTimeoutMs?: number;
  /** Limit for `received` when no output is given. */
  maxCollectBytes?: number;
  /** Aborts the connection (the CLI's Ctrl-C). */
  signal?: AbortSignal;
}

/** What happened on the connection. */
export interface ConnectResult {
  /** The bytes received, when no `output` was given. */
  received?: Buffer;
  bytesSent: number;
  bytesReceived: number;
  /** 'peer' when the server closed (or half-closed) first, 'us' when we did. */
  closedFirstBy: 'peer' | 'us' | undefined;
  durationMs: number;
}

/**
 * Connect, send, half-close, read to the end.
 *
 * @example
 * const { received } = await connect('tcp://127.0.0.1:10007', { input: 'hello\n' });
 * received?.toString(); // 'hello\n'
 */
export async function connect(
  target: string | Endpoint,
  options: ConnectOptions = {},
): Promise<ConnectResult> {
  const endpoint = typeof target === 'string' ? parseEndpoint(target) : target;
  const started = performance.now();
  const socket = await dialStream(endpoint, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const conn = Conn.wrap(socket, endpoint.transport === 'unix' ? 'unix' : 'tcp', {
    service: 'connect',
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_CLIENT_IDLE_TIMEOUT_MS,
    maxBufferedBytes: Number.POSITIVE_INFINITY,
    readWhileBlocked: true,
  });
  const { output } = options;
  const collected: Buffer[] = [];
  const maxCollect = options.maxCollectBytes ?? DEFAULT_MAX_COLLECT_BYTES;
  let collectedBytes = 0;

  return new Promise<ConnectResult>((resolve, reject) => {
    let overflow: WirecatError | undefined;
    const onOutputDrain = () => conn.resumeReading();
    const handler: StreamHandler = {
      data(c, chunk) {
        if (output) {
          if (!output.write(chunk)) {
            c.pauseReading();
            output.once('drain', onOutputDrain);
          }
        } else if (collectedBytes + chunk.length > maxCollect) {
          overflow = new WirecatError(
            'WIRECAT_BUFFER_LIMIT',
            `reply larger than ${maxCollect} bytes; pass an output stream`,
          );
          c.abort('WIRECAT_BUFFER_LIMIT');
        } else {
          collected.push(c.keep(chunk));
          collectedBytes += chunk.length;
        }
      },
      // The peer is done sending: we are done too, whether or not our input has ended.
      end(c) {
        stopInput();
        c.end();
      },
      close(c) {
        options.signal?.removeEventListener('abort', onAbort);
        stopInput();
        const failure = overflow ?? (outputGone ? undefined : failureOf(c));
        if (failure) return reject(failure);
        resolve({
          received: output ? undefined : Buffer.concat(collected, collectedBytes),
          bytesSent: c.bytesOut,
          bytesReceived: c.bytesIn,
          closedFirstBy: c.closedFirstBy,
          durationMs: performance.now() - started,
        });
      },
    };
    const stopInput = () => {
      if (input) {
        input.removeAllListeners('data');
        input.pause();
      }
    };
    const onAbort = () => conn.abort('WIRECAT_ABORTED');
    // The reader of our output went away (`| head`): nothing more can be delivered, so end
    // quietly, as nc does, instead of failing on EPIPE.
    let outputGone = false;
    output?.on('error', () => {
      outputGone = true;
      conn.abort('OUTPUT_CLOSED');
    });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    conn.start(handler, true);

    const input =
      typeof options.input === 'string' || Buffer.isBuffer(options.input)
        ? Readable.from([options.input])
        : options.input;
    if (!input) {
      if (!options.noHalfClose) conn.end();
      return;
    }
    // Count what we send through the Conn, keeping the stream's backpressure.
    input.on('data', (chunk: Buffer) => {
      if (!conn.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) {
        input.pause();
        socket.once('drain', () => input.resume());
      }
    });
    input.on('end', () => {
      if (!options.noHalfClose && !conn.isClosed) conn.end();
    });
    input.on('error', (err) => conn.abort('WIRECAT_IO', `input failed: ${err.message}`));
  });
}

function failureOf(conn: Conn): WirecatError | undefined {
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
