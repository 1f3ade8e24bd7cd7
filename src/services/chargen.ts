// chargen (RFC 864): the 72-character rotating line pattern. Over TCP it streams until the
// client goes away, pausing while the client is not reading; over UDP one datagram of whole
// lines, never over the RFC's 512 characters.

import type { Conn, StreamHandler } from '../transport/conn.js';
import type { ServiceDefinition } from './service.js';

const PRINTABLE = 95; // ' ' (32) to '~' (126)
const LINE_CHARS = 72;
const LINE_BYTES = LINE_CHARS + 2; // + CRLF
const UDP_MAX = 512;

/** Line `n` of the pattern (0 ≤ n < 95): 72 printable characters starting at offset n, then CRLF. */
export function chargenLine(n: number): string {
  let line = '';
  for (let i = 0; i < LINE_CHARS; i++) line += String.fromCharCode(32 + ((n + i) % PRINTABLE));
  return `${line}\r\n`;
}

// One full cycle of 95 lines repeated to about 64 KiB: writing it again and again continues
// the pattern exactly, and each write is one large buffer (no per-line work).
const CYCLE = Buffer.from(
  Array.from({ length: PRINTABLE }, (_, n) => chargenLine(n)).join(''),
  'latin1',
);
const STREAM_CHUNK = Buffer.concat(Array(9).fill(CYCLE));

function pump(conn: Conn): void {
  while (!conn.isClosed && conn.write(STREAM_CHUNK)) {
    // keep writing until the socket asks us to wait for 'drain'
  }
}

// Input is discarded; the peer's half-close does not stop the stream (RFC 864: until the
// client closes), only the connection's end does.
const handler: StreamHandler = {
  drain: pump,
  end: () => {},
};

export const chargen: ServiceDefinition = {
  name: 'chargen',
  summary: 'streams the 72-character rotating line pattern until you close',
  spec: 'RFC 864',
  defaultPort: 10019,
  udp: true,
  create: () => {
    let next = 0;
    return {
      name: 'chargen',
      openStream(conn) {
        setImmediate(pump, conn);
        return handler;
      },
      answerDatagram() {
        // Whole lines, as many as fit in 512 bytes, continuing the rotation per datagram.
        const lines = Math.floor(UDP_MAX / LINE_BYTES);
        const start = next * LINE_BYTES;
        next = (next + lines) % PRINTABLE;
        const out = Buffer.allocUnsafe(lines * LINE_BYTES);
        for (let i = 0; i < out.length; i++) out[i] = CYCLE[(start + i) % CYCLE.length];
        return out;
      },
    };
  },
};
