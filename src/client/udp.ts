// The UDP request/reply client (`wirecat udp`): send one datagram, wait for the reply,
// resend a bounded number of times, fail clearly when nothing comes back.

import { WirecatError } from '../errors.js';
import { channels, publish } from '../observe/channels.js';
import { dialDatagram } from '../transport/dial.js';
import { type Endpoint, formatEndpoint, parseEndpoint } from '../transport/endpoint.js';

/** How long to wait for a reply to each try. */
export const DEFAULT_UDP_TIMEOUT_MS = 2_000;
/** Extra tries after the first when no reply comes. */
export const DEFAULT_UDP_RETRIES = 2;
/** The largest payload a UDP datagram carries over IPv4. */
export const MAX_DATAGRAM_PAYLOAD = 65_507;

/** Options for `udpRequest`. */
export interface UdpRequestOptions {
  timeoutMs?: number;
  retries?: number;
  signal?: AbortSignal;
}

/**
 * Send `payload` as one datagram and resolve with the first reply.
 * Rejects with WIRECAT_NO_REPLY after `retries + 1` unanswered tries.
 *
 * @example
 * const reply = await udpRequest('udp://127.0.0.1:10037', Buffer.alloc(0)); // RFC 868 time
 * reply.readUInt32BE(0) - 2_208_988_800; // Unix seconds
 */
export async function udpRequest(
  target: string | Endpoint,
  payload: Buffer | string,
  options: UdpRequestOptions = {},
): Promise<Buffer> {
  const endpoint = typeof target === 'string' ? parseEndpoint(target, 'udp') : target;
  if (endpoint.transport !== 'udp') {
    throw new WirecatError(
      'WIRECAT_BAD_USAGE',
      `${formatEndpoint(endpoint)} is not a UDP endpoint; write udp://HOST:PORT`,
    );
  }
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (data.length > MAX_DATAGRAM_PAYLOAD) {
    throw new WirecatError(
      'WIRECAT_BAD_USAGE',
      `a datagram holds at most ${MAX_DATAGRAM_PAYLOAD} bytes; got ${data.length}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_UDP_TIMEOUT_MS;
  const tries = (options.retries ?? DEFAULT_UDP_RETRIES) + 1;
  const socket = await dialDatagram(endpoint);
  const where = formatEndpoint(endpoint);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(reply as Buffer);
      };
      const onAbort = () => finish(new WirecatError('WIRECAT_ABORTED', 'aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const send = () => {
        if (sent === tries) {
          return finish(
            new WirecatError(
              'WIRECAT_NO_REPLY',
              `no reply from ${where} after ${tries} ${tries === 1 ? 'try' : 'tries'} of ${timeoutMs} ms`,
            ),
          );
        }
        sent++;
        socket.send(data);
        if (channels['data-out'].hasSubscribers) {
          publish({
            type: 'data-out',
            id: 0,
            service: 'udp',
            transport: 'udp',
            remote: where,
            bytes: data.length,
            data,
          });
        }
        timer = setTimeout(send, timeoutMs);
      };
      socket.on('message', (reply) => {
        if (channels['data-in'].hasSubscribers) {
          publish({
            type: 'data-in',
            id: 0,
            service: 'udp',
            transport: 'udp',
            remote: where,
            bytes: reply.length,
            data: reply,
          });
        }
        finish(undefined, reply);
      });
      // A port with no listener answers with ICMP "port unreachable": report it, do not wait.
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') {
          finish(
            new WirecatError(
              'WIRECAT_CONNECT_REFUSED',
              `${where} refused the datagram (nothing listens there)`,
            ),
          );
        } else finish(new WirecatError('WIRECAT_IO', `${where}: ${err.message}`, { cause: err }));
      });
      send();
    });
  } finally {
    socket.close();
  }
}
