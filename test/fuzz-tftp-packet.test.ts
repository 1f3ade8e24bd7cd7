// Property tests (fast-check) of the TFTP packet codec (RFC 1350, 2347): every valid packet
// survives encode → decode; any datagram either decodes into a packet whose fields stay within
// their documented bounds or is refused with MalformedPacketError and one of MALFORMED_REASONS
// — nothing else is ever thrown.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
  MALFORMED_REASONS,
  MAX_BLKSIZE,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_FILENAME_BYTES,
  MAX_OPTION_BYTES,
  MAX_OPTIONS,
  MAX_REQUEST_BYTES,
  MalformedPacketError,
  OP,
} from '../src/services/tftp/packet.js';

/** A NUL-free latin1 string of 1..max characters. */
const field = (max: number) =>
  fc
    .uint8Array({ minLength: 1, maxLength: max })
    .map((a) => Buffer.from(a.map((b) => (b === 0 ? 0x41 : b))).toString('latin1'));

const options = fc
  .uniqueArray(fc.tuple(field(12), field(12)), {
    maxLength: 6,
    selector: ([k]) => k.toLowerCase(),
  })
  .map((pairs) => pairs as [string, string][]);

test('valid requests, DATA, ACK, ERROR and OACK survive encode → decode', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(OP.RRQ, OP.WRQ),
      field(100),
      field(10),
      options,
      (op, filename, mode, opts) => {
        const p = decodePacket(encodeRequest(op, filename, mode, opts));
        assert.ok(p.op === OP.RRQ || p.op === OP.WRQ);
        assert.equal(p.op, op);
        assert.equal(p.filename, filename);
        assert.equal(p.mode, mode.toLowerCase());
        assert.deepEqual(
          [...p.options],
          opts.map(([k, v]) => [k.toLowerCase(), v]),
        );
      },
    ),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 65_535 }),
      fc.uint8Array({ maxLength: 1500 }),
      (block, data) => {
        const p = decodePacket(encodeData(block, data));
        assert.ok(p.op === OP.DATA && p.block === block && p.data.equals(data));
        const a = decodePacket(encodeAck(block));
        assert.ok(a.op === OP.ACK && a.block === block);
      },
    ),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 65_535 }),
      fc.string({ unit: 'binary-ascii', maxLength: 600 }),
      (code, text) => {
        const message = text.replace(/\0/g, ' ');
        const p = decodePacket(encodeError(code, message));
        assert.ok(p.op === OP.ERROR && p.code === code);
        assert.equal(p.message, message.slice(0, MAX_ERROR_MESSAGE_BYTES));
      },
    ),
  );
  fc.assert(
    fc.property(
      options.filter((o) => o.length > 0),
      (opts) => {
        const p = decodePacket(encodeOack(opts));
        assert.ok(p.op === OP.OACK);
        assert.deepEqual(
          [...p.options],
          opts.map(([k, v]) => [k.toLowerCase(), v]),
        );
      },
    ),
  );
});

/** Datagrams that look like TFTP: a plausible opcode, then random bytes (NULs frequent). */
const datagram = fc.oneof(
  fc.uint8Array({ maxLength: 1200 }),
  fc
    .tuple(
      fc.integer({ min: 0, max: 8 }),
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })), { maxLength: 1100 }),
    )
    .map(([op, rest]) => Uint8Array.from([0, op, ...rest])),
);

test('any datagram: a packet within its bounds, or MalformedPacketError with a documented reason', () => {
  fc.assert(
    fc.property(datagram, (bytes) => {
      let packet: ReturnType<typeof decodePacket>;
      try {
        packet = decodePacket(Buffer.from(bytes));
      } catch (err) {
        assert.ok(err instanceof MalformedPacketError, `threw ${String(err)}`);
        assert.equal(err.code, 'WIRECAT_TFTP_MALFORMED');
        assert.ok((MALFORMED_REASONS as readonly string[]).includes(err.reason));
        return;
      }
      switch (packet.op) {
        case OP.RRQ:
        case OP.WRQ:
          assert.ok(bytes.length <= MAX_REQUEST_BYTES);
          assert.ok(packet.filename.length > 0 && packet.filename.length <= MAX_FILENAME_BYTES);
          assert.ok(packet.mode.length > 0);
          assert.ok(packet.options.size <= MAX_OPTIONS);
          for (const [k, v] of packet.options) {
            assert.ok(k.length > 0 && k.length <= MAX_OPTION_BYTES && v.length <= MAX_OPTION_BYTES);
          }
          break;
        case OP.DATA:
          assert.ok(packet.data.length <= MAX_BLKSIZE);
          break;
        case OP.ERROR:
          assert.ok(packet.message.length <= MAX_ERROR_MESSAGE_BYTES);
          break;
        case OP.OACK:
          assert.ok(packet.options.size > 0 && packet.options.size <= MAX_OPTIONS);
          break;
        case OP.ACK:
          assert.equal(bytes.length, 4);
          break;
      }
    }),
    { numRuns: 3000 },
  );
});
