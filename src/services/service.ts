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
}

/** A running service: answers stream connections and, where defined, datagrams. */
export interface Service {
  readonly name: string;
  /** Called for each new stream connection (TCP, TLS, Unix). */
  openStream(conn: Conn): StreamHandler;
  /**
   * Answer one datagram: return the reply, or undefined for none. `request` is only valid
   * during the call. Absent when the service has no datagram form.
   */
  answerDatagram?(request: Buffer): Buffer | undefined;
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
  create(settings: ServiceSettings): Service;
}
