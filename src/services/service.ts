// The shape every service has: protocol logic only. A service never opens a socket, reads a
// config file or logs; it gets a connection or a datagram, and the limits it must respect.

import type { Limits } from '../limits.js';
import type { Conn, StreamHandler } from '../transport/conn.js';

/** What a service is built with. Everything has a default; tests inject `now`. */
export interface ServiceSettings {
  limits: Limits;
  /** The clock (injectable so tests can pin the time). */
  now: () => Date;
  /** qotd: the quotes to choose from (each under 512 characters). */
  quotes?: readonly string[];
  /** daytime and stamp: `text` (like `Wed Dec 29 19:14:15 2017`) or `iso` (RFC 3339). */
  timeFormat?: 'text' | 'iso';
  /** ack: the answer to each message. */
  ackText?: string;
  /** files and http: the folder served (required by them; see file-root.ts for the confinement). */
  root?: string;
  /** files and http: the largest file served (default DEFAULT_MAX_FILE_BYTES). */
  maxFileBytes?: number;
  /** files: the longest selector accepted, in bytes (default DEFAULT_MAX_NAME_BYTES). */
  maxNameBytes?: number;
  /** chat: limits (defaults in chat/options.ts) and the operator's seat. */
  chat?: import('./chat/options.js').ChatOptions;
  /** tftp: write policy, upload size, transfer limits, timers (defaults in tftp/service.ts). */
  tftp?: import('./tftp/service.js').TftpServerOptions;
}

/** A running service: answers stream connections and, where defined, datagrams. */
export interface Service {
  readonly name: string;
  /**
   * Set when the service needs the connection's socket as an ordinary stream (to hand it
   * to node:http, say). The Host then skips the shared-read-buffer fast path for it.
   */
  readonly needsSocketStream?: boolean;
  /** Called for each new stream connection (TCP, TLS, Unix). */
  openStream(conn: Conn): StreamHandler;
  /**
   * For services whose whole answer to a stream connection is one reply and a half-close
   * (qotd, daytime, time): the reply. While no one listens to connection events the Host
   * sends it straight from accept, without a Conn; otherwise `openStream` serves.
   */
  readonly replyOnAccept?: () => Buffer;
  /**
   * Answer one datagram: return the reply, or undefined for none. `request` is the
   * service's to keep or return (each datagram arrives in a fresh buffer). Absent when the
   * service has no datagram form.
   */
  answerDatagram?(request: Buffer): Buffer | undefined;
  /**
   * Take over a bound UDP socket entirely (TFTP opens a socket per transfer). The Host still
   * owns the listening socket's lifetime; `guard` says whether a source may be answered.
   * Used instead of `answerDatagram` when present. Resolves when the service has stopped.
   */
  serveDatagrams?(socket: import('node:dgram').Socket, context: DatagramContext): void;
  /** Stop: finish or cut in-flight work (transfers) by the Host's drain deadline. */
  close?(): Promise<void>;
}

/** What the Host gives a service that takes over its UDP socket. */
export interface DatagramContext {
  /** Why a datagram from address:port must not be answered, or undefined when it may be. */
  refuse(address: string, port: number): string | undefined;
  /** The endpoint string of the listening socket, for events. */
  local: string;
}

/** A service's description and its factory. */
export interface ServiceDefinition {
  readonly name: string;
  /** One line for `--help` and the startup table. */
  readonly summary: string;
  /** The document it follows, e.g. 'RFC 862'. */
  readonly spec: string;
  /** Unprivileged default port (the RFC port plus 10000 for the classic ones). */
  readonly defaultPort: number;
  /** Whether it has a datagram (UDP) form. */
  readonly udp: boolean;
  /** false: datagram only (tftp); the Host refuses stream endpoints for it. Default true. */
  readonly tcp?: boolean;
  /** Started only when named (it needs settings such as --root): never in the default set. */
  readonly optIn?: boolean;
  create(settings: ServiceSettings): Service;
}
