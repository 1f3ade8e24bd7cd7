// `wirecat relay A B`: listen on A (or use stdin/stdout), and for each client open B and
// move bytes both ways, propagating half-close (FIN) each way and resets, with the Host's
// limits, bounded buffers with backpressure both ways, and optional fault injection.

import type dgram from 'node:dgram';
import type { Readable, Writable } from 'node:stream';
import { WirecatError } from '../errors.js';
import { type Limits, resolveLimits } from '../limits.js';
import { Host, type ListenerInfo } from '../server/host.js';
import type { Service, ServiceDefinition } from '../services/service.js';
import { Conn } from '../transport/conn.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, dialDatagram, dialStream } from '../transport/dial.js';
import {
  type Endpoint,
  formatEndpoint,
  formatHostPort,
  parseEndpoint,
} from '../transport/endpoint.js';
import type { TlsClientConfig, TlsServerConfig } from '../transport/tls.js';
import {
  appliesToward,
  type FaultOptions,
  type FaultStage,
  faultLine,
  type Piece,
} from './faults.js';
import {
  connectedDatagramSide,
  connSide,
  datagramSide,
  type Side,
  stdioSide,
} from './relay-sides.js';

/** A relay end: an endpoint, or stdin/stdout (written `-` or `stdio`). */
export type RelayEndpoint = Endpoint | { transport: 'stdio' };

/** Bytes the relay holds per direction (fault queues included) before it stops reading. */
export const DEFAULT_RELAY_QUEUE_BYTES = 1_048_576;
/** After one side of a UDP session ends, wait this long for late datagrams before closing. */
export const DEFAULT_DATAGRAM_LINGER_MS = 1_000;
/**
 * --reset-after: the RST follows the last forwarded byte after this pause. On Linux a RST that
 * arrives while the peer has unread data reads as a plain end of stream, so the peer gets a
 * moment to read the bytes first.
 */
export const RESET_GRACE_MS = 50;

/** Options for `relay`. Limits default to DEFAULT_LIMITS, like `serve`. */
export interface RelayOptions {
  /** Serve many clients, one upstream connection each (default: one client, then finish). */
  keepOpen?: boolean;
  /** maxConnections (clients, or UDP peers), maxConnectionsPerSource, idleTimeoutMs, maxBufferedBytes. */
  limits?: Partial<Limits>;
  faults?: FaultOptions;
  /** For a tls:// A: the certificate to present. */
  tlsServer?: TlsServerConfig;
  /** For a tls:// B: how to verify it. */
  tlsClient?: TlsClientConfig;
  connectTimeoutMs?: number;
  /** The streams for a stdio end (default process.stdin and process.stdout). */
  stdio?: { input: Readable; output: Writable };
  /** Bytes held per direction before reading stops. */
  maxQueuedBytes?: number;
}

/** What one relay session (or all of them) moved. */
export interface RelayResult {
  sessions: number;
  /** Bytes from A forwarded to B, and from B to A. */
  bytesToB: number;
  bytesToA: number;
  /** Of the last session: which side closed first ('client' = A, 'upstream' = B, 'relay' = a fault). */
  closedFirstBy?: string;
  /** Of the last session: ms from its start to the first FIN, RST or close. */
  firstCloseMs?: number;
  durationMs: number;
}

/** A running relay. */
export interface RelayHandle {
  /** Where A listens (empty for a stdio A). */
  readonly listeners: ListenerInfo[];
  /** Resolves when the relay is done: after the one session without keepOpen, after close() with it. */
  readonly finished: Promise<RelayResult>;
  /** Counters so far. */
  result(): RelayResult;
  /** Sessions open now (a client and its upstream, or one being opened). */
  sessionsOpen(): number;
  /** Stop listening, let sessions finish (up to the drain timeout), then resolve `finished`. */
  close(): Promise<void>;
}

/** Parse a relay end: `-` or `stdio`, else an endpoint (tcp when no scheme is given). */
export function parseRelayEndpoint(text: string): RelayEndpoint {
  return text === '-' || text === 'stdio' ? { transport: 'stdio' } : parseEndpoint(text);
}

function formatRelayEndpoint(e: RelayEndpoint): string {
  return e.transport === 'stdio' ? 'stdio' : formatEndpoint(e);
}

/**
 * One direction: chunks from `src` go through the fault line into a bounded queue and out to
 * `dst` at their time, in order. Reading from `src` stops while `dst` is behind, the queue is
 * full, or the direction is stalled.
 */
class Forwarder {
  private queue: Piece[] = [];
  private queued = 0;
  private blocked = false;
  private stalled = false;
  private endPending = false;
  private ended = false;
  private holding = false;
  private resetPending = false;
  private timer: NodeJS.Timeout | undefined;
  bytes = 0;

  constructor(
    private readonly src: Side,
    private readonly dst: Side,
    private readonly line: FaultStage | undefined,
    private readonly maxQueued: number,
    private readonly act: (action: 'reset' | 'stall', dst: Side) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.stalled || this.resetPending) return;
    if (this.dst.closed) {
      this.src.destroy(); // nobody left to deliver to
      return;
    }
    if (!this.line && this.queue.length === 0 && !this.blocked) {
      this.bytes += chunk.length;
      if (!this.dst.write(chunk)) {
        this.blocked = true;
        this.flow();
      }
      return;
    }
    const pieces = this.line ? this.line([{ data: chunk, at: performance.now() }]) : [];
    if (!this.line) pieces.push({ data: chunk, at: 0 });
    for (const p of pieces) {
      this.queue.push(p);
      this.queued += p.data.length;
    }
    this.pump();
  }

  pushEnd(): void {
    this.endPending = true;
    this.pump();
  }

  drained(): void {
    this.blocked = false;
    if (this.resetPending && this.dst.unsent === 0) this.act('reset', this.dst);
    else this.pump();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue = [];
    this.queued = 0;
  }

  /** Forward nothing more and stop reading (a reset is coming). */
  halt(): void {
    this.resetPending = true;
    this.stop();
    this.src.pause();
  }

  private pump(): void {
    clearTimeout(this.timer);
    while (this.queue.length > 0 && !this.blocked && !this.stalled && !this.dst.closed) {
      const head = this.queue[0];
      const wait = head.at - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(wait));
        break;
      }
      this.queue.shift();
      this.queued -= head.data.length;
      this.bytes += head.data.length;
      if (head.data.length > 0 && !this.dst.write(head.data)) this.blocked = true;
      if (head.after === 'stall') {
        this.stalled = true;
        this.stop();
        this.act('stall', this.dst);
      } else if (head.after === 'reset') {
        this.resetPending = true;
        this.stop();
        // Reset once the forwarded bytes have left our buffer, so the peer gets exactly N.
        if (this.dst.unsent === 0) this.act('reset', this.dst);
        else this.blocked = true;
        return;
      }
    }
    if (this.queue.length === 0 && this.endPending && !this.ended && !this.stalled) {
      this.ended = true;
      if (!this.dst.closed) this.dst.end();
    }
    this.flow();
  }

  private flow(): void {
    const hold = this.blocked || this.stalled || this.queued > this.maxQueued;
    if (hold === this.holding || this.src.closed) return;
    this.holding = hold;
    if (hold) this.src.pause();
    else this.src.resume();
  }
}

/** Two sides joined: data, half-close and resets go across; done when both are closed. */
class Session {
  private readonly started = performance.now();
  closedFirstBy: string | undefined;
  firstCloseMs: number | undefined;
  readonly toB: Forwarder;
  readonly toA: Forwarder;

  constructor(
    private readonly a: Side,
    private readonly b: Side,
    options: RelayOptions,
    private readonly done: (session: Session) => void,
  ) {
    const faults = options.faults ?? {};
    const shape = { datagrams: a.datagrams || b.datagrams };
    const maxQueued = options.maxQueuedBytes ?? DEFAULT_RELAY_QUEUE_BYTES;
    const act = (action: 'reset' | 'stall', dst: Side) => this.fault(action, dst);
    const line = (toward: 'a' | 'b') =>
      appliesToward(faults, toward) ? faultLine(faults, shape) : undefined;
    this.toB = new Forwarder(a, b, line('b'), maxQueued, act);
    this.toA = new Forwarder(b, a, line('a'), maxQueued, act);
    this.wire(a, b, this.toB, this.toA);
    this.wire(b, a, this.toA, this.toB);
    a.resume();
    b.resume();
  }

  private wire(side: Side, other: Side, outbound: Forwarder, inbound: Forwarder): void {
    let closed = false;
    side.attach({
      data: (chunk) => outbound.push(chunk),
      end: () => {
        this.first(side.role);
        outbound.pushEnd();
      },
      drain: () => inbound.drained(),
      close: (failure) => {
        if (closed) return;
        closed = true;
        this.first(side.role);
        if (failure === 'ECONNRESET' || failure === 'WIRECAT_RESET') other.reset();
        else if (failure) other.destroy();
        else outbound.pushEnd();
        if (this.a.closed && this.b.closed) {
          this.toA.stop();
          this.toB.stop();
          this.done(this);
        }
      },
    });
  }

  private first(who: string): void {
    if (this.closedFirstBy !== undefined) return;
    this.closedFirstBy = who;
    this.firstCloseMs = performance.now() - this.started;
  }

  private fault(action: 'reset' | 'stall', dst: Side): void {
    if (action === 'stall') {
      dst.note('stall-after', 'fault injected: forwarding stalled (the connection stays open)');
      return;
    }
    this.first('relay');
    dst.note('reset-after', 'fault injected: connection reset');
    this.toA.halt();
    this.toB.halt();
    setTimeout(() => {
      this.a.reset();
      this.b.reset();
    }, RESET_GRACE_MS);
  }

  get durationMs(): number {
    return performance.now() - this.started;
  }
}

/**
 * Relay between A and B. A is listened on (or is stdin/stdout); B is opened for each client.
 * Resolves once A listens (or, for a stdio A, once B is connected).
 *
 * @example
 * const r = await relay('tcp://127.0.0.1:0', 'tcp://127.0.0.1:10007', { keepOpen: true,
 *   faults: { delayMs: 100 } });
 * console.log(r.listeners[0].address); // clients connect here, reach echo 100 ms later
 * await r.close();
 */
export async function relay(
  aTarget: string | RelayEndpoint,
  bTarget: string | RelayEndpoint,
  options: RelayOptions = {},
): Promise<RelayHandle> {
  const a = typeof aTarget === 'string' ? parseRelayEndpoint(aTarget) : aTarget;
  const b = typeof bTarget === 'string' ? parseRelayEndpoint(bTarget) : bTarget;
  if (a.transport === 'stdio' && b.transport === 'stdio')
    throw new WirecatError('WIRECAT_BAD_USAGE', 'relay needs at least one network endpoint');
  if (options.keepOpen && (a.transport === 'stdio' || b.transport === 'stdio'))
    throw new WirecatError('WIRECAT_BAD_USAGE', '--keep-open needs network endpoints on both ends');
  const limits = resolveLimits(options.limits);
  const started = performance.now();
  const totals = { sessions: 0, bytesToB: 0, bytesToA: 0 };
  let last: Session | undefined;
  let open = 0;
  const sessionsOpen = () => open;
  const result = (): RelayResult => ({
    ...totals,
    closedFirstBy: last?.closedFirstBy,
    firstCloseMs: last?.firstCloseMs,
    durationMs: performance.now() - started,
  });
  let finish: (r: RelayResult) => void = () => {};
  let fail: (err: unknown) => void = () => {};
  const finished = new Promise<RelayResult>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const sessionDone = (s: Session) => {
    open--;
    totals.bytesToB += s.toB.bytes;
    totals.bytesToA += s.toA.bytes;
    last = s;
    if (!options.keepOpen) finish(result());
  };
  const stdio = options.stdio ?? { input: process.stdin, output: process.stdout };
  const openB = (): Promise<Side> => openUpstream(b, options, limits, stdio);
  const join = (side: Side, onFail: (err: unknown) => void) => {
    totals.sessions++;
    open++;
    openB().then(
      (upstream) => new Session(side, upstream, options, sessionDone),
      (err) => {
        open--;
        onFail(err);
      },
    );
  };

  if (a.transport === 'stdio') {
    const side = stdioSide(stdio.input, stdio.output, 'client');
    side.pause();
    const upstream = await openB();
    totals.sessions++;
    open++;
    new Session(side, upstream, options, sessionDone);
    return {
      listeners: [],
      finished,
      result,
      sessionsOpen,
      close: async () => side.destroy(),
    };
  }

  const host = new Host({
    limits: { ...limits, maxConnections: options.keepOpen ? limits.maxConnections : 1 },
    tls: options.tlsServer,
  });
  let sessionsStarted = 0;
  const udpClosers: (() => void)[] = [];
  const definition: ServiceDefinition = {
    name: 'relay',
    summary: 'relays to another endpoint',
    spec: 'wirecat relay',
    defaultPort: 0,
    udp: true,
    create: (): Service => ({
      // The Host calls this on close: UDP sessions have no connection it could end.
      close: async () => {
        for (const end of udpClosers) end();
      },
      name: 'relay',
      openStream(conn) {
        const { side, handler } = connSide(conn, 'client');
        side.pause();
        sessionsStarted++;
        join(side, (err) => {
          conn.abort(
            (err as WirecatError).code ?? 'WIRECAT_IO',
            `cannot reach ${formatRelayEndpoint(b)}: ${(err as Error).message}`,
          );
          if (!options.keepOpen) fail(err);
        });
        return handler;
      },
      serveDatagrams(socket, context) {
        const end = serveUdpSessions(socket, context, limits, () => {
          if (!options.keepOpen && sessionsStarted > 0) return undefined;
          sessionsStarted++;
          return join;
        });
        udpClosers.push(end);
      },
    }),
  };
  await host.listen({ service: definition, endpoint: a });
  finished.then(
    () => host.close(),
    () => host.close(0),
  );
  return {
    listeners: host.listeners,
    finished,
    result,
    sessionsOpen,
    close: async () => {
      await host.close();
      finish(result());
    },
  };
}

/**
 * UDP on A: one session per source address and port, up to maxConnections at once. Returns
 * the function that ends every session.
 */
function serveUdpSessions(
  socket: dgram.Socket,
  context: { refuse(address: string, port: number): string | undefined; local: string },
  limits: Limits,
  admit: () => ((side: Side, onFail: (err: unknown) => void) => void) | undefined,
): () => void {
  const peers = new Map<string, ReturnType<typeof datagramSide>>();
  socket.on('message', (msg, rinfo) => {
    const key = formatHostPort(rinfo.address, rinfo.port);
    let side = peers.get(key);
    if (!side) {
      if (context.refuse(rinfo.address, rinfo.port) || peers.size >= limits.maxConnections) return;
      const join = admit();
      if (!join) return;
      const created = datagramSide({
        role: 'client',
        send: (chunk) => socket.send(chunk, rinfo.port, rinfo.address),
        release: () => peers.delete(key),
        idleTimeoutMs: limits.idleTimeoutMs,
        lingerMs: DEFAULT_DATAGRAM_LINGER_MS,
        local: context.local,
        remote: key,
      });
      side = created;
      peers.set(key, created);
      join(created, () => created.destroy());
    }
    side.deliver(msg);
  });
  return () => {
    for (const side of [...peers.values()]) side.destroy();
  };
}

/** Open B for one session. */
async function openUpstream(
  b: RelayEndpoint,
  options: RelayOptions,
  limits: Limits,
  stdio: { input: Readable; output: Writable },
): Promise<Side> {
  if (b.transport === 'stdio') {
    const side = stdioSide(stdio.input, stdio.output, 'upstream');
    side.pause();
    return side;
  }
  const where = formatEndpoint(b);
  if (b.transport === 'udp') {
    const socket = await dialDatagram(b);
    return connectedDatagramSide(socket, {
      role: 'upstream',
      idleTimeoutMs: limits.idleTimeoutMs,
      lingerMs: DEFAULT_DATAGRAM_LINGER_MS,
      local: 'relay',
      remote: where,
    });
  }
  // Plain upstream reads land in the shared buffer (connSide keeps a copy of each chunk):
  // no buffer allocated per read, which narrowed the relay's latency tail.
  const plain = b.transport === 'tls' ? undefined : b.transport;
  const socket = await dialStream(
    b,
    options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    options.tlsClient,
    plain && Conn.sharedReads,
  );
  const connOptions = {
    service: 'relay',
    idleTimeoutMs: limits.idleTimeoutMs,
    maxBufferedBytes: limits.maxBufferedBytes,
    readWhileBlocked: true,
  };
  const conn = plain
    ? Conn.wrapBorrowed(socket, plain, connOptions)
    : Conn.wrap(socket, 'tls', connOptions);
  const { side, handler } = connSide(conn, 'upstream');
  side.pause();
  conn.start(handler, true);
  return side;
}
