// The TFTP Sender and Receiver state machines with an injected clock and no sockets:
// retransmission, the retry limit, duplicate ACK/DATA (Sorcerer's Apprentice), unknown TIDs,
// windows (RFC 7440), rollover past block 65535, OACK handling, backpressure.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BlockSink, BufferSource } from '../src/services/tftp/blocks.js';
import { acceptOack } from '../src/services/tftp/options.js';
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
  OP,
  type Packet,
} from '../src/services/tftp/packet.js';
import {
  type Clock,
  Receiver,
  Sender,
  type TransferOutcome,
  type TransferStart,
} from '../src/services/tftp/transfer.js';

/** A clock that only moves when told to. */
class FakeClock implements Clock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Move time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

const PEER = { address: '127.0.0.1', port: 40_000 };

function harness() {
  const clock = new FakeClock();
  const sent: { packet: Packet; raw: Buffer; port: number; address: string }[] = [];
  const outcomes: TransferOutcome[] = [];
  const env = {
    clock,
    retries: 3,
    send: (raw: Buffer, port: number, address: string) =>
      sent.push({ packet: decodePacket(Buffer.from(raw)), raw: Buffer.from(raw), port, address }),
    done: (o: TransferOutcome) => outcomes.push(o),
  };
  const take = () => sent.splice(0).map((s) => s.packet);
  return { clock, sent, outcomes, env, take };
}

const params = (blksize = 512, windowsize = 1) => ({ blksize, windowsize, timeoutMs: 1000 });
const blocksOf = (packets: Packet[]) =>
  packets.map((p) =>
    p.op === OP.DATA
      ? `D${p.block}:${p.data.length}`
      : p.op === OP.ACK
        ? `A${p.block}`
        : `op${p.op}`,
  );

test('sender: lock-step, the short last block ends it, duplicate ACKs get no answer', () => {
  const h = harness();
  const s = new Sender(h.env, params(), { peer: PEER }, new BufferSource(Buffer.alloc(1000, 1)));
  s.start();
  assert.deepEqual(blocksOf(h.take()), ['D1:512']);
  s.receive(encodeAck(1), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['D2:488']);
  // Sorcerer's Apprentice: a second ACK 1 (the network duplicated it) must not resend DATA 2.
  s.receive(encodeAck(1), PEER.address, PEER.port);
  s.receive(encodeAck(1), PEER.address, PEER.port);
  assert.deepEqual(h.take(), []);
  s.receive(encodeAck(2), PEER.address, PEER.port);
  assert.equal(h.outcomes.length, 1);
  assert.ok(h.outcomes[0].ok);
  assert.equal(h.outcomes[0].stats.bytes, 1000);
  assert.equal(h.outcomes[0].stats.blocks, 2);
});

test('sender: a file of whole blocks ends with an empty block', () => {
  const h = harness();
  const s = new Sender(h.env, params(8), { peer: PEER }, new BufferSource(Buffer.alloc(16)));
  s.start();
  s.receive(encodeAck(1), PEER.address, PEER.port);
  s.receive(encodeAck(2), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['D1:8', 'D2:8', 'D3:0']);
  s.receive(encodeAck(3), PEER.address, PEER.port);
  assert.ok(h.outcomes[0]?.ok);
});

test('sender: retransmits on timeout, then gives up after the retry limit', () => {
  const h = harness();
  const s = new Sender(h.env, params(), { peer: PEER }, new BufferSource(Buffer.alloc(600)));
  s.start();
  h.take();
  h.clock.advance(999);
  assert.deepEqual(h.take(), [], 'nothing before the timeout');
  h.clock.advance(1);
  assert.deepEqual(blocksOf(h.take()), ['D1:512'], 'resent at 1000 ms');
  // Progress restarts the count: ACK 1 then silence.
  s.receive(encodeAck(1), PEER.address, PEER.port);
  h.take();
  h.clock.advance(3000);
  assert.deepEqual(blocksOf(h.take()), ['D2:88', 'D2:88', 'D2:88']);
  assert.equal(h.outcomes.length, 0);
  h.clock.advance(1000);
  assert.equal(h.outcomes.length, 1);
  const o = h.outcomes[0];
  assert.ok(!o.ok);
  assert.equal(o.error.code, 'WIRECAT_IDLE_TIMEOUT');
  assert.equal(o.stats.retransmits, 4);
  assert.deepEqual(h.take(), [], 'no packet after giving up');
  h.clock.advance(10_000);
  assert.equal(h.outcomes.length, 1, 'done is called once');
});

test('a packet from an unknown TID gets ERROR 5 and changes nothing', () => {
  const h = harness();
  const s = new Sender(h.env, params(), { peer: PEER }, new BufferSource(Buffer.alloc(600)));
  s.start();
  h.take();
  s.receive(encodeAck(1), PEER.address, PEER.port + 1);
  s.receive(encodeAck(1), '127.0.0.2', PEER.port);
  const errors = h.sent.splice(0);
  assert.deepEqual(
    errors.map((e) => [e.packet.op, e.packet.op === OP.ERROR && e.packet.code, e.port, e.address]),
    [
      [OP.ERROR, 5, PEER.port + 1, '127.0.0.1'],
      [OP.ERROR, 5, PEER.port, '127.0.0.2'],
    ],
  );
  assert.equal(h.outcomes.length, 0, 'the transfer goes on');
  s.receive(encodeAck(1), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['D2:88']);
  // A guard may forbid even that answer (the server's UDP guard: privileged ports etc.).
  const g = harness();
  const guarded = new Sender(
    { ...g.env, mayAnswer: () => false },
    params(),
    { peer: PEER },
    new BufferSource(Buffer.alloc(10)),
  );
  guarded.start();
  g.take();
  guarded.receive(encodeAck(1), PEER.address, 53);
  assert.deepEqual(g.take(), []);
});

test('sender: a malformed or unexpected packet ends it with ERROR 4; a peer ERROR ends it silently', () => {
  const h = harness();
  const s = new Sender(h.env, params(), { peer: PEER }, new BufferSource(Buffer.alloc(600)));
  s.start();
  h.take();
  s.receive(Buffer.from([0, 4, 0]), PEER.address, PEER.port);
  const [err] = h.take();
  assert.equal(err.op === OP.ERROR && err.code, 4);
  assert.ok(!h.outcomes[0].ok && h.outcomes[0].error.code === 'WIRECAT_TFTP_MALFORMED');

  const h2 = harness();
  const s2 = new Sender(h2.env, params(), { peer: PEER }, new BufferSource(Buffer.alloc(600)));
  s2.start();
  h2.take();
  s2.receive(encodeData(1, Buffer.alloc(3)), PEER.address, PEER.port);
  assert.equal(h2.take()[0].op, OP.ERROR);

  const h3 = harness();
  const s3 = new Sender(h3.env, params(), { peer: PEER }, new BufferSource(Buffer.alloc(600)));
  s3.start();
  h3.take();
  s3.receive(encodeError(0, 'disk on fire'), PEER.address, PEER.port);
  assert.deepEqual(h3.take(), [], 'never answer an ERROR');
  const o = h3.outcomes[0];
  assert.ok(!o.ok && o.error.code === 'WIRECAT_TFTP_REMOTE_ERROR');
  assert.match(o.error.message, /disk on fire \(TFTP error 0\)/);
});

test('sender: windows of N blocks; an ACK inside the window restarts from the gap', () => {
  const h = harness();
  const data = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN'); // 50 bytes
  const s = new Sender(h.env, params(8, 4), { peer: PEER }, new BufferSource(data));
  s.start();
  assert.deepEqual(blocksOf(h.take()), ['D1:8', 'D2:8', 'D3:8', 'D4:8']);
  s.receive(encodeAck(2), PEER.address, PEER.port); // blocks 3.. were lost
  assert.deepEqual(blocksOf(h.take()), ['D3:8', 'D4:8', 'D5:8', 'D6:8']);
  s.receive(encodeAck(2), PEER.address, PEER.port); // duplicate: ignored
  assert.deepEqual(h.take(), []);
  s.receive(encodeAck(6), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['D7:2']);
  h.clock.advance(1000);
  assert.deepEqual(blocksOf(h.take()), ['D7:2'], 'the timer resends the unacknowledged window');
  s.receive(encodeAck(7), PEER.address, PEER.port);
  assert.ok(h.outcomes[0]?.ok);
});

test('block numbers wrap 65535 → 0 and the bytes stay in order (both machines)', () => {
  const blksize = 8;
  const total = 65_537 * blksize + 3; // blocks 1..65538: wire numbers 65535, 0, 1, 2 at the end
  const data = Buffer.alloc(total);
  for (let i = 0; i < total; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
  const clock = new FakeClock();
  const received: Buffer[] = [];
  const outcomes: string[] = [];
  const wire: number[] = [];
  // eslint-style: two machines wired back to back through arrays, no sockets.
  const toReceiver: Buffer[] = [];
  const toSender: Buffer[] = [];
  const sender = new Sender(
    {
      clock,
      send: (p) => {
        wire.push(p.readUInt16BE(2));
        toReceiver.push(Buffer.from(p));
      },
      done: (o) => outcomes.push(`sender ${o.ok}`),
    },
    params(blksize, 3),
    { peer: { address: 'b', port: 2 } },
    new BufferSource(data),
  );
  const sink: BlockSink = { write: (d) => received.push(d) > 0 };
  const receiver = new Receiver(
    {
      clock,
      send: (p) => toSender.push(Buffer.from(p)),
      done: (o) => outcomes.push(`receiver ${o.ok}`),
    },
    params(blksize, 3),
    { peer: { address: 'a', port: 1 }, oack: encodeOack([['windowsize', '3']]) },
    sink,
  );
  receiver.start(); // sends the OACK (dropped here: the sender starts as if it had been answered)
  toSender.length = 0;
  sender.start();
  for (let rounds = 0; rounds < 200_000 && (toReceiver.length || toSender.length); rounds++) {
    const p = toReceiver.shift();
    if (p) receiver.receive(p, 'a', 1);
    const q = toSender.shift();
    if (q) sender.receive(q, 'b', 2);
  }
  assert.deepEqual(outcomes.sort(), ['receiver true', 'sender true']);
  assert.deepEqual(Buffer.concat(received), data);
  assert.deepEqual(wire.slice(-4), [65_535, 0, 1, 2]);
});

test('receiver: acks each block, answers a duplicate once, a gap once, and dallies after the end', () => {
  const h = harness();
  const got: Buffer[] = [];
  const r = new Receiver(h.env, params(4), { peer: PEER }, { write: (d) => got.push(d) > 0 });
  r.start();
  assert.deepEqual(blocksOf(h.take()), ['A0']);
  r.receive(encodeData(1, Buffer.from('abcd')), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['A1']);
  // Our ACK 1 was lost: the sender resends DATA 1 (several times): one answer only.
  r.receive(encodeData(1, Buffer.from('abcd')), PEER.address, PEER.port);
  r.receive(encodeData(1, Buffer.from('abcd')), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['A1']);
  // Block 3 before block 2: a gap; answer with the last in-order block, once.
  r.receive(encodeData(3, Buffer.from('ijkl')), PEER.address, PEER.port);
  r.receive(encodeData(4, Buffer.from('mnop')), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['A1']);
  // Silence: the timer resends the ACK.
  h.clock.advance(1000);
  assert.deepEqual(blocksOf(h.take()), ['A1']);
  r.receive(encodeData(2, Buffer.from('efgh')), PEER.address, PEER.port);
  r.receive(encodeData(3, Buffer.from('ij')), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['A2', 'A3']);
  assert.ok(h.outcomes[0]?.ok);
  assert.equal(Buffer.concat(got).toString(), 'abcdefghij');
  // The final ACK was lost: the resent last block is answered (a bounded number of times).
  for (let i = 0; i < 10; i++) r.receive(encodeData(3, Buffer.from('ij')), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['A3', 'A3', 'A3', 'A3']);
});

test('receiver: a window is acknowledged once, at its end', () => {
  const h = harness();
  const r = new Receiver(
    h.env,
    params(4, 3),
    { peer: PEER, oack: encodeOack([['windowsize', '3']]) },
    {
      write: () => true,
    },
  );
  r.start();
  assert.equal(h.take()[0].op, OP.OACK);
  h.clock.advance(1000);
  assert.equal(h.take()[0].op, OP.OACK, 'the OACK is resent until DATA 1 arrives');
  for (const b of [1, 2, 3, 4, 5])
    r.receive(encodeData(b, Buffer.alloc(4)), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['A3']);
  r.receive(encodeData(6, Buffer.alloc(4)), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['A6']);
  r.receive(encodeData(7, Buffer.alloc(0)), PEER.address, PEER.port);
  assert.deepEqual(blocksOf(h.take()), ['A7']);
  assert.ok(h.outcomes[0]?.ok);
});

test('receiver: the size limit ends the transfer with ERROR 3', () => {
  const h = harness();
  const r = new Receiver(h.env, params(4), { peer: PEER }, { write: () => true }, 6);
  r.start();
  r.receive(encodeData(1, Buffer.alloc(4)), PEER.address, PEER.port);
  r.receive(encodeData(2, Buffer.alloc(4)), PEER.address, PEER.port);
  const last = h.take().at(-1)!;
  assert.equal(last.op === OP.ERROR && last.code, 3);
  assert.ok(!h.outcomes[0].ok);
  // A block larger than negotiated is illegal.
  const h2 = harness();
  const r2 = new Receiver(h2.env, params(4), { peer: PEER }, { write: () => true });
  r2.start();
  r2.receive(encodeData(1, Buffer.alloc(5)), PEER.address, PEER.port);
  const e = h2.take().at(-1)!;
  assert.equal(e.op === OP.ERROR && e.code, 4);
});

test('receiver: a full sink holds the ACK until resume()', () => {
  const h = harness();
  let room = false;
  const r = new Receiver(h.env, params(4), { peer: PEER }, { write: () => room });
  r.start();
  h.take();
  r.receive(encodeData(1, Buffer.alloc(4)), PEER.address, PEER.port);
  r.receive(encodeData(1, Buffer.alloc(4)), PEER.address, PEER.port);
  h.clock.advance(5000);
  assert.deepEqual(
    h.take(),
    [],
    'no ACK while the sink is full, not even for duplicates or timeouts',
  );
  assert.equal(h.outcomes.length, 0);
  room = true;
  r.resume();
  assert.deepEqual(blocksOf(h.take()), ['A1']);
});

function clientStart(
  op: 1 | 2,
  asked: { blksize?: number; windowsize?: number; tsize?: number },
): TransferStart {
  return {
    request: encodeRequest(
      op,
      'f',
      'octet',
      Object.entries(asked).map(([k, v]) => [k, String(v)]),
    ),
    address: '127.0.0.1',
    port: 69,
    onOack: (o) => acceptOack(asked, o, 1000),
  };
}

test('client receiver: RRQ resent to port 69, the TID is learned from the first reply, OACK → ACK 0', () => {
  const h = harness();
  const got: Buffer[] = [];
  const r = new Receiver(h.env, params(), clientStart(1, { blksize: 16, tsize: 0 }), {
    write: (d) => got.push(d) > 0,
  });
  r.start();
  h.clock.advance(1000);
  assert.deepEqual(
    h.sent.splice(0).map((s) => [s.packet.op, s.port]),
    [
      [OP.RRQ, 69],
      [OP.RRQ, 69],
    ],
  );
  r.receive(
    encodeOack([
      ['blksize', '16'],
      ['tsize', '20'],
    ]),
    '127.0.0.1',
    5555,
  );
  assert.deepEqual(
    h.sent.splice(0).map((s) => [s.packet.op, s.packet.op === OP.ACK && s.packet.block, s.port]),
    [[OP.ACK, 0, 5555]],
  );
  assert.equal(r.parameters.blksize, 16);
  assert.equal(r.parameters.tsize, 20);
  // The server resends its OACK (our ACK 0 was lost): ACK 0 again.
  r.receive(
    encodeOack([
      ['blksize', '16'],
      ['tsize', '20'],
    ]),
    '127.0.0.1',
    5555,
  );
  assert.deepEqual(blocksOf(h.take()), ['A0']);
  // From now on port 69 is a stranger.
  r.receive(encodeData(1, Buffer.alloc(16)), '127.0.0.1', 69);
  assert.equal(h.sent.splice(0)[0].packet.op, OP.ERROR);
  r.receive(encodeData(1, Buffer.alloc(16)), '127.0.0.1', 5555);
  r.receive(encodeData(2, Buffer.alloc(4)), '127.0.0.1', 5555);
  assert.deepEqual(blocksOf(h.take()), ['A1', 'A2']);
  assert.ok(h.outcomes[0]?.ok);
});

test('client: an OACK granting more than asked is refused with ERROR 8; no answer at all is NO_REPLY', () => {
  const h = harness();
  const r = new Receiver(h.env, params(), clientStart(1, { blksize: 512 }), { write: () => true });
  r.start();
  h.take();
  r.receive(encodeOack([['blksize', '1024']]), '127.0.0.1', 5555);
  const [e] = h.take();
  assert.equal(e.op === OP.ERROR && e.code, 8);
  assert.ok(!h.outcomes[0].ok);

  const h2 = harness();
  const s = new Sender(h2.env, params(), clientStart(2, {}), new BufferSource(Buffer.alloc(1)));
  s.start();
  h2.clock.advance(10_000);
  assert.equal(h2.take().length, 4, 'the WRQ and 3 retries');
  const o = h2.outcomes[0];
  assert.ok(!o.ok && o.error.code === 'WIRECAT_NO_REPLY');
});

test('client sender: WRQ, then ACK 0 with no options starts DATA 1 at 512 bytes', () => {
  const h = harness();
  const s = new Sender(
    h.env,
    params(),
    clientStart(2, { blksize: 1024 }),
    new BufferSource(Buffer.alloc(700)),
  );
  s.start();
  assert.equal(h.take()[0].op, OP.WRQ);
  s.receive(encodeAck(0), '127.0.0.1', 7000);
  assert.deepEqual(blocksOf(h.take()), ['D1:512']);
  s.receive(encodeAck(1), '127.0.0.1', 7000);
  s.receive(encodeAck(2), '127.0.0.1', 7000);
  assert.deepEqual(blocksOf(h.take()), ['D2:188']);
  assert.ok(h.outcomes[0]?.ok);
});
