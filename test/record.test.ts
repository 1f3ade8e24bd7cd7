// --record: every socket event as a JSON line with the exact payload bytes, read back into
// an event store that rebuilds the same flow (replay).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readRecording, startRecording } from '../src/observe/record.js';
import { EventStore } from '../src/observe/store.js';
import { exchange, portOf, startHost, tempDir } from './helpers.js';

test('a recording holds every event in order with the exact bytes, and replays', async (t) => {
  const file = join(tempDir(t), 'flow.jsonl');
  const recorder = await startRecording(file);
  t.after(() => recorder.close());
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const payload = Buffer.from([0, 1, 2, 0xff, 0x0a, 0x68, 0x69]);
  assert.deepEqual(await exchange(portOf(host, 'echo'), payload), payload);
  await host.close(0);
  await recorder.close();

  const lines = readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  const conn = lines.filter((e) => e.id !== 0);
  assert.deepEqual(
    conn.map((e) => e.type),
    ['accept', 'data-in', 'data-out', 'half-close-in', 'half-close-out', 'close'],
  );
  assert.deepEqual(Buffer.from(conn[1].data, 'base64'), payload);
  assert.deepEqual(Buffer.from(conn[2].data, 'base64'), payload);
  assert.equal(lines[0].type, 'listen');
  assert.equal(lines.at(-1).type, 'unlisten');
  assert.ok(
    lines.every((e, i) => i === 0 || e.time >= lines[i - 1].time),
    'in time order',
  );
  assert.equal(recorder.written, lines.length);

  const store = new EventStore();
  for await (const e of readRecording(file)) store.ingest(e);
  const flow = store.flows.get(`c${conn[0].id}`);
  assert.ok(flow);
  assert.equal(flow.state, 'closed');
  assert.equal(flow.bytesIn, payload.length);
  assert.deepEqual(flow.events[1].preview, payload);
});

test('a disk that falls behind costs dropped events, counted, never a slow socket', async (t) => {
  const file = join(tempDir(t), 'tiny.jsonl');
  const recorder = await startRecording(file, { backlogBytes: 0 });
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  for (let i = 0; i < 5; i++) await exchange(portOf(host, 'echo'), 'x'.repeat(1000));
  await recorder.close();
  assert.ok(recorder.dropped > 0, 'some events were dropped');
  const lines = readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  const marked = lines.filter((l) => l.type === 'record-dropped').reduce((n, l) => n + l.count, 0);
  assert.equal(marked, recorder.dropped, 'every drop is marked in the file');
  assert.equal(
    lines.length - lines.filter((l) => l.type === 'record-dropped').length,
    recorder.written,
  );
});
