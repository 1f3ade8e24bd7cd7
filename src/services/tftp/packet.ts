// TFTP packets (RFC 1350, OACK from RFC 2347): encode and strictly decode RRQ, WRQ, DATA,
// ACK, ERROR and OACK. Every malformed packet is refused with a stable reason (see
// MALFORMED_REASONS) so a peer gets ERROR 4 and a test can name the case.

import { WirecatError } from '../../errors.js';

export const OP = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 error codes (8 from RFC 2347). */
export const TFTP_ERROR = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;

/** The default block size of RFC 1350. */
export const DEFAULT_BLKSIZE = 512;
/** The block size bounds of RFC 2348 (65464 = 65535 − IPv4 and UDP headers − TFTP header). */
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65_464;
/** Longest RRQ/WRQ accepted: a request with its options fits in one small datagram. */
export const MAX_REQUEST_BYTES = 1_024;
/** Longest file name in a request. */
export const MAX_FILENAME_BYTES = 512;
/** Most options in one request or OACK (RFC 2347 names five; the rest are extensions). */
export const MAX_OPTIONS = 16;
/** Longest option name or value. */
export const MAX_OPTION_BYTES = 64;
/** Longest ERROR message we decode (longer ones are cut, not refused: it is the last packet). */
export const MAX_ERROR_MESSAGE_BYTES = 512;

/** Why a packet was refused. Stable: tests and traces match on these. */
export const MALFORMED_REASONS = [
  'too-short', // fewer than 4 bytes (2 for the opcode, 2 for a block, code or first string)
  'unknown-opcode', // opcode not 1..6
  'request-too-long', // RRQ/WRQ over MAX_REQUEST_BYTES
  'unterminated-string', // a filename, mode or option without its NUL
  'empty-filename',
  'filename-too-long',
  'empty-mode',
  'option-without-value', // an option name with no value string after it
  'empty-option-name',
  'option-too-long', // name or value over MAX_OPTION_BYTES
  'too-many-options',
  'duplicate-option', // the same name twice (case-insensitive)
  'data-too-long', // DATA payload over MAX_BLKSIZE
  'bad-ack-length', // ACK not exactly 4 bytes
] as const;
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

/** A packet that breaks RFC 1350/2347 framing. `reason` is one of MALFORMED_REASONS. */
export class MalformedPacketError extends WirecatError {
  constructor(
    readonly reason: MalformedReason,
    detail: string,
  ) {
    super('WIRECAT_TFTP_MALFORMED', `malformed TFTP packet (${reason}): ${detail}`);
  }
}

export type RequestPacket = {
  op: typeof OP.RRQ | typeof OP.WRQ;
  filename: string;
  /** Lower-cased, as sent (netascii, octet, mail, or anything else: options.ts decides). */
  mode: string;
  /** Option names lower-cased; values as sent. Insertion order kept. */
  options: Map<string, string>;
  /** The names as the client spelled them (echoed back in the OACK, like tftpd-hpa). */
  optionNames: Map<string, string>;
};
/** `data` is a view into the received datagram, not a copy. */
export type DataPacket = { op: typeof OP.DATA; block: number; data: Buffer };
export type AckPacket = { op: typeof OP.ACK; block: number };
export type ErrorPacket = { op: typeof OP.ERROR; code: number; message: string };
export type OackPacket = { op: typeof OP.OACK; options: Map<string, string> };
export type Packet = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

/** Read NUL-terminated strings from `offset` to the end. */
function readStrings(buf: Buffer, offset: number): string[] {
  const out: string[] = [];
  while (offset < buf.length) {
    const end = buf.indexOf(0, offset);
    if (end < 0)
      throw new MalformedPacketError('unterminated-string', `field ${out.length + 1} has no NUL`);
    // latin1 keeps every byte (file names are bytes; RFC 1350 says netascii, but be lossless).
    out.push(buf.toString('latin1', offset, end));
    offset = end + 1;
  }
  return out;
}

function readOptions(strings: string[], from: number): [Map<string, string>, Map<string, string>] {
  const options = new Map<string, string>();
  const names = new Map<string, string>();
  if ((strings.length - from) % 2 !== 0)
    throw new MalformedPacketError(
      'option-without-value',
      `option "${strings[strings.length - 1]}" has no value`,
    );
  if ((strings.length - from) / 2 > MAX_OPTIONS)
    throw new MalformedPacketError('too-many-options', `more than ${MAX_OPTIONS} options`);
  for (let i = from; i < strings.length; i += 2) {
    const name = strings[i];
    const value = strings[i + 1];
    if (name === '') throw new MalformedPacketError('empty-option-name', 'an option has no name');
    if (name.length > MAX_OPTION_BYTES || value.length > MAX_OPTION_BYTES)
      throw new MalformedPacketError(
        'option-too-long',
        `option names and values hold at most ${MAX_OPTION_BYTES} bytes`,
      );
    const key = name.toLowerCase();
    if (options.has(key))
      throw new MalformedPacketError('duplicate-option', `option "${name}" appears twice`);
    options.set(key, value);
    names.set(key, name);
  }
  return [options, names];
}

/**
 * Decode one datagram. Throws MalformedPacketError for anything outside the RFCs' framing.
 * Lenient in one place only: an ERROR whose message lacks its NUL is accepted (it ends the
 * transfer anyway, and several embedded stacks omit it).
 */
export function decodePacket(buf: Buffer): Packet {
  if (buf.length < 4)
    throw new MalformedPacketError('too-short', `${buf.length} bytes, at least 4 needed`);
  const op = buf.readUInt16BE(0);
  switch (op) {
    case OP.RRQ:
    case OP.WRQ: {
      if (buf.length > MAX_REQUEST_BYTES)
        throw new MalformedPacketError(
          'request-too-long',
          `${buf.length} bytes, at most ${MAX_REQUEST_BYTES}`,
        );
      const strings = readStrings(buf, 2);
      const filename = strings[0] ?? '';
      if (filename === '') throw new MalformedPacketError('empty-filename', 'no file name');
      if (filename.length > MAX_FILENAME_BYTES)
        throw new MalformedPacketError(
          'filename-too-long',
          `file names hold at most ${MAX_FILENAME_BYTES} bytes`,
        );
      if (strings.length < 2 || strings[1] === '')
        throw new MalformedPacketError('empty-mode', 'no transfer mode');
      const [options, optionNames] = readOptions(strings, 2);
      return { op, filename, mode: strings[1].toLowerCase(), options, optionNames };
    }
    case OP.DATA: {
      if (buf.length - 4 > MAX_BLKSIZE)
        throw new MalformedPacketError(
          'data-too-long',
          `${buf.length - 4} data bytes, at most ${MAX_BLKSIZE}`,
        );
      return { op, block: buf.readUInt16BE(2), data: buf.subarray(4) };
    }
    case OP.ACK:
      if (buf.length !== 4)
        throw new MalformedPacketError('bad-ack-length', `${buf.length} bytes, an ACK has 4`);
      return { op, block: buf.readUInt16BE(2) };
    case OP.ERROR: {
      let end = buf.indexOf(0, 4);
      if (end < 0) end = buf.length;
      end = Math.min(end, 4 + MAX_ERROR_MESSAGE_BYTES);
      return { op, code: buf.readUInt16BE(2), message: buf.toString('latin1', 4, end) };
    }
    case OP.OACK: {
      // At least 4 bytes means at least one string, so an OACK always holds an option here.
      const [options] = readOptions(readStrings(buf, 2), 0);
      return { op, options };
    }
    default:
      throw new MalformedPacketError('unknown-opcode', `opcode ${op}`);
  }
}

function strings(op: number, parts: string[]): Buffer {
  let size = 2;
  for (const p of parts) size += Buffer.byteLength(p, 'latin1') + 1;
  const buf = Buffer.alloc(size);
  buf.writeUInt16BE(op, 0);
  let at = 2;
  for (const p of parts) {
    at += buf.write(p, at, 'latin1');
    buf[at++] = 0;
  }
  return buf;
}

/** RRQ or WRQ with options (names as given, values as strings). */
export function encodeRequest(
  op: typeof OP.RRQ | typeof OP.WRQ,
  filename: string,
  mode: string,
  options: Iterable<[string, string]> = [],
): Buffer {
  const parts = [filename, mode];
  for (const [k, v] of options) parts.push(k, v);
  return strings(op, parts);
}

/** OACK with the options as given. */
export function encodeOack(options: Iterable<[string, string]>): Buffer {
  const parts: string[] = [];
  for (const [k, v] of options) parts.push(k, v);
  return strings(OP.OACK, parts);
}

/** DATA with a copy of `data`. Senders on the hot path fill a packet buffer in place instead. */
export function encodeData(block: number, data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(4 + data.length);
  buf.writeUInt16BE(OP.DATA, 0);
  buf.writeUInt16BE(block & 0xffff, 2);
  buf.set(data, 4);
  return buf;
}

/** ACK for a block (the number is taken modulo 65536: block numbers wrap to 0). */
export function encodeAck(block: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeUInt16BE(OP.ACK, 0);
  buf.writeUInt16BE(block & 0xffff, 2);
  return buf;
}

/** ERROR with a code and a message (cut to MAX_ERROR_MESSAGE_BYTES). */
export function encodeError(code: number, message: string): Buffer {
  const text = message.slice(0, MAX_ERROR_MESSAGE_BYTES);
  const buf = Buffer.alloc(5 + Buffer.byteLength(text, 'latin1'));
  buf.writeUInt16BE(OP.ERROR, 0);
  buf.writeUInt16BE(code, 2);
  buf.write(text, 4, 'latin1');
  return buf;
}

/** A name for an opcode, for messages. */
export function opName(op: number): string {
  return ['?', 'RRQ', 'WRQ', 'DATA', 'ACK', 'ERROR', 'OACK'][op] ?? `opcode ${op}`;
}
