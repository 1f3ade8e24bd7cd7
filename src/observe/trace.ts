// The `--trace` subscriber: prints the socket event timeline, one line per event, as text
// for people or as JSON Lines for programs.

import { type SocketEvent, subscribeAll } from './channels.js';

const PREVIEW_BYTES = 48;

/** Up to `max` bytes of `data` as printable text, with \r \n \t and \xNN escapes. */
export function previewBytes(data: Uint8Array, max = PREVIEW_BYTES): string {
  let out = '';
  const n = Math.min(data.length, max);
  for (let i = 0; i < n; i++) {
    const b = data[i];
    if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x22) out += '\\"';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return data.length > max ? `${out}…` : out;
}

const ARROWS: Partial<Record<SocketEvent['type'], string>> = {
  'data-in': '<-',
  'data-out': '->',
  'half-close-in': '<- FIN',
  'half-close-out': '-> FIN',
};

function clock(time: number): string {
  const d = new Date(time);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** One event as a line of text. */
export function formatEventText(e: SocketEvent): string {
  const who = `${e.service ?? '-'} ${e.transport}${e.id ? ` #${e.id}` : ''}`;
  let what: string;
  switch (e.type) {
    case 'data-in':
    case 'data-out':
      what = `${ARROWS[e.type]} ${e.bytes} B "${e.data ? previewBytes(e.data) : ''}"${e.remote && !e.id ? ` (${e.remote})` : ''}`;
      break;
    case 'half-close-in':
    case 'half-close-out':
      what = ARROWS[e.type] as string;
      break;
    case 'accept':
      what = `accept ${e.remote} on ${e.local}`;
      break;
    case 'connect':
      what = `connected ${e.local} to ${e.remote}`;
      break;
    case 'listen':
    case 'unlisten':
      what = `${e.type} ${e.local}`;
      break;
    case 'close':
      what = `close${e.reason ? ` (${e.reason})` : ''}, ${e.bytes ?? 0} B total`;
      break;
    default:
      what = `${e.type}${e.reason ? ` ${e.reason}` : ''}${e.message ? `: ${e.message}` : ''}${e.remote && !e.id ? ` (${e.remote})` : ''}`;
  }
  return `${clock(e.time)} ${who} ${what}`;
}

/** One event as a JSON object (bytes shown as an escaped preview, never raw). */
export function formatEventJson(e: SocketEvent): string {
  const { data, ...rest } = e;
  return JSON.stringify({
    ...rest,
    time: new Date(e.time).toISOString(),
    preview: data ? previewBytes(data) : undefined,
  });
}

/**
 * Print every socket event to `out` (stderr by default). Returns the stop function.
 *
 * @example
 * const stop = startTrace({ json: true });
 */
export function startTrace(
  options: { json?: boolean; out?: NodeJS.WritableStream } = {},
): () => void {
  const out = options.out ?? process.stderr;
  const format = options.json ? formatEventJson : formatEventText;
  return subscribeAll((event) => {
    out.write(`${format(event)}\n`);
  });
}
