// The listening client (`wirecat listen`, what `nc -l` does): wait for a connection and run
// the same session as `connect` on it — one connection by default, then stop listening; with
// `keepOpen`, many at once (each one's bytes to the output, the input broadcast to all).
// UDP listening is in listen-udp.ts. Default bind: loopback.

import type net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { WirecatError } from '../errors.js';
import { monotonicMs } from '../monotonic.js';
import type { Conn, StreamHandler } from '../transport/conn.js';
import { type Endpoint, formatEndpoint, parseEndpoint } from '../transport/endpoint.js';
import { listenStream } from '../transport/listen.js';
import { clientConn } from './connect.js';
import { IncomingText, LinePrompt } from './interactive.js';
import { type ListenUdpOptions, listenUdp } from './listen-udp.js';
import { crlfConverter, failureOf, runSession, type SessionOptions } from './session.js';

/** With `keepOpen`: connections open at once; more are refused (closed at once). */
export const DEFAULT_LISTEN_MAX_CLIENTS = 100;

/** Options for `listen`. */
export interface ListenOptions extends SessionOptions, ListenUdpOptions {
  /** Accept many connections (until aborted) instead of one. Default false. */
  keepOpen?: boolean;
  /** With keepOpen: connections open at once (default DEFAULT_LISTEN_MAX_CLIENTS). */
  maxClients?: number;
  /** No traffic on a connection for this long closes it (default 5 minutes; 0 disables). */
  idleTimeoutMs?: number;
  /** TLS endpoints: the certificate and key to present. */
  tls?: Parameters<typeof listenStream>[3];
  /** Hears what happens, as sentences: "connection from 127.0.0.1:5555", "… closed". */
  onNotice?: (text: string) => void;
}

/** What a listener did. */
export interface ListenResult {
  /** Connections accepted (UDP: peers heard from). */
  peers: number;
  bytesSent: number;
  bytesReceived: number;
  /** One connection: who closed first. */
  closedFirstBy?: 'peer' | 'us';
  /** The bytes received when no `output` was given (one connection only). */
  received?: Buffer;
  durationMs: number;
}

/** A listener: where it is bound, and a promise for how it ended. */
export interface Listener {
  /** The bound endpoint with its real port. */
  bound: Endpoint;
  /** `bound` as text, e.g. `tcp://127.0.0.1:40123`. */
  address: string;
  /** Settles when the listener is done: its one connection closed, or it was aborted. */
  done: Promise<ListenResult>;
  /** Stop: no more connections; open ones are cut (the same as aborting `signal`). */
  close(): void;
}

type Started = Omit<Listener, 'close'>;

/**
 * Listen on an endpoint (TCP, TLS, Unix or UDP). Resolves once bound; `done` settles when
 * the listener has finished. One stream connection by default, many with `keepOpen`; UDP
 * always serves many peers (see listen-udp.ts).
 *
 * @example
 * const listener = await listen('tcp://127.0.0.1:0', { input: 'hi\n' });
 * // a peer connects to listener.address, gets "hi\n", sends bytes and closes
 * const { received } = await listener.done;
 */
export async function listen(
  target: string | Endpoint,
  options: ListenOptions = {},
): Promise<Listener> {
  const endpoint = typeof target === 'string' ? parseEndpoint(target) : target;
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (options.signal?.aborted) abort();
  else options.signal?.addEventListener('abort', abort, { once: true });
  const own = { ...options, signal: controller.signal };
  const started =
    endpoint.transport === 'udp'
      ? await listenUdp(endpoint, own)
      : options.keepOpen
        ? await listenMany(endpoint, own)
        : await listenOnce(endpoint, own);
  started.done.finally(() => options.signal?.removeEventListener('abort', abort)).catch(() => {});
  return { ...started, close: abort };
}

function closeServer(server: net.Server): void {
  if (server.listening) server.close();
}

/** One connection: accept it, stop listening, run the session on it. */
async function listenOnce(endpoint: Endpoint, options: ListenOptions): Promise<Started> {
  let accepted: (socket: net.Socket) => void = () => {};
  const first = new Promise<net.Socket>((resolve) => {
    accepted = resolve;
  });
  const started = monotonicMs();
  const { server, bound } = await listenStream(
    endpoint,
    (socket) => {
      if (server.listening) {
        closeServer(server);
        accepted(socket);
      } else socket.destroy();
    },
    undefined,
    options.tls,
  );
  const done = new Promise<ListenResult>((resolve, reject) => {
    const onAbort = () => {
      closeServer(server);
      reject(new WirecatError('WIRECAT_ABORTED', 'aborted before a connection arrived'));
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    first.then((socket) => {
      options.signal?.removeEventListener('abort', onAbort);
      const conn = clientConn(socket.resume(), endpoint, 'listen', options.idleTimeoutMs);
      options.onNotice?.(`connection from ${conn.remote}`);
      runSession(conn, options, started).then(
        (r) => resolve({ ...r, peers: 1, closedFirstBy: r.closedFirstBy }),
        reject,
      );
    });
  });
  return { bound, address: formatEndpoint(bound), done };
}

/**
 * Many connections: each one's bytes go to the output (with backpressure: a full output
 * pauses every connection), the input goes to all of them (paused while any is behind).
 * At the input's end every connection is half-closed, and later ones right after accept.
 */
async function listenMany(endpoint: Endpoint, options: ListenOptions): Promise<Started> {
  const started = monotonicMs();
  const maxClients = options.maxClients ?? DEFAULT_LISTEN_MAX_CLIENTS;
  const open = new Set<Conn>();
  const totals = { peers: 0, bytesSent: 0, bytesReceived: 0 };
  const fanIn = new FanIn(options.output, open);
  let finish: (result: ListenResult) => void = () => {};
  const done = new Promise<ListenResult>((resolve) => {
    finish = resolve;
  });
  const notice = (text: string) => fanIn.notice(text) || options.onNotice?.(text);
  let inputEnded = !options.input;
  let stopping = false;
  const endWhenIdle = () => {
    if (stopping && open.size === 0) {
      closeServer(server);
      fanIn.close();
      finish({ ...totals, durationMs: monotonicMs() - started });
    }
  };
  const handler: StreamHandler = {
    data: (conn, chunk) => fanIn.receive(conn, chunk),
    end(conn) {
      fanIn.peerEnded(conn);
      conn.end();
    },
    close(conn) {
      open.delete(conn);
      totals.bytesSent += conn.bytesOut;
      totals.bytesReceived += conn.bytesIn;
      const why = failureOf(conn);
      notice(`${conn.remote} closed${why ? ` (${why.message})` : ''}`);
      fanIn.peerEnded(conn);
      broadcast.peerGone();
      endWhenIdle();
    },
  };
  const { server, bound } = await listenStream(
    endpoint,
    (socket) => {
      if (stopping || open.size >= maxClients) {
        socket.destroy();
        return;
      }
      const conn = clientConn(socket.resume(), endpoint, 'listen', options.idleTimeoutMs);
      open.add(conn);
      totals.peers++;
      conn.start(handler);
      notice(`connection from ${conn.remote} (${open.size} open)`);
      if (inputEnded && !options.noHalfClose) conn.end();
    },
    undefined,
    options.tls,
  );
  const stop = (abort: boolean) => {
    stopping = true;
    closeServer(server);
    for (const conn of open) abort ? conn.abort('WIRECAT_ABORTED') : conn.end();
    endWhenIdle();
  };
  const broadcast = new Broadcast(open, options, () => {
    inputEnded = true;
  });
  if (options.lineMode) fanIn.useLineMode(options, broadcast, stop);
  else broadcast.pipe();
  if (options.signal?.aborted) stop(true);
  options.signal?.addEventListener('abort', () => stop(true), { once: true });
  return { bound, address: formatEndpoint(bound), done };
}

/** Many connections into one output: raw bytes, or labelled lines above the prompt. */
class FanIn {
  private readonly paused = new Set<Conn>();
  private waitingForDrain = false;
  private readonly texts = new Map<Conn, IncomingText>();
  private prompt: LinePrompt | undefined;

  constructor(
    private readonly output: Writable | undefined,
    private readonly open: Set<Conn>,
  ) {}

  useLineMode(options: ListenOptions, broadcast: Broadcast, stop: (abort: boolean) => void): void {
    const eol = options.crlf ? '\r\n' : '\n';
    this.prompt = new LinePrompt(options.lineMode!, {
      onLine: (line) => broadcast.send(Buffer.from(line + eol)),
      onEnd: () => stop(false),
      onInterrupt: () => stop(true),
    });
  }

  receive(conn: Conn, chunk: Buffer): void {
    if (this.prompt) {
      let text = this.texts.get(conn);
      if (!text) {
        const prompt = this.prompt;
        text = new IncomingText((t) => prompt.print(t), `[${conn.remote}] `);
        this.texts.set(conn, text);
      }
      text.push(chunk);
      return;
    }
    if (!this.output || this.output.write(chunk)) return;
    // The output is full: every connection waits for it, so none can grow our memory.
    for (const c of this.open) {
      c.pauseReading();
      this.paused.add(c);
    }
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.output.once('drain', () => {
        this.waitingForDrain = false;
        for (const c of this.paused) c.resumeReading();
        this.paused.clear();
      });
    }
  }

  peerEnded(conn: Conn): void {
    this.texts.get(conn)?.flush();
    this.texts.delete(conn);
    this.paused.delete(conn);
  }

  /** Show a notice above the prompt; false when there is no prompt. */
  notice(text: string): boolean {
    this.prompt?.print(`(${text})\n`);
    return this.prompt !== undefined;
  }

  /** The listener is done: stop prompting. */
  close(): void {
    this.prompt?.close();
  }
}

/** The input, sent to every open connection; paused while any of them is behind. */
class Broadcast {
  private readonly behind = new Set<Conn>();
  private readonly toCrlf: ((chunk: Buffer) => Buffer) | undefined;
  private readonly input: Readable | undefined;

  constructor(
    private readonly open: Set<Conn>,
    private readonly options: ListenOptions,
    private readonly onInputEnd: () => void,
  ) {
    this.toCrlf = options.crlf && !options.lineMode ? crlfConverter() : undefined;
    const { input } = options;
    this.input =
      input === undefined || typeof input === 'string' || Buffer.isBuffer(input)
        ? undefined
        : input;
  }

  /** Feed the input stream to everyone (raw mode). */
  pipe(): void {
    const { input } = this.options;
    if (typeof input === 'string' || Buffer.isBuffer(input)) {
      this.send(Buffer.from(input));
      this.ended();
      return;
    }
    if (!input) {
      this.ended();
      return;
    }
    input.on('data', (chunk: Buffer | string) =>
      this.send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk),
    );
    input.on('end', () => this.ended());
  }

  send(chunk: Buffer): void {
    const bytes = this.toCrlf ? this.toCrlf(chunk) : chunk;
    for (const conn of this.open) {
      if (!conn.write(bytes) && !this.behind.has(conn)) {
        this.behind.add(conn);
        conn.socket.once('drain', () => this.caughtUp(conn));
      }
    }
    if (this.behind.size > 0) this.input?.pause();
  }

  /** A connection closed: it no longer holds the input back. */
  peerGone(): void {
    for (const conn of this.behind) if (conn.isClosed) this.caughtUp(conn);
  }

  private caughtUp(conn: Conn): void {
    this.behind.delete(conn);
    if (this.behind.size === 0) this.input?.resume();
  }

  private ended(): void {
    this.onInputEnd();
    if (this.options.noHalfClose) return;
    for (const conn of this.open) conn.end();
  }
}
