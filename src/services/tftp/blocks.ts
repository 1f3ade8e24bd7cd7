// Block sources and sinks for TFTP transfers, and the netascii conversion of RFC 1350 (the
// Telnet NVT rule of RFC 764: LF travels as CR LF, a bare CR as CR NUL).

import { readSync } from 'node:fs';

/** Where a sender's bytes come from, read in order. Synchronous on purpose: see FileSource. */
export interface BlockSource {
  /** Fill `into[offset..offset+length)`; fewer bytes than asked only at the end of the data. */
  read(into: Buffer, offset: number, length: number): number;
}

/** Where a receiver's bytes go. */
export interface BlockSink {
  /** Take one block's bytes (a buffer the sink may keep). False: hold the ACKs until resumed. */
  write(data: Buffer): boolean;
  /**
   * The last block arrived: make the data final (flush, rename) before the last ACK goes out.
   * Throw to fail the transfer; an error's numeric `tftpCode` becomes the ERROR code sent.
   */
  finish?(): void;
}

/**
 * Bytes a FileSource reads at once (one readSync per 128 blocks of 512 bytes). Per transfer,
 * and only as much as the file holds when it is smaller.
 */
export const TFTP_READ_AHEAD_BYTES = 65_536;

/**
 * Reads a file descriptor in order with readSync, TFTP_READ_AHEAD_BYTES at a time, and hands
 * out blocks from that buffer. A thread-pool read per block would cost more than the whole
 * lock-step round trip (tens of µs); even a synchronous read per block (a syscall and a trip
 * through the fs binding, a few µs) is most of a Node server's own work per block. A read
 * never blocks for more than the read-ahead from the page cache. Reads at least half the
 * read-ahead long (large blksizes) go straight into the caller's buffer.
 */
export class FileSource implements BlockSource {
  private position = 0;
  private chunk: Buffer | undefined;
  private start = 0;
  private end = 0;
  private eof = false;
  /** `sizeHint`: the file's size when known, so a small file gets a small buffer. */
  constructor(
    private readonly fd: number,
    private readonly sizeHint = Number.POSITIVE_INFINITY,
  ) {}
  read(into: Buffer, offset: number, length: number): number {
    let got = 0;
    while (got < length) {
      if (this.start === this.end) {
        if (this.eof) break;
        if (2 * (length - got) >= TFTP_READ_AHEAD_BYTES) {
          const n = this.readAt(into, offset + got, length - got);
          if (n === 0) break;
          got += n;
          continue;
        }
        this.chunk ??= Buffer.allocUnsafe(
          Math.max(1, Math.min(TFTP_READ_AHEAD_BYTES, this.sizeHint + 1)),
        );
        this.start = 0;
        this.end = this.readAt(this.chunk, 0, this.chunk.length);
        if (this.end === 0) break;
        continue;
      }
      const n = Math.min(length - got, this.end - this.start);
      this.chunk!.copy(into, offset + got, this.start, this.start + n);
      this.start += n;
      got += n;
    }
    return got;
  }
  private readAt(into: Buffer, offset: number, length: number): number {
    const n = readSync(this.fd, into, offset, length, this.position);
    this.position += n;
    if (n === 0) this.eof = true;
    return n;
  }
}

/** Serves a Buffer (tests, and small in-memory files). */
export class BufferSource implements BlockSource {
  private position = 0;
  constructor(private readonly data: Uint8Array) {}
  read(into: Buffer, offset: number, length: number): number {
    const n = Math.min(length, this.data.length - this.position);
    into.set(this.data.subarray(this.position, this.position + n), offset);
    this.position += n;
    return n;
  }
}

/** Raw bytes read from the inner source per refill when encoding netascii. */
const NETASCII_CHUNK = 16_384;

/** Encodes a source to netascii on the fly: LF → CR LF, CR → CR NUL. */
export class NetasciiSource implements BlockSource {
  private pending: Buffer = Buffer.alloc(0);
  private readonly raw = Buffer.allocUnsafe(NETASCII_CHUNK);
  private ended = false;
  constructor(private readonly inner: BlockSource) {}
  read(into: Buffer, offset: number, length: number): number {
    let got = 0;
    while (got < length) {
      if (this.pending.length === 0) {
        if (this.ended) break;
        const n = this.inner.read(this.raw, 0, NETASCII_CHUNK);
        if (n < NETASCII_CHUNK) this.ended = true;
        this.pending = encodeNetascii(this.raw.subarray(0, n));
        continue;
      }
      const n = Math.min(length - got, this.pending.length);
      this.pending.copy(into, offset + got, 0, n);
      this.pending = this.pending.subarray(n);
      got += n;
    }
    return got;
  }
}

/** Netascii bytes for raw bytes. */
export function encodeNetascii(raw: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(raw.length * 2);
  let j = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === 10) {
      out[j++] = 13;
      out[j++] = 10;
    } else if (b === 13) {
      out[j++] = 13;
      out[j++] = 0;
    } else out[j++] = b;
  }
  return out.subarray(0, j);
}

/**
 * Decodes netascii back to local bytes across block boundaries: CR LF → LF, CR NUL → CR; a CR
 * followed by anything else is kept as is (lenient: some senders do not escape a bare CR).
 */
export class NetasciiDecoder {
  private cr = false;
  /** Decode one block. */
  push(chunk: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let j = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.cr) {
        this.cr = false;
        if (b === 10) {
          out[j++] = 10;
          continue;
        }
        out[j++] = 13;
        if (b === 0) continue;
      }
      if (b === 13) this.cr = true;
      else out[j++] = b;
    }
    return out.subarray(0, j);
  }
  /** The bytes held back at the end (a final lone CR). */
  end(): Buffer {
    const tail = this.cr ? Buffer.from([13]) : Buffer.alloc(0);
    this.cr = false;
    return tail;
  }
}

/** A sink that decodes netascii before handing bytes on; `finish()` flushes a held CR. */
export class NetasciiSink implements BlockSink {
  private readonly decoder = new NetasciiDecoder();
  constructor(private readonly inner: BlockSink) {}
  write(data: Buffer): boolean {
    return this.inner.write(this.decoder.push(data));
  }
  finish(): void {
    const tail = this.decoder.end();
    if (tail.length > 0) this.inner.write(tail);
    this.inner.finish?.();
  }
}
