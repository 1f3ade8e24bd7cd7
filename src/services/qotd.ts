// qotd (RFC 865): one short message (under 512 characters), then close; built-in quotes or
// the user's own (`--quotes FILE`, quotes separated by lines holding only `%`, fortune style).

import { WirecatError } from '../errors.js';
import { oneShotService } from './one-shot.js';
import type { ServiceDefinition } from './service.js';

/** RFC 865: "the quote ... should be limited to ASCII printing characters, space, CR and LF and under 512 characters". */
export const MAX_QUOTE_CHARS = 511;

export const BUILTIN_QUOTES: readonly string[] = [
  'Be conservative in what you do, be liberal in what you accept from others.\r\n  -- Jon Postel, RFC 761',
  'The Internet is a place where absolutely nothing happens. You need to be there.\r\n  -- Douglas Adams',
  'Simplicity is prerequisite for reliability.\r\n  -- Edsger W. Dijkstra',
  'There is no place like 127.0.0.1.\r\n  -- anonymous',
  'A distributed system is one in which the failure of a computer you did not even know existed can render your own computer unusable.\r\n  -- Leslie Lamport',
  'Data that is sent half-closed is still data.\r\n  -- wirecat',
];

/**
 * Parse a quotes file: quotes separated by lines holding only `%` (or by blank lines when
 * there is no `%`). Line endings become CRLF. Throws WIRECAT_BAD_CONFIG naming a quote that
 * is 512 bytes or longer on the wire.
 */
export function parseQuotes(text: string, source = 'quotes file'): string[] {
  const normal = text.replace(/\r\n/g, '\n');
  const pieces = /^%$/m.test(normal) ? normal.split(/^%$/m) : normal.split(/\n\s*\n/);
  return checkQuotes(
    pieces.map((q) => q.trim()).filter((q) => q !== ''),
    source,
  );
}

/**
 * Quotes with CRLF line endings, each checked to be under 512 bytes on the wire with its
 * final CRLF (bytes, not UTF-16 units: the limit is what the client receives).
 */
function checkQuotes(quotes: readonly string[], source: string): string[] {
  if (quotes.length === 0)
    throw new WirecatError('WIRECAT_BAD_CONFIG', `${source} holds no quotes`);
  return quotes.map((q, i) => {
    const crlf = q.replace(/\r?\n/g, '\r\n');
    const size = Buffer.byteLength(crlf) + 2;
    if (size > MAX_QUOTE_CHARS) {
      throw new WirecatError(
        'WIRECAT_BAD_CONFIG',
        `${source}: quote ${i + 1} is ${size} bytes with its line ending; RFC 865 allows under 512`,
      );
    }
    return crlf;
  });
}

export const qotd: ServiceDefinition = {
  name: 'qotd',
  summary: 'sends a quote of the day (under 512 characters), then closes',
  spec: 'RFC 865',
  defaultPort: 10017,
  udp: true,
  create: (settings) => {
    const quotes = settings.quotes ? checkQuotes(settings.quotes, 'quotes') : BUILTIN_QUOTES;
    const encoded = quotes.map((q) => Buffer.from(`${q}\r\n`));
    return oneShotService('qotd', () => encoded[Math.floor(Math.random() * encoded.length)]);
  },
};
