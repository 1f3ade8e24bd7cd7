// A stream connection (TCP, Unix, TLS): counts bytes, enforces the write-buffer bound,
// turns "peer is not reading" into "we stop reading", and publishes lifecycle events.

import net from 'node:net';
import { WirecatError, type WirecatErrorCode } from '../errors.js';
import { monotonicMs } from '../monotonic.js';
import { channels, publish, type SocketEventType } from '../observe/channels.js';
import { formatHostPort, normalizeAddress } from './endpoint.js';
import { lingerThenCut, stopLinger } from './linger.js';
import { resetOrDestroy } from './reset.js';

/**
 * What a service does with a connection. Every method receives the connection, so a
 * stateless service can share one handler object between all of them.
 */
export interface StreamHandler {
  /** Bytes arrived. `chunk` may be borrowed (valid only during this call): use `conn.keep(chunk)`. */
  data?(conn: Conn, chunk: Buffer): void;
  /** The peer half-closed. Finish replying, then `conn.end()`. Default: `conn.end()` at once. */
  end?(conn: Conn): void;
  /**
   * The server is stopping: send what is still owed (a partial line), then `conn.end()`.
   * Default: `conn.end()` at once.
   */
  shutdown?(conn: Conn): void;
  /** The peer caught up after `write()` returned false; reading has resumed. */
  drain?(conn: Conn): void;
  /** The connection is gone (either side). Release timers and state here. */
  close?(conn: Conn): void;
}

/** Options for a Conn. */
export interface ConnOptions {
  /** Bytes we may hold unsent for a peer that does not read before the connection is cut. */
  maxBufferedBytes?: number;
  /** Close after this long with no traffic either way. 0 disables. */
  idleTimeoutMs?: number;
  /** The service name, for events and the trace. */
  service?: string;
  /**
   * Keep reading while our writes wait for the peer. A server stops reading from a peer that
   * does not read (bounded memory); a client must go on reading, or both sides can block.
   */
  readWhileBlocked?: boolean;
  /** The peer's address when the caller already knows it (saves a lookup). */
  remoteAddress?: string;
  /** How to print our side when the socket cannot say (unix sockets: `unix:/path`). */
  localLabel?: string;
}

const kConn = Symbol('wirecat.conn');
type OwnedSocket = net.Socket & { [kConn]?: Conn };

/** How long `refuse` waits for the peer to close after our last line before cutting it. */
export const REFUSE_LINGER_MS = 2_000;

const IGNORE_INPUT: StreamHandler = { end: () => {} };

/** Default for ConnOptions.maxBufferedBytes. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1_048_576;

// Every accepted plain socket reads into this one buffer (the `onread` option), the way an
// epoll server reuses one read buffer: no allocation and no stream machinery per read.
// Safe because a read is handed to the service and consumed synchronously; anything a
// service keeps or writes later it must copy (`conn.keep`).
const SHARED_READ_BUFFER = Buffer.allocUnsafe(65_536);

let nextId = 1;

/** One stream connection. Create with `Conn.accept`, `Conn.adopt` or `Conn.wrap`. */
export class Conn {
  readonly id = nextId++;
  readonly socket: net.Socket;
  readonly transport: 'tcp' | 'unix' | 'tls';
  readonly service: string;
  /** True when chunks passed to `data` live in a shared buffer and must be copied to be kept. */
  readonly readsBorrowed: boolean;
  bytesIn = 0;
  bytesOut = 0;
  /** When the connection was opened (ms since the epoch). */
  readonly openedAt = Date.now();
  /** Who closed first: 'peer' once we saw its FIN/RST, 'us' once we ended; undefined while open. */
  closedFirstBy: 'peer' | 'us' | undefined;
  /** When the first FIN, RST or close happened (monotonicMs()). */
  closedFirstAt: number | undefined;
  /** The reason code of an abnormal end (ECONNRESET, WIRECAT_IDLE_TIMEOUT, …). */
  failure: string | undefined;
  /** Called once when the socket is closed; the Host uses it to release the slot. */
  onClosed: ((conn: Conn) => void) | undefined;

  private handler: StreamHandler = {};
  private readonly maxBufferedBytes: number;
  private heldForDrain = false;
  private readonly readWhileBlocked: boolean;
  private readonly localLabel: string | undefined;
  private localText: string | undefined;
  private remoteAddressText: string | undefined;
  private remoteText: string | undefined;
  private pausedByService = false;
  private closed = false;

  private constructor(
    socket: net.Socket,
    transport: 'tcp' | 'unix' | 'tls',
    borrowed: boolean,
    options: ConnOptions,
  ) {
    this.socket = socket;
    this.transport = transport;
    this.readsBorrowed = borrowed;
    this.service = options.service ?? '';
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.readWhileBlocked = options.readWhileBlocked ?? false;
    (socket as OwnedSocket)[kConn] = this;
    this.localLabel = options.localLabel;
    this.remoteAddressText = transport === 'unix' ? '' : options.remoteAddress;
    socket.on('end', socketOnEnd);
    socket.on('error', socketOnError);
    socket.on('close', socketOnClose);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.listenForFinish();
    if (!borrowed) socket.on('data', socketOnData);
  }

  private readonly idleTimeoutMs: number;
  private drainListening = false;
  private finishListening = false;

  // Only a subscriber needs to know when our FIN actually left (also when something else,
  // like node:http, ends the socket): no listener otherwise.
  private listenForFinish(): void {
    if (!this.finishListening && channels['half-close-out'].hasSubscribers) {
      this.finishListening = true;
      this.socket.once('finish', socketOnFinish);
    }
  }

  // Armed once the service has started, unless it already finished (one-shot services go
  // straight to the linger): one timer per connection instead of two.
  private armIdleTimer(): void {
    if (this.idleTimeoutMs && !this.lingering) {
      this.socket.on('timeout', socketOnTimeout);
      this.socket.setTimeout(this.idleTimeoutMs);
    }
  }

  /**
   * Take over a socket that a `net.Server({ pauseOnConnect: true })` accepted, re-creating it
   * on the same handle with the shared read buffer (`onread`): the fast path for TCP and Unix.
   */
  static adopt(
    accepted: net.Socket,
    server: net.Server,
    transport: 'tcp' | 'unix',
    options: ConnOptions = {},
  ): Conn {
    // net.Server has no `onread` option in Node 20, so we move the accepted handle into a
    // Socket built with one. `_handle` and `_connections` are long-stable internals of net.
    const internal = accepted as unknown as { _handle: unknown };
    const handle = internal._handle;
    internal._handle = null;
    (server as unknown as { _connections: number })._connections--;
    const socket = new net.Socket({
      handle: handle as never,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread: { buffer: SHARED_READ_BUFFER, callback: socketOnRead },
    } as net.SocketConstructorOpts);
    (socket as unknown as { server: net.Server }).server = server;
    return new Conn(socket, transport, true, options);
  }

  /** Wrap a socket that emits 'data' events (TLS, or any socket not built by `adopt`). */
  static wrap(
    socket: net.Socket,
    transport: 'tcp' | 'unix' | 'tls',
    options: ConnOptions = {},
  ): Conn {
    return new Conn(socket, transport, false, options);
  }

  /**
   * The `onread` option for a plain TCP or Unix socket we dial, so that its reads land in the
   * shared buffer like an adopted socket's; wrap it with `wrapBorrowed`.
   */
  static readonly sharedReads: net.OnReadOpts = {
    buffer: SHARED_READ_BUFFER,
    callback: socketOnRead as unknown as net.OnReadOpts['callback'],
  };

  /**
   * Wrap a socket built with `sharedReads` and paused until now: reading starts with `start`
   * (or later with `resumeReading`, if the caller paused it first).
   */
  static wrapBorrowed(
    socket: net.Socket,
    transport: 'tcp' | 'unix',
    options: ConnOptions = {},
  ): Conn {
    return new Conn(socket, transport, true, options);
  }

  /** Start delivering events to `handler`, and publish the accept/connect event. */
  start(handler: StreamHandler, outbound = false): void {
    this.handler = handler;
    this.emit(outbound ? 'connect' : 'accept');
    this.armIdleTimer();
    if (this.readsBorrowed && !this.pausedByService && this.socket.isPaused()) this.socket.resume();
  }

  /**
   * Publish the accept event, then start with the handler the service's openStream makes;
   * if openStream throws, only this connection is lost.
   */
  startWith(service: { openStream(conn: Conn): StreamHandler }): void {
    // Published first: a service may write (and publish data-out) from inside openStream.
    this.emit('accept');
    try {
      this.handler = service.openStream(this);
    } catch (err) {
      this.handler = IGNORE_INPUT;
      this.serviceFailed(err);
    }
    this.armIdleTimer();
  }

  /** A copy of `chunk` that stays valid after the `data` call returns (no copy when owned). */
  keep(chunk: Buffer): Buffer {
    return this.readsBorrowed ? Buffer.from(chunk) : chunk;
  }

  /**
   * Send bytes. Returns false when the peer is behind: we then stop reading from it until it
   * catches up (`drain`). A service that goes on writing after that, past `maxBufferedBytes`
   * unsent, has its connection cut.
   */
  write(data: Buffer | string): boolean {
    const socket = this.socket;
    if (!socket.writable) return false;
    // A service that stops when told to wait holds at most one write past the high-water
    // mark, however large; only writes made while already told to wait count to the limit.
    const alreadyTold = socket.writableNeedDrain;
    const ok = socket.write(data);
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.bytesOut += size;
    if (channels['data-out'].hasSubscribers) this.emitData('data-out', data, size);
    if (!ok) {
      // Listened for only once a write has had to wait: most connections never do.
      if (!this.drainListening) {
        this.drainListening = true;
        socket.on('drain', socketOnDrain);
      }
      if (alreadyTold && socket.writableLength > this.maxBufferedBytes) {
        this.emit('limit-hit', 'WIRECAT_BUFFER_LIMIT', 'maxBufferedBytes');
        this.abort(
          'WIRECAT_BUFFER_LIMIT',
          `peer is not reading: over ${this.maxBufferedBytes} bytes unsent`,
        );
        return false;
      }
      if (!this.heldForDrain && !this.readWhileBlocked) {
        this.heldForDrain = true;
        socket.pause();
      }
    }
    return ok;
  }

  /** Half-close our side once everything written so far is sent (FIN); optionally write first. */
  end(data?: Buffer | string): void {
    if (data !== undefined) this.write(data);
    if (this.closedFirstBy === undefined) this.closeFirst('us');
    this.listenForFinish();
    this.socket.end();
  }

  /** Graceful stop: let the service send what it owes (`shutdown`), then half-close. */
  shutdown(): void {
    try {
      if (this.handler.shutdown) this.handler.shutdown(this);
      else this.end();
    } catch (err) {
      this.serviceFailed(err);
    }
  }

  /** Stop reading from the peer (on top of backpressure). */
  pauseReading(): void {
    this.pausedByService = true;
    this.socket.pause();
  }

  /** Resume reading unless backpressure still holds it. */
  resumeReading(): void {
    this.pausedByService = false;
    if (!this.heldForDrain) this.socket.resume();
  }

  /** Cut the connection now, recording why (sends RST when the kernel has unread data). */
  abort(code: WirecatErrorCode | string, message?: string, reset = false): void {
    if (this.failure === undefined) this.failure = code;
    if (this.closedFirstBy === undefined) this.closeFirst('us');
    if (message !== undefined) this.emit('error', code, message);
    // A reset tells the peer the stream was cut; a FIN would look like a complete reply
    // to protocols with no length of their own (Gopher, chargen, echo).
    if (reset && this.transport === 'tcp') resetOrDestroy(this.socket);
    else this.socket.destroy();
  }

  /**
   * Refuse to go on: send a last line (the reason), half-close, ignore anything else the
   * peer sends, and cut the connection if the peer has not closed after `lingerMs`.
   */
  refuse(code: WirecatErrorCode, line: string, lingerMs = REFUSE_LINGER_MS): void {
    if (this.failure === undefined) this.failure = code;
    this.emit('limit-hit', code, line.trim());
    this.finish(line, lingerMs);
  }

  /**
   * Send a last reply and half-close, then ignore anything the peer sends and cut the
   * connection if the peer has not closed after `lingerMs`: a peer that never closes must
   * not hold a connection slot until the idle timeout.
   */
  finish(data?: Buffer | string, lingerMs = REFUSE_LINGER_MS): void {
    this.handler = IGNORE_INPUT;
    this.end(data);
    this.lingering = true;
    this.socket.setTimeout(0); // the linger replaces any idle timer
    lingerThenCut(this.socket, lingerMs);
  }

  /** True after `finish`: the peer's remaining time is the linger, not the idle timeout. */
  lingering = false;

  /**
   * The peer's IP address with IPv4-mapped IPv6 folded to IPv4 ('' for unix sockets). Asked of
   * the kernel on first use (getpeername): a one-shot service that never needs it saves the call.
   */
  get remoteAddress(): string {
    this.remoteAddressText ??= normalizeAddress(this.socket.remoteAddress);
    return this.remoteAddressText;
  }

  /** Our side, as a printable address (computed on first use: it costs a syscall). */
  get local(): string {
    if (this.localText === undefined) {
      this.localText =
        this.localLabel ??
        (this.transport === 'unix'
          ? 'unix:'
          : formatHostPort(normalizeAddress(this.socket.localAddress), this.socket.localPort ?? 0));
    }
    return this.localText;
  }

  /** The peer, as a printable address. */
  get remote(): string {
    if (this.remoteText === undefined) {
      this.remoteText =
        this.transport === 'unix'
          ? 'unix-peer'
          : formatHostPort(this.remoteAddress, this.socket.remotePort ?? 0);
    }
    return this.remoteText;
  }

  /** True once the socket is closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes waiting in our send buffer (not yet taken by the kernel). */
  get unsentBytes(): number {
    return this.socket.writableLength;
  }

  /** Deliver a chunk from either read path. */
  deliver(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    if (channels['data-in'].hasSubscribers) this.emitData('data-in', chunk, chunk.length);
    try {
      this.handler.data?.(this, chunk);
    } catch (err) {
      this.serviceFailed(err);
    }
  }

  // A bug in one service must cost one connection, never the process.
  private serviceFailed(err: unknown): void {
    this.abort('WIRECAT_SERVICE_FAILED', this.failureMessage(err));
  }

  private failureMessage(err: unknown): string {
    return `the ${this.service} service failed: ${(err as Error)?.message ?? err}`;
  }

  private closeFirst(by: 'peer' | 'us'): void {
    this.closedFirstBy = by;
    this.closedFirstAt = monotonicMs();
  }

  /** Publish a lifecycle event about this connection. */
  emit(type: SocketEventType, reason?: string, message?: string): void {
    if (!channels[type].hasSubscribers) return;
    const bytes = type === 'close' ? this.bytesIn + this.bytesOut : undefined;
    this.publishEvent(type, bytes, undefined, reason, message);
  }

  private emitData(type: SocketEventType, data: Buffer | string, bytes: number): void {
    this.publishEvent(type, bytes, typeof data === 'string' ? Buffer.from(data) : data);
  }

  // Every event object has the same shape (all fields, in the same order), so V8 keeps
  // the publish path monomorphic; an object spread here cost 8% of an echo server's CPU.
  private publishEvent(
    type: SocketEventType,
    bytes: number | undefined,
    data?: Buffer,
    reason?: string,
    message?: string,
  ): void {
    publish({
      type,
      time: 0,
      id: this.id,
      service: this.service,
      transport: this.transport,
      local: this.local,
      remote: this.remote,
      bytes,
      data,
      reason,
      message,
    });
  }

  /** @internal */
  handlePeerEnd(): void {
    if (this.closedFirstBy === undefined) this.closeFirst('peer');
    this.emit('half-close-in');
    try {
      if (this.handler.end) this.handler.end(this);
      else this.end();
    } catch (err) {
      this.serviceFailed(err);
    }
  }

  /** @internal */
  handleDrain(): void {
    if (this.heldForDrain) {
      this.heldForDrain = false;
      if (!this.pausedByService) this.socket.resume();
    }
    try {
      this.handler.drain?.(this);
    } catch (err) {
      this.serviceFailed(err);
    }
  }

  /** @internal */
  handleClose(hadError: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.lingering) stopLinger(this.socket);
    if (this.closedFirstBy === undefined) this.closeFirst('peer');
    this.emit('close', this.failure ?? (hadError ? 'error' : undefined));
    try {
      this.handler.close?.(this);
    } catch (err) {
      // The socket is gone already: report the bug, and still release the slot below.
      this.emit('error', 'WIRECAT_SERVICE_FAILED', this.failureMessage(err));
    }
    this.onClosed?.(this);
  }
}

/** Make the error a user sees for a socket failure. */
export function socketFailure(err: NodeJS.ErrnoException): WirecatError {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    return new WirecatError('WIRECAT_RESET', 'the peer reset the connection', { cause: err });
  }
  return new WirecatError('WIRECAT_IO', err.message, { cause: err });
}

// Module-level listeners (no closure per connection); `this` is the socket.
function socketOnRead(this: OwnedSocket, nread: number, buffer: Uint8Array): void {
  (this[kConn] as Conn).deliver((buffer as Buffer).subarray(0, nread));
}
function socketOnData(this: OwnedSocket, chunk: Buffer): void {
  (this[kConn] as Conn).deliver(chunk);
}
function socketOnEnd(this: OwnedSocket): void {
  this[kConn]?.handlePeerEnd();
}
function socketOnDrain(this: OwnedSocket): void {
  this[kConn]?.handleDrain();
}
function socketOnFinish(this: OwnedSocket): void {
  this[kConn]?.emit('half-close-out');
}
function socketOnTimeout(this: OwnedSocket): void {
  const conn = this[kConn];
  if (!conn) return;
  conn.emit('timeout', 'WIRECAT_IDLE_TIMEOUT');
  conn.abort('WIRECAT_IDLE_TIMEOUT', 'no traffic for the idle timeout');
}
function socketOnError(this: OwnedSocket, err: NodeJS.ErrnoException): void {
  const conn = this[kConn];
  if (!conn) return;
  if (conn.failure === undefined) conn.failure = err.code ?? 'error';
  conn.emit('error', err.code, err.message);
}
function socketOnClose(this: OwnedSocket, hadError: boolean): void {
  this[kConn]?.handleClose(hadError);
}
