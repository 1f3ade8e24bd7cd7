// A Host runs many services on many endpoints in one process: it accepts connections and
// datagrams, applies the limits (connections overall and per source, idle, buffers, the UDP
// guard), and shuts down gracefully. Services only see connections and datagrams.

import type dgram from 'node:dgram';
import type net from 'node:net';
import { WirecatError } from '../errors.js';
import { type Limits, resolveLimits } from '../limits.js';
import {
  channels,
  connectionWatched,
  publish,
  type SocketEvent,
  type SocketEventType,
} from '../observe/channels.js';
import { type ServiceName, services } from '../services/index.js';
import { ONE_SHOT_LINGER_MS } from '../services/one-shot.js';
import type { Service, ServiceDefinition, ServiceSettings } from '../services/service.js';
import { Conn } from '../transport/conn.js';
import {
  type Endpoint,
  formatEndpoint,
  formatHostPort,
  normalizeAddress,
  parseEndpoint,
} from '../transport/endpoint.js';
import { lingerThenCut, stopLinger } from '../transport/linger.js';
import { isLoopback, isWildcard, listenDatagram, listenStream } from '../transport/listen.js';
import type { TlsServerConfig } from '../transport/tls.js';
import { ConnectionSlots } from './slots.js';
import { type UdpDropReason, UdpGuard } from './udp-guard.js';

/**
 * Options for a Host. Every field has a default. The services' settings (the clock, quotes,
 * time format, ack text, root, file limits, tftp, chat) are ServiceSettings', documented there.
 */
export interface HostOptions extends Partial<Omit<ServiceSettings, 'limits'>> {
  /** Limits; unset fields take DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
  /** The certificate and key every tls:// endpoint presents (required for tls://). */
  tls?: TlsServerConfig;
  /** Apply the per-source UDP reply budget to loopback sources too (default: exempt). */
  udpBudgetForLoopback?: boolean;
}

/** One service on one endpoint. */
export interface Binding {
  service: ServiceName | ServiceDefinition;
  /** Where to listen; a bare port or `:port` takes the transport from `transport`. */
  endpoint: string | Endpoint;
}

/** A listening endpoint, as the startup table shows it. */
export interface ListenerInfo {
  service: string;
  transport: 'tcp' | 'udp' | 'unix' | 'tls';
  /** The bound endpoint with its real port, e.g. `tcp://127.0.0.1:10007`. */
  address: string;
  port: number | undefined;
  /** True when reachable from other machines (not loopback, not a unix socket). */
  exposed: boolean;
}

/** Counters since the Host started. */
export interface HostStats {
  connectionsOpen: number;
  connectionsTotal: number;
  refusedOverall: number;
  refusedPerSource: number;
  bytesIn: number;
  bytesOut: number;
  datagramsIn: number;
  datagramsOut: number;
  udpDropped: Record<UdpDropReason, number>;
}

interface Listening {
  info: ListenerInfo;
  close(): Promise<void>;
}

/** Every default port of a built-in service: never answered as a UDP source port. */
const DEFAULT_SERVICE_PORTS = Object.values(services).map((s) => s.defaultPort);

// UDP ports bound by every Host in this process (port -> listeners on it), so that two Hosts
// (an echo and a chargen, say) never answer each other: a forged datagram between them
// would otherwise loop for ever (loopback sources are exempt from the reply budget).
const udpPortsInProcess = new Map<number, number>();
const SERVICE_PORTS: ReadonlySet<number> = {
  has: (port: number) => DEFAULT_SERVICE_PORTS.includes(port) || udpPortsInProcess.has(port),
} as ReadonlySet<number>;

/**
 * Runs services on endpoints.
 *
 * @example
 * const host = new Host({ limits: { maxConnections: 100 } });
 * await host.listen({ service: 'echo', endpoint: 'tcp://127.0.0.1:0' });
 * console.log(host.listeners[0].address); // tcp://127.0.0.1:41234
 * await host.close();
 */
export class Host {
  readonly limits: Limits;
  private readonly settings: ServiceSettings;
  private readonly tls: TlsServerConfig | undefined;
  private readonly listening: Listening[] = [];
  private readonly slots: ConnectionSlots;
  private readonly guard: UdpGuard;
  private closing: Promise<void> | undefined;
  /** Set once close() has let the event loop poll once more: later accepts are cut. */
  private acceptsStopped = false;
  private readonly counters = {
    connectionsTotal: 0,
    refusedOverall: 0,
    refusedPerSource: 0,
    bytesIn: 0,
    bytesOut: 0,
    datagramsIn: 0,
    datagramsOut: 0,
  };
  private readonly udpDropped: Record<UdpDropReason, number> = {
    'privileged-port': 0,
    'service-port': 0,
    'bad-source': 0,
    budget: 0,
    'reply-too-large': 0,
    loop: 0,
  };

  constructor(options: HostOptions = {}) {
    this.limits = resolveLimits(options.limits);
    this.tls = options.tls;
    this.slots = new ConnectionSlots(this.limits.maxConnectionsPerSource);
    this.settings = {
      limits: this.limits,
      now: options.now ?? (() => new Date()),
      quotes: options.quotes,
      timeFormat: options.timeFormat,
      ackText: options.ackText,
      root: options.root,
      maxFileBytes: options.maxFileBytes,
      maxNameBytes: options.maxNameBytes,
      tftp: options.tftp,
      chat: options.chat,
    };
    this.guard = new UdpGuard({
      repliesPerSecond: this.limits.udpRepliesPerSourcePerSec,
      sourcesTracked: this.limits.udpSourcesTracked,
      exemptLoopback: !options.udpBudgetForLoopback,
      servicePorts: SERVICE_PORTS,
    });
  }

  /** Every endpoint listening now. */
  get listeners(): ListenerInfo[] {
    return this.listening.map((l) => l.info);
  }

  /** Counters since start. */
  get stats(): HostStats {
    let bytesIn = this.counters.bytesIn;
    let bytesOut = this.counters.bytesOut;
    for (const conn of this.slots.conns) {
      bytesIn += conn.bytesIn;
      bytesOut += conn.bytesOut;
    }
    for (const socket of this.slots.answered) bytesIn += socket.bytesRead;
    return {
      ...this.counters,
      bytesIn,
      bytesOut,
      connectionsOpen: this.slots.size,
      udpDropped: { ...this.udpDropped },
    };
  }

  /** Start one service on one endpoint. Resolves with what now listens. */
  async listen(binding: Binding): Promise<ListenerInfo> {
    if (this.closing) throw new WirecatError('WIRECAT_BAD_USAGE', 'this Host is closing');
    const definition = resolveService(binding.service);
    const endpoint =
      typeof binding.endpoint === 'string' ? parseEndpoint(binding.endpoint) : binding.endpoint;
    if (definition.tcp === false && endpoint.transport !== 'udp') {
      throw new WirecatError(
        'WIRECAT_UNSUPPORTED_TRANSPORT',
        `${definition.name} runs over UDP only; write udp://HOST:PORT`,
      );
    }
    const service = definition.create(this.settings);
    const listening =
      endpoint.transport === 'udp'
        ? await this.listenUdp(service, definition, endpoint)
        : await this.listenStreamService(service, endpoint);
    this.listening.push(listening);
    publish({
      type: 'listen',
      id: 0,
      service: service.name,
      transport: listening.info.transport,
      local: listening.info.address,
    });
    return listening.info;
  }

  private async listenStreamService(service: Service, endpoint: Endpoint): Promise<Listening> {
    const transport = endpoint.transport as 'tcp' | 'unix' | 'tls';
    const localLabel = endpoint.transport === 'unix' ? formatEndpoint(endpoint) : undefined;
    const { server, bound } = await listenStream(
      endpoint,
      (socket, srv) => this.accept(service, socket, srv, transport, localLabel),
      undefined,
      this.tls,
      // Services that take the plain socket need neither the paused hand-over nor Nagle off:
      // on accept-heavy one-shot services each is a syscall per connection.
      { pauseOnConnect: !service.needsSocketStream, noDelay: !service.needsSocketStream },
    );
    server.on('error', () => {}); // accept errors (EMFILE) are retried by libuv; never crash
    // A failed handshake never becomes a connection; the trace still shows it. With a listener
    // here node:tls no longer closes the socket itself (a handshake timeout left a silent client
    // connected for ever, uncounted by any limit, and blocking close()): we do.
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      socket.destroy();
      publish({
        type: 'error',
        id: 0,
        service: service.name,
        transport,
        remote: formatHostPort(normalizeAddress(socket.remoteAddress), socket.remotePort ?? 0),
        reason: err.code ?? 'tls',
        message: `TLS handshake failed: ${err.message}`,
      });
    });
    return {
      info: describe(service.name, bound),
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  private accept(
    service: Service,
    accepted: net.Socket,
    server: net.Server,
    transport: 'tcp' | 'unix' | 'tls',
    localLabel?: string,
  ): void {
    if (this.acceptsStopped) {
      accepted.destroy();
      return;
    }
    if (this.slots.size >= this.limits.maxConnections) {
      this.counters.refusedOverall++;
      this.refuse(accepted, service.name, transport, 'maxConnections');
      return;
    }
    const source = this.slots.admit(accepted, transport === 'unix');
    if (source === null) {
      this.counters.refusedPerSource++;
      this.refuse(accepted, service.name, transport, 'maxConnectionsPerSource');
      return;
    }
    if (service.replyOnAccept && transport !== 'tls' && !connectionWatched()) {
      this.replyAndClose(service.replyOnAccept, accepted);
      return;
    }
    const options = {
      service: service.name,
      idleTimeoutMs: this.limits.idleTimeoutMs,
      maxBufferedBytes: this.limits.maxBufferedBytes,
      localLabel,
      remoteAddress: source,
    };
    // TLS sockets decrypt in their own stream: they cannot take the shared-read-buffer path.
    const conn =
      service.needsSocketStream || transport === 'tls'
        ? Conn.wrap(accepted, transport, options)
        : Conn.adopt(accepted, server, transport, options);
    this.slots.conns.add(conn);
    this.counters.connectionsTotal++;
    conn.onClosed = this.release;
    conn.startWith(service);
  }

  private refuse(socket: net.Socket, service: string, transport: string, limit: string): void {
    if (channels['limit-hit'].hasSubscribers) {
      publish({
        type: 'limit-hit',
        id: 0,
        service,
        transport,
        remote: formatHostPort(normalizeAddress(socket.remoteAddress), socket.remotePort ?? 0),
        reason: limit,
        message: `connection refused: ${limit} reached`,
      });
    }
    socket.destroy();
  }

  // A one-shot service's whole answer needs no Conn: send it, half-close, drop whatever the
  // peer sends, and give the peer the same linger as Conn.finish to close. Saves ~3 us of
  // the ~35 us a daytime connection costs (see bench/README.md).
  private replyAndClose(reply: () => Buffer, socket: net.Socket): void {
    this.slots.answered.add(socket);
    this.counters.connectionsTotal++;
    socket.on('error', ignoreSocketError);
    socket.on('close', () => this.releaseAnswered(socket));
    let data: Buffer;
    try {
      data = reply();
    } catch {
      socket.destroy(); // as Conn does for a failing service: one connection lost
      return;
    }
    this.counters.bytesOut += data.length;
    socket.resume(); // read and drop input, so the peer's FIN is seen
    socket.end(data);
    lingerThenCut(socket, ONE_SHOT_LINGER_MS);
  }

  private releaseAnswered(socket: net.Socket): void {
    stopLinger(socket);
    this.counters.bytesIn += socket.bytesRead;
    this.slots.releaseAnswered(socket);
  }

  private readonly release = (conn: Conn): void => {
    this.counters.bytesIn += conn.bytesIn;
    this.counters.bytesOut += conn.bytesOut;
    this.slots.releaseConn(conn);
  };

  private async listenUdp(
    service: Service,
    definition: ServiceDefinition,
    endpoint: Endpoint,
  ): Promise<Listening> {
    if (!service.answerDatagram && !service.serveDatagrams) {
      throw new WirecatError(
        'WIRECAT_UNSUPPORTED_TRANSPORT',
        `${definition.name} has no UDP form; use tcp:// or unix:`,
      );
    }
    const { sockets, bound } = await listenDatagram(endpoint);
    const info = describe(service.name, bound);
    const port = bound.transport === 'udp' ? bound.port : 0;
    udpPortsInProcess.set(port, (udpPortsInProcess.get(port) ?? 0) + 1);
    for (const socket of sockets) {
      if (service.serveDatagrams) {
        socket.on('error', () => {});
        service.serveDatagrams(socket, {
          local: info.address,
          refuse: (address, port) => this.guard.check(address, port),
        });
      } else this.serveDatagrams(socket, service, info.address);
    }
    return {
      info,
      close: async () => {
        const left = (udpPortsInProcess.get(port) ?? 1) - 1;
        if (left > 0) udpPortsInProcess.set(port, left);
        else udpPortsInProcess.delete(port);
        await service.close?.();
        await Promise.all(
          sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
        );
      },
    };
  }

  private serveDatagrams(socket: dgram.Socket, service: Service, local: string): void {
    const answer = service.answerDatagram!;
    const cap = this.limits.maxDatagramReply;
    const dataIn = channels['data-in'];
    const dataOut = channels['data-out'];
    // Callers on the per-datagram path test hasSubscribers first, so no event object is built.
    const event = (
      type: SocketEventType,
      rinfo: dgram.RemoteInfo,
      detail: Partial<SocketEvent>,
    ) => {
      if (channels[type].hasSubscribers) {
        const remote = formatHostPort(rinfo.address, rinfo.port);
        publish({ ...detail, type, id: 0, service: service.name, transport: 'udp', local, remote });
      }
    };
    const drop = (reason: UdpDropReason, rinfo: dgram.RemoteInfo) => {
      this.udpDropped[reason]++;
      event('udp-drop', rinfo, { reason });
    };
    socket.on('error', () => {}); // ICMP errors from earlier replies: nothing to do
    socket.on('message', (msg, rinfo) => {
      this.counters.datagramsIn++;
      this.counters.bytesIn += msg.length;
      if (dataIn.hasSubscribers) event('data-in', rinfo, { bytes: msg.length, data: msg });
      const refused = this.guard.check(rinfo.address, rinfo.port);
      if (refused) return drop(refused, rinfo);
      const peer = this.guard.peer(rinfo.address, rinfo.port);
      if (this.guard.isLoop(peer, msg)) return drop('loop', rinfo);
      const reply = answer(msg);
      if (reply === undefined) return;
      // A reply may be as large as the request (echo) or up to the cap, never more:
      // amplification stays bounded.
      if (reply.length > cap && reply.length > msg.length) return drop('reply-too-large', rinfo);
      if (!this.guard.spend(rinfo.address)) return drop('budget', rinfo);
      socket.send(reply, rinfo.port, rinfo.address);
      this.guard.replied(peer, reply);
      this.counters.datagramsOut++;
      this.counters.bytesOut += reply.length;
      if (dataOut.hasSubscribers) event('data-out', rinfo, { bytes: reply.length, data: reply });
    });
  }

  /**
   * Graceful shutdown: stop accepting, half-close every connection once its pending replies
   * are sent, wait up to `drainMs` for peers to finish, then cut whatever is left. What had
   * reached the kernel when close() was called still counts as in flight: a connection not
   * yet accepted is taken in, and bytes not yet read are answered before the FIN.
   */
  close(drainMs = this.limits.drainTimeoutMs): Promise<void> {
    this.closing ??= this.shutdown(drainMs);
    return this.closing;
  }

  private async shutdown(drainMs: number): Promise<void> {
    // What reached the kernel before close() is in flight too: a client whose handshake is
    // done but not yet accepted (closing the listener now would reset it), and bytes not yet
    // read. One poll of the event loop accepts the first; the next reads what they and the
    // open connections were sent, so those requests are answered before our FIN.
    await afterNextPoll();
    this.acceptsStopped = true;
    const stopped = Promise.all(this.listening.map((l) => l.close()));
    for (const l of this.listening) {
      publish({
        type: 'unlisten',
        id: 0,
        service: l.info.service,
        transport: l.info.transport,
        local: l.info.address,
      });
    }
    await afterNextPoll();
    for (const conn of this.slots.conns) conn.shutdown();
    if (this.slots.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        this.slots.onEmpty = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.destroy();
    await stopped;
  }

  /** Cut every connection now (the second Ctrl-C). */
  destroy(): void {
    for (const conn of this.slots.conns) {
      conn.abort('WIRECAT_SHUTDOWN', 'server shutting down', true);
    }
    for (const socket of this.slots.answered) socket.destroy(); // their reply was sent in full
  }
}

/**
 * Resolves once the event loop has polled for I/O again: an immediate queued now may run in
 * the current turn's check phase, before any further poll; the one it queues runs after one.
 */
function afterNextPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function ignoreSocketError(): void {} // a reset peer: its 'close' follows

function resolveService(service: ServiceName | ServiceDefinition): ServiceDefinition {
  if (typeof service !== 'string') return service;
  const definition = (services as Record<string, ServiceDefinition>)[service];
  if (!definition) {
    throw new WirecatError(
      'WIRECAT_UNKNOWN_SERVICE',
      `unknown service "${service}" (known: ${Object.keys(services).join(', ')})`,
    );
  }
  return definition;
}

function describe(service: string, bound: Endpoint): ListenerInfo {
  const host = bound.transport === 'unix' ? undefined : bound.host;
  return {
    service,
    transport: bound.transport,
    address: formatEndpoint(bound),
    port: bound.transport === 'unix' ? undefined : bound.port,
    exposed: host !== undefined && (isWildcard(host) || !isLoopback(host)),
  };
}
