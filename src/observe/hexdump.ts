// The `--hex` subscriber: every data event as a hex dump with direction, timestamp, length
// and running offsets per connection and direction (the shape of `socat -x` / `ncat -x`,
// plus the offset into each stream so a byte can be found again).

import { channels, type SocketEvent } from './channels.js';

/** Bytes shown per dump line. */
export const HEX_BYTES_PER_LINE = 16;
/** Connections (or UDP peers) whose offsets are remembered; the oldest is forgotten first. */
export const HEX_MAX_TRACKED_STREAMS = 4_096;

/**
 * `data` as hex dump lines: offset, 16 bytes in hex, the same bytes as ASCII ('.' for
 * anything unprintable). `offset` is the position of data[0] in its stream.
 *
 * @example
 * hexLines(Buffer.from('hi\n'), 0)
 * // ['00000000  68 69 0a                                          |hi.|']
 */
export function hexLines(data: Uint8Array, offset = 0): string[] {
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += HEX_BYTES_PER_LINE) {
    const row = data.subarray(i, Math.min(i + HEX_BYTES_PER_LINE, data.length));
    let hex = '';
    let text = '';
    for (let j = 0; j < HEX_BYTES_PER_LINE; j++) {
      if (j === 8) hex += ' ';
      if (j < row.length) {
        const b = row[j];
        hex += `${b.toString(16).padStart(2, '0')} `;
        text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else hex += '   ';
    }
    lines.push(`${(offset + i).toString(16).padStart(8, '0')}  ${hex} |${text}|`);
  }
  return lines;
}

function stamp(time: number): string {
  const d = new Date(time);
  const micros = String(Math.floor((time % 1) * 1000)).padStart(3, '0');
  return `${d.toISOString().replace('T', ' ').slice(0, 23)}${micros}`;
}

/**
 * Print a hex dump of every data event to `out` (stderr by default); returns the stop function.
 * A header per event: `>` sent by us, `<` received; length; `from`..`to` offsets in that
 * direction of that connection (or UDP peer); which connection.
 *
 * @example
 * const stop = startHexDump();
 * // < 2026-11-20 21:46:38.000178 echo tcp #3 127.0.0.1:40202 length=6 from=0 to=5
 * // 00000000  68 65 6c 6c 6f 0a                                 |hello.|
 */
export function startHexDump(options: { out?: NodeJS.WritableStream } = {}): () => void {
  const out = options.out ?? process.stderr;
  const offsets = new Map<string, number>();
  const onData = (message: unknown) => {
    const e = message as SocketEvent;
    if (!e.data) return;
    const dir = e.type === 'data-out' ? '>' : '<';
    const key = `${dir}${e.id}${e.id === 0 ? (e.remote ?? '') : ''}`;
    const from = offsets.get(key) ?? 0;
    offsets.delete(key); // re-insert: Map order is our forget-oldest order
    if (offsets.size >= HEX_MAX_TRACKED_STREAMS) offsets.delete(offsets.keys().next().value!);
    offsets.set(key, from + e.data.length);
    const who = `${e.service ?? '-'} ${e.transport}${e.id ? ` #${e.id}` : ''} ${e.remote ?? ''}`;
    const head = `${dir} ${stamp(e.time)} ${who} length=${e.data.length} from=${from} to=${from + e.data.length - 1}`;
    out.write(`${head}\n${hexLines(e.data, from).join('\n')}\n`);
  };
  const onClose = (message: unknown) => {
    const e = message as SocketEvent;
    offsets.delete(`>${e.id}`);
    offsets.delete(`<${e.id}`);
  };
  channels['data-in'].subscribe(onData);
  channels['data-out'].subscribe(onData);
  channels.close.subscribe(onClose);
  return () => {
    channels['data-in'].unsubscribe(onData);
    channels['data-out'].unsubscribe(onData);
    channels.close.unsubscribe(onClose);
  };
}
