// The TFTP fast paths: FileSource's read-ahead (blocks cut from 64 KiB reads), TempFileSink's
// write-behind (blocks gathered into one writev, written after the ACK), and the Sender's
// read-ahead of the next block (a read error surfaces only when that block is due).

import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import {
  type BlockSource,
  FileSource,
  TFTP_READ_AHEAD_BYTES,
} from '../src/services/tftp/blocks.js';
import { TempFileSink, TFTP_WRITE_BEHIND_BYTES } from '../src/services/tftp/files.js';
import { decodePacket, encodeAck, OP, type Packet } from '../src/services/tftp/packet.js';
import { Sender, systemClock, type TransferOutcome } from '../src/services/tftp/transfer.js';
import { tempDir } from './helpers.js';

/** Deterministic bytes that differ at every offset of a block (catches a misplaced slice). */
function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

test('FileSource: any read length gives the file in order across read-ahead boundaries', (t) => {
  const dir = tempDir(t);
  const size = 3 * TFTP_READ_AHEAD_BYTES + 123;
  const data = pattern(size);
  writeFileSync(join(dir, 'f'), data);
  for (const length of [8, 512, 1428, 40_000, 65_464]) {
    for (const hint of [undefined, size]) {
      const fd = openSync(join(dir, 'f'), 'r');
      t.after(() => closeSync(fd));
      const source = new FileSource(fd, hint);
      const parts: Buffer[] = [];
      const into = Buffer.alloc(length + 4);
      for (let i = 0; i <= size / length + 1; i++) {
        const n = source.read(into, 4, length);
        parts.push(Buffer.from(into.subarray(4, 4 + n)));
        if (n < length) break;
        assert.equal(n, length, 'only the last read comes short');
      }
      assert.ok(Buffer.concat(parts).equals(data), `length ${length}, hint ${hint}`);
      assert.equal(source.read(into, 4, length), 0, 'nothing after the end');
    }
  }
});

test('FileSource: an empty and a tiny file', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'tiny'), 'hello');
  const into = Buffer.alloc(516);
  const empty = openSync(join(dir, 'empty'), 'r');
  t.after(() => closeSync(empty));
  assert.equal(new FileSource(empty, 0).read(into, 4, 512), 0);
  const tiny = openSync(join(dir, 'tiny'), 'r');
  t.after(() => closeSync(tiny));
  const source = new FileSource(tiny, 5);
  assert.equal(source.read(into, 4, 512), 5);
  assert.equal(into.toString('latin1', 4, 9), 'hello');
  assert.equal(source.read(into, 4, 512), 0);
});

test('TempFileSink: blocks are written behind, complete at finish(), and dropped by abort()', async (t) => {
  const dir = tempDir(t);
  const data = pattern(5 * TFTP_WRITE_BEHIND_BYTES + 300);
  const sink = new TempFileSink(join(dir, 'up.bin'), false);
  for (let at = 0; at < data.length; at += 512)
    assert.equal(sink.write(Buffer.from(data.subarray(at, at + 512))), true);
  await tick(); // a pending write-behind runs
  sink.finish();
  assert.ok(readFileSync(join(dir, 'up.bin')).equals(data));
  assert.deepEqual(readdirSync(dir), ['up.bin'], 'no temporary file left');

  const cut = new TempFileSink(join(dir, 'cut.bin'), false);
  for (let i = 0; i < 200; i++) cut.write(Buffer.alloc(512, 1));
  assert.ok(existsSync(cut.tempPath));
  cut.abort();
  await tick(); // a write-behind scheduled before abort() must not write to a closed fd
  assert.ok(!existsSync(cut.tempPath) && !existsSync(join(dir, 'cut.bin')));
});

test('TempFileSink: many tiny blocks (more than one writev holds) arrive intact', (t) => {
  const dir = tempDir(t);
  const data = pattern(3_000 * 8 + 5);
  const sink = new TempFileSink(join(dir, 'small.bin'), false);
  for (let at = 0; at < data.length; at += 8) sink.write(Buffer.from(data.subarray(at, at + 8)));
  sink.finish();
  assert.ok(readFileSync(join(dir, 'small.bin')).equals(data));
});

test('sender: the next block is read ahead, but a read error is reported only when it is due', () => {
  const sent: Packet[] = [];
  const outcomes: TransferOutcome[] = [];
  let reads = 0;
  const source: BlockSource = {
    read(into, offset, length) {
      if (++reads === 3) throw new Error('EIO');
      into.fill(reads, offset, offset + length);
      return length;
    },
  };
  const peer = { address: '127.0.0.1', port: 40_000 };
  const s = new Sender(
    {
      clock: systemClock,
      send: (raw) => sent.push(decodePacket(Buffer.from(raw))),
      done: (o) => outcomes.push(o),
    },
    { blksize: 512, windowsize: 1, timeoutMs: 60_000 },
    { peer },
    source,
  );
  s.start();
  assert.equal(reads, 2, 'block 2 was read ahead after DATA 1 went out');
  s.receive(encodeAck(1), peer.address, peer.port);
  assert.equal(outcomes.length, 0, 'block 3 failed to read, but block 2 is still due');
  assert.deepEqual(
    sent.map((p) => (p.op === OP.DATA ? `D${p.block}:${p.data[0]}` : `op${p.op}`)),
    ['D1:1', 'D2:2'],
  );
  s.receive(encodeAck(2), peer.address, peer.port);
  const last = sent.at(-1);
  assert.ok(last?.op === OP.ERROR && last.code === 0 && last.message === 'read error');
  assert.deepEqual(
    outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
    ['WIRECAT_IO'],
  );
});
