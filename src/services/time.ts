// time (RFC 868): the seconds since 1900-01-01T00:00Z as a 32-bit big-endian number, then
// close. Over UDP any datagram (the RFC sends an empty one) gets the 4 bytes. The counter
// wraps in February 2036, as the RFC's 32 bits do.

import { oneShotService } from './one-shot.js';
import type { ServiceDefinition } from './service.js';

/** Seconds from 1900-01-01 to 1970-01-01. */
export const RFC868_EPOCH_OFFSET = 2_208_988_800;

/** The 4 bytes RFC 868 sends for `date`. */
export function rfc868Bytes(date: Date): Buffer {
  const out = Buffer.allocUnsafe(4);
  const seconds = Math.floor(date.getTime() / 1000) + RFC868_EPOCH_OFFSET;
  out.writeUInt32BE(((seconds % 2 ** 32) + 2 ** 32) % 2 ** 32);
  return out;
}

export const time: ServiceDefinition = {
  name: 'time',
  summary: 'sends the time as 4 bytes: seconds since 1900, big-endian, then closes',
  spec: 'RFC 868',
  defaultPort: 10037,
  udp: true,
  create: (settings) => oneShotService('time', () => rfc868Bytes(settings.now())),
};
