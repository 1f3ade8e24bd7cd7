// The shape shared by qotd, daytime and time: on connect, send one reply and half-close;
// for a datagram, answer with the same reply. Whatever the client sends is ignored.

import type { Conn, StreamHandler } from '../transport/conn.js';
import type { Service } from './service.js';

// Input is ignored and our side is already closed, so the peer's FIN needs no answer.
const handler: StreamHandler = { end: () => {} };

/** A service that answers every connection and datagram with `reply()`. */
export function oneShotService(name: string, reply: () => Buffer): Service {
  return {
    name,
    openStream(conn: Conn) {
      conn.end(reply());
      return handler;
    },
    answerDatagram: () => reply(),
  };
}
