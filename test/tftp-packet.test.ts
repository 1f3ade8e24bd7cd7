// TFTP packet codec (RFC 1350, 2347) — every malformed case has its reason — and option
// negotiation (RFC 2347/2348/2349/7440) on both sides.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  acceptOack,
  isRefusal,
  negotiateServer,
  parseMode,
  requestOptions,
  type ServerNegotiationLimits,
} from '../src/services/tftp/options.js';
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
  MALFORMED_REASONS,
  MalformedPacketError,
  type MalformedReason,
  OP,
  type RequestPacket,
} from '../src/services/tftp/packet.js';

const bytes = (...parts: (number[] | string)[]) =>
  Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))),
  );

test('requests, DATA, ACK, ERROR and OACK survive a round trip', () => {
  const rrq = decodePacket(
    encodeRequest(OP.RRQ, 'boot/pxelinux.0', 'OCTET', [
      ['BlkSize', '1428'],
      ['tsize', '0'],
    ]),
  ) as RequestPacket;
  assert.equal(rrq.op, OP.RRQ);
  assert.equal(rrq.filename, 'boot/pxelinux.0');
  assert.equal(rrq.mode, 'octet');
  assert.deepEqual(
    [...rrq.options],
    [
      ['blksize', '1428'],
      ['tsize', '0'],
    ],
  );
  assert.equal(rrq.optionNames.get('blksize'), 'BlkSize');
  const wrq = decodePacket(encodeRequest(OP.WRQ, 'a', 'netascii')) as RequestPacket;
  assert.equal(wrq.op, OP.WRQ);
  assert.equal(wrq.options.size, 0);

  const data = decodePacket(encodeData(65_536 + 7, Buffer.from('xyz')));
  assert.deepEqual(data, { op: OP.DATA, block: 7, data: Buffer.from('xyz') }); // wraps to 0..65535
  assert.deepEqual(decodePacket(encodeData(0, Buffer.alloc(0))), {
    op: OP.DATA,
    block: 0,
    data: Buffer.alloc(0),
  });
  assert.deepEqual(decodePacket(encodeAck(65_535)), { op: OP.ACK, block: 65_535 });
  assert.deepEqual(decodePacket(encodeAck(65_536)), { op: OP.ACK, block: 0 });
  assert.deepEqual(decodePacket(encodeError(1, 'File not found')), {
    op: OP.ERROR,
    code: 1,
    message: 'File not found',
  });
  const oack = decodePacket(encodeOack([['blksize', '512']]));
  assert.deepEqual(oack, { op: OP.OACK, options: new Map([['blksize', '512']]) });
  // The wire bytes of RFC 1350's examples.
  assert.deepEqual(encodeAck(1), Buffer.from([0, 4, 0, 1]));
  assert.deepEqual(encodeRequest(OP.RRQ, 'f', 'octet'), bytes([0, 1], 'f', [0], 'octet', [0]));
});

test('an ERROR without its NUL is accepted and its message is cut to a bound', () => {
  assert.deepEqual(decodePacket(bytes([0, 5, 0, 2], 'denied')), {
    op: OP.ERROR,
    code: 2,
    message: 'denied',
  });
  const long = decodePacket(bytes([0, 5, 0, 0], 'x'.repeat(2000), [0]));
  assert.equal(long.op === OP.ERROR && long.message.length, 512);
});

test('every malformed packet is refused with its documented reason', () => {
  const cases: [MalformedReason, Buffer][] = [
    ['too-short', Buffer.from([0, 4, 0])],
    ['too-short', Buffer.alloc(0)],
    ['unknown-opcode', Buffer.from([0, 7, 0, 0])],
    ['unknown-opcode', Buffer.from([1, 1, 0, 0])],
    ['request-too-long', bytes([0, 1], 'f', [0], 'octet', [0], 'x'.repeat(1100), [0])],
    ['unterminated-string', bytes([0, 1], 'file')],
    ['unterminated-string', bytes([0, 2], 'file', [0], 'octet')],
    ['unterminated-string', bytes([0, 6], 'blksize', [0], '512')],
    ['empty-filename', bytes([0, 1, 0], 'octet', [0])],
    ['filename-too-long', bytes([0, 1], 'n'.repeat(600), [0], 'octet', [0])],
    ['empty-mode', bytes([0, 1], 'file', [0])],
    ['empty-mode', bytes([0, 1], 'file', [0, 0])],
    ['option-without-value', bytes([0, 1], 'f', [0], 'octet', [0], 'blksize', [0])],
    ['empty-option-name', bytes([0, 1], 'f', [0], 'octet', [0, 0], '512', [0])],
    ['option-too-long', bytes([0, 1], 'f', [0], 'octet', [0], 'o'.repeat(65), [0], '1', [0])],
    ['option-too-long', bytes([0, 1], 'f', [0], 'octet', [0], 'blksize', [0], '9'.repeat(65), [0])],
    [
      'too-many-options',
      bytes(
        [0, 1],
        'f',
        [0],
        'octet',
        [0],
        ...Array.from({ length: 17 }, (_, i) => `o${i}\0${i}\0`),
      ),
    ],
    [
      'duplicate-option',
      bytes([0, 1], 'f', [0], 'octet', [0], 'blksize\x00512\x00BLKSIZE\x001024\x00'),
    ],
    ['data-too-long', Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.alloc(65_465)])],
    ['bad-ack-length', Buffer.from([0, 4, 0, 1, 0])],
    ['empty-option-name', Buffer.from([0, 6, 0, 0])], // an "empty" OACK: one nameless option
    ['empty-option-name', bytes([0, 6, 0], 'x', [0])],
  ];
  const seen = new Set<string>();
  for (const [reason, buf] of cases) {
    assert.throws(
      () => decodePacket(buf),
      (err: unknown) => {
        assert.ok(err instanceof MalformedPacketError, `not a MalformedPacketError for ${reason}`);
        assert.equal(err.reason, reason, `${buf.toString('hex').slice(0, 40)}`);
        assert.equal(err.code, 'WIRECAT_TFTP_MALFORMED');
        return true;
      },
    );
    seen.add(reason);
  }
  // A bare OACK opcode with nothing after it: no option at all.
  assert.throws(() => decodePacket(Buffer.from([0, 6, 0, 0]).subarray(0, 2)), /too-short/);
  assert.throws(() => decodePacket(bytes([0, 6], 'a', [0])), /option-without-value/);
  assert.deepEqual(
    [...MALFORMED_REASONS].filter((r) => !seen.has(r)),
    [],
    'every documented reason has a case',
  );
});

const LIMITS: ServerNegotiationLimits = {
  maxBlksize: 65_464,
  maxWindowsize: 64,
  maxWindowBytes: 2 * 1_048_576,
  defaultTimeoutMs: 1000,
  maxFileSize: 1000,
};

function request(op: 1 | 2, options: [string, string][], mode = 'octet'): RequestPacket {
  return decodePacket(encodeRequest(op, 'f', mode, options)) as RequestPacket;
}

test('the server grants, clamps, omits and refuses options as documented', () => {
  const ok = negotiateServer(
    request(1, [
      ['BLKSIZE', '100000'],
      ['timeout', '3'],
      ['tsize', '0'],
      ['windowsize', '100'],
      ['foo', 'bar'],
    ]),
    'octet',
    4242,
    LIMITS,
  );
  assert.ok(!isRefusal(ok));
  assert.deepEqual(ok.params, { blksize: 65_464, windowsize: 32, timeoutMs: 3000, tsize: 4242 });
  // Echoed in the client's spelling; window capped by maxWindowBytes / blksize; foo ignored.
  assert.deepEqual(ok.oack, [
    ['BLKSIZE', '65464'],
    ['timeout', '3'],
    ['tsize', '4242'],
    ['windowsize', '32'],
  ]);
  const none = negotiateServer(request(1, []), 'octet', 10, LIMITS);
  assert.ok(!isRefusal(none));
  assert.deepEqual(none.oack, []);
  assert.deepEqual(none.params, { blksize: 512, windowsize: 1, timeoutMs: 1000 });
  // tsize: omitted for netascii, for an empty file (curl rejects 0), and for "enable" (atftp).
  for (const [mode, size, value] of [
    ['netascii', 10, '0'],
    ['octet', 0, '0'],
    ['octet', 10, 'enable'],
  ] as const) {
    const r = negotiateServer(request(1, [['tsize', value]], mode), mode, size, LIMITS);
    assert.ok(!isRefusal(r));
    assert.deepEqual(r.oack, []);
  }
  for (const bad of [
    ['blksize', '7'],
    ['blksize', 'big'],
    ['timeout', '0'],
    ['timeout', '256'],
    ['windowsize', '0'],
    ['windowsize', '65536'],
  ] as [string, string][]) {
    const r = negotiateServer(request(1, [bad]), 'octet', 10, LIMITS);
    assert.ok(isRefusal(r), `${bad} should be refused`);
    assert.equal(r.code, 8);
  }
  const tooBig = negotiateServer(request(2, [['tsize', '1001']]), 'octet', undefined, LIMITS);
  assert.ok(isRefusal(tooBig));
  assert.equal(tooBig.code, 3);
  const wrq = negotiateServer(request(2, [['tsize', '1000']]), 'octet', undefined, LIMITS);
  assert.ok(!isRefusal(wrq));
  assert.equal(wrq.params.tsize, 1000);
  assert.equal(parseMode('octet'), 'octet');
  assert.equal((parseMode('mail') as { code: number }).code, 4);
  assert.equal((parseMode('binary') as { code: number }).code, 4);
});

test('the client accepts only what it asked for, never more', () => {
  const asked = { blksize: 1428, windowsize: 8, tsize: 0 };
  assert.deepEqual(requestOptions(asked), [
    ['blksize', '1428'],
    ['tsize', '0'],
    ['windowsize', '8'],
  ]);
  const ok = acceptOack(
    asked,
    new Map([
      ['blksize', '1024'],
      ['tsize', '99'],
    ]),
    500,
  );
  assert.deepEqual(ok, { blksize: 1024, windowsize: 1, timeoutMs: 500, tsize: 99 });
  for (const bad of [
    [['blksize', '2000']],
    [['windowsize', '9']],
    [['timeout', '5']],
    [['blksize', 'x']],
    [['blksize', '4']],
  ] as [string, string][][]) {
    const r = acceptOack(asked, new Map(bad), 500);
    assert.ok(isRefusal(r), `${bad} should be refused`);
    assert.equal(r.code, 8);
  }
});
