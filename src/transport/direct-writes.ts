// For sockets a library writes to directly (node:http on both sides): count those writes on
// the Conn and publish them as data-out events, the way Conn.write does, so the Host's byte
// counts, --trace and --hex see them too.

import type net from 'node:net';
import { channels, publish } from '../observe/channels.js';
import type { Conn } from './conn.js';

/** Make every `conn.socket.write(...)` count and publish like `conn.write(...)`. */
export function observeDirectWrites(conn: Conn): void {
  const socket: net.Socket = conn.socket;
  const write = socket.write;
  socket.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    const data =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8')
        : (chunk as Uint8Array);
    conn.bytesOut += data.length;
    if (channels['data-out'].hasSubscribers) {
      publish({
        type: 'data-out',
        id: conn.id,
        service: conn.service,
        transport: conn.transport,
        local: conn.local,
        remote: conn.remote,
        bytes: data.length,
        data,
      });
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof socket.write;
}
