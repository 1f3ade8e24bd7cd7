// reverse: each message comes back reversed by Unicode code point (`héllo` → `olléh`),
// keeping its line ending. Bytes that are not valid UTF-8 are kept, each as one unit, so
// nothing is lost or altered beyond the reversal.

import { messageService } from './message-service.js';
import type { ServiceDefinition } from './service.js';

/** Length of the valid UTF-8 sequence starting at `i`, or 1 for a byte that starts none. */
function sequenceLength(bytes: Buffer, i: number): number {
  const b = bytes[i];
  const n =
    b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
        ? 2
        : b >= 0xe0 && b <= 0xef
          ? 3
          : b >= 0xf0 && b <= 0xf4
            ? 4
            : 1;
  if (n === 1 || i + n > bytes.length) return 1;
  for (let k = 1; k < n; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return 1;
  const b1 = bytes[i + 1];
  // Reject overlong forms, surrogates and code points above U+10FFFF (RFC 3629).
  if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f)) return 1;
  if ((b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return 1;
  return n;
}

/** Reverse `bytes` by UTF-8 code point; invalid bytes are reversed as single units. */
export function reverseUtf8(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let i = 0;
  let end = bytes.length;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    end -= n;
    bytes.copy(out, end, i, i + n);
    i += n;
  }
  return out;
}

export const reverse: ServiceDefinition = {
  name: 'reverse',
  summary: 'sends back each line reversed (by character), keeping its line ending',
  spec: 'wirecat',
  defaultPort: 10100,
  udp: true,
  create: (settings) =>
    messageService('reverse', settings, (content, ending) =>
      Buffer.concat([reverseUtf8(content), ending]),
    ),
};
