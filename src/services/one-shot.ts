// The shape shared by qotd, daytime and time: on connect, send one reply and half-close;
// for a datagram, answer with the same reply. Whatever the client sends is ignored.

import type { Conn, StreamHandler } from '../transport/conn.js';
import type { Service } from './service.js';

// Input is ignored and our side is already closed, so the peer's FIN needs no answer.
const handler: StreamHandler = { end: () => {} };

/** How long a peer may keep its side open after the reply before the connection is cut. */
export const ONE_SHOT_LINGER_MS = 2_000;

/** A service that answers every connection and datagram with `reply()`. */
export function oneShotService(name: string, reply: () => Buffer): Service {
  return {
    name,
    // Nothing is read, so the shared-read-buffer path (a second Socket object per
    // connection) would cost more than it saves on these accept-heavy services.
    needsSocketStream: true,
    openStream(conn: Conn) {
      conn.finish(reply(), ONE_SHOT_LINGER_MS);
      return handler;
    },
    replyOnAccept: reply,
    answerDatagram: () => reply(),
  };
}
