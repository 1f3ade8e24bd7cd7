// `--record FILE.jsonl`: every socket event as one JSON line (payload bytes in base64), for
// later study or replay; and the reader that turns such a file back into events.

import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { WirecatError } from '../errors.js';
import { EVENT_TYPES, type SocketEvent, subscribeAll } from './channels.js';

/** Bytes waiting for the disk before events are dropped (and counted) instead of queued. */
export const DEFAULT_RECORD_BACKLOG_BYTES = 8 * 1_048_576;

/** One line of a recording: a SocketEvent with `data` as base64 and `time` in epoch ms. */
export interface RecordedEvent extends Omit<SocketEvent, 'data'> {
  data?: string;
}

/** A running recording. */
export interface Recorder {
  readonly path: string;
  /** Events written so far. */
  readonly written: number;
  /** Events dropped because the disk fell behind by more than the backlog bound. */
  readonly dropped: number;
  /** Stop recording, note any drops, flush and close the file. */
  close(): Promise<void>;
}

/** One event as its JSON line (without the newline). */
export function formatRecordLine(e: SocketEvent): string {
  const { data, ...rest } = e;
  return JSON.stringify(
    data
      ? { ...rest, data: Buffer.from(data.buffer, data.byteOffset, data.length).toString('base64') }
      : rest,
  );
}

/**
 * Write every socket event to `path` as JSON Lines. The file is truncated first. A slow disk
 * never slows the sockets: past `backlogBytes` unwritten, events are dropped and a
 * `{"type":"record-dropped","count":N}` line marks the gap.
 *
 * @example
 * const rec = await startRecording('/tmp/flow.jsonl');
 * // … traffic …
 * await rec.close();
 */
export async function startRecording(
  path: string,
  options: { backlogBytes?: number } = {},
): Promise<Recorder> {
  const backlog = options.backlogBytes ?? DEFAULT_RECORD_BACKLOG_BYTES;
  const out = createWriteStream(path, { flags: 'w' });
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', (err) =>
      reject(new WirecatError('WIRECAT_IO', `cannot write the recording ${path}: ${err.message}`)),
    );
  });
  let failure: Error | undefined;
  out.on('error', (err) => {
    failure = err;
  });
  const state = { written: 0, dropped: 0, pendingDrops: 0 };
  const stop = subscribeAll((event) => {
    if (failure || out.writableLength > backlog) {
      state.dropped++;
      state.pendingDrops++;
      return;
    }
    if (state.pendingDrops > 0) {
      out.write(`{"type":"record-dropped","count":${state.pendingDrops}}\n`);
      state.pendingDrops = 0;
    }
    out.write(`${formatRecordLine(event)}\n`);
    state.written++;
  });
  return {
    path,
    get written() {
      return state.written;
    },
    get dropped() {
      return state.dropped;
    },
    close: () => {
      stop();
      if (state.pendingDrops > 0 && !failure)
        out.write(`{"type":"record-dropped","count":${state.pendingDrops}}\n`);
      return new Promise<void>((resolve) => out.end(() => resolve()));
    },
  };
}

const KNOWN = new Set<string>(EVENT_TYPES);

/**
 * Read a recording back: yields each event with `data` as a Buffer, in file order. Lines that
 * are not events (the drop markers) are skipped; a malformed line is an error naming it.
 *
 * @example
 * const store = new EventStore();
 * for await (const e of readRecording('/tmp/flow.jsonl')) store.ingest(e);
 */
export async function* readRecording(path: string): AsyncGenerator<SocketEvent> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let parsed: RecordedEvent;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new WirecatError('WIRECAT_BAD_CONFIG', `${path}:${n}: not a JSON line`);
    }
    if (!KNOWN.has(parsed.type)) continue;
    const { data, ...rest } = parsed;
    yield data === undefined ? rest : { ...rest, data: Buffer.from(data, 'base64') };
  }
}
