// files: send a name, get the file — the Gopher protocol (RFC 1436) over TCP. The client
// sends one selector line; the server answers with the file's bytes, or a menu for a folder,
// or a one-line error menu, then closes. Files are streamed with backpressure, never read
// whole into memory, and only from inside the root (file-root.ts).

import { isWirecatError, WirecatError } from '../errors.js';
import { LineDecoder, splitEnding } from '../framing/line-decoder.js';
import type { Conn, StreamHandler } from '../transport/conn.js';
import { normalizeAddress } from '../transport/endpoint.js';
import { gopherTypeOf } from './content-types.js';
import { type FileRoot, fileRootFor, type Listing } from './file-root.js';
import { describeDeadline, requestDeadline } from './request-deadline.js';
import type { Service, ServiceDefinition, ServiceSettings } from './service.js';

/** Bytes read from the file per write: one chunk in flight, plus the socket's own buffer. */
export const FILE_CHUNK_BYTES = 65_536;

/** The selector, host and port of error and info lines: empty, and the customary filler. */
const NO_HOST = '\t\terror.host\t1\r\n';

/** A Gopher item line; tabs and line breaks in names cannot be sent, so callers skip them. */
function itemLine(type: string, display: string, selector: string, host: string, port: number) {
  return `${type}${display}\t${selector}\t${host}\t${port}\r\n`;
}

/** True when `name` can appear in a menu line (no TAB, CR, LF). */
function menuSafe(name: string): boolean {
  return !/[\t\r\n]/.test(name);
}

/** The menu for a folder listing: one item per entry, selectors relative to the root. */
export function gopherMenu(folder: string, listing: Listing, host: string, port: number): string[] {
  const prefix = folder === '' ? '/' : `/${folder}/`;
  const lines: string[] = [];
  for (const entry of listing.entries) {
    if (!menuSafe(entry.name)) continue;
    const type = entry.kind === 'directory' ? '1' : gopherTypeOf(entry.name);
    lines.push(itemLine(type, entry.name, prefix + entry.name, host, port));
  }
  if (listing.truncated) lines.push(`i(more entries not listed)${NO_HOST}`);
  lines.push('.\r\n');
  return lines;
}

/** The error answer: a menu holding one type-3 item (the Gopher convention). */
export function gopherError(message: string): string {
  return `3${message.replace(/[\t\r\n]/g, ' ')}${NO_HOST}.\r\n`;
}

class GopherSession implements StreamHandler {
  private readonly lines: LineDecoder;
  private started = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly cancelDeadline: () => void;

  constructor(
    private readonly conn: Conn,
    private readonly root: FileRoot,
    requestTimeoutMs: number,
  ) {
    this.lines = new LineDecoder(root.maxNameBytes);
    this.cancelDeadline = requestDeadline(requestTimeoutMs, () => {
      if (this.started || this.closed) return;
      this.started = true;
      conn.refuse(
        'WIRECAT_REQUEST_TIMEOUT',
        gopherError(`no complete selector line within ${describeDeadline(requestTimeoutMs)}`),
      );
    });
  }

  data(conn: Conn, chunk: Buffer): void {
    if (this.started) return; // one request per connection; anything after it is ignored
    try {
      this.lines.push(chunk, this.onLine);
    } catch (err) {
      if (!isWirecatError(err, 'WIRECAT_LINE_TOO_LONG')) throw err;
      this.started = true;
      this.cancelDeadline();
      conn.refuse(
        'WIRECAT_NAME_TOO_LONG',
        gopherError(`selector longer than ${this.root.maxNameBytes} bytes`),
      );
    }
  }

  private readonly onLine = (line: Buffer): void => {
    if (this.started) return;
    this.start(splitEnding(line).content);
  };

  // Some clients half-close instead of ending the line: what came is the selector.
  end(): void {
    if (!this.started) this.start(this.lines.takePartial() ?? Buffer.alloc(0));
  }

  drain(): void {
    this.resume();
  }

  // Server shutdown: a file being sent finishes (within the drain deadline, after which the
  // Host resets the connection, so a cut transfer never looks complete); otherwise FIN.
  shutdown(conn: Conn): void {
    if (!this.started) conn.end();
  }

  close(): void {
    this.closed = true;
    this.cancelDeadline();
    this.resume();
  }

  private resume(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private start(raw: Buffer): void {
    this.started = true;
    this.cancelDeadline();
    this.conn.pauseReading();
    // Gopher+ clients may append TAB and more fields: the selector is what comes before.
    const text = raw.toString('utf8');
    const tab = text.indexOf('\t');
    const selector = tab < 0 ? text : text.slice(0, tab);
    this.answer(selector).catch((err) => {
      this.conn.abort('WIRECAT_SERVICE_FAILED', `files: ${(err as Error)?.message ?? err}`);
    });
  }

  /** Write with backpressure: resolves when the peer can take more (or the connection is gone). */
  private async send(data: Buffer | string): Promise<void> {
    if (this.closed) return;
    if (!this.conn.write(data) && !this.closed) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private async answer(selector: string): Promise<void> {
    let entry: Awaited<ReturnType<FileRoot['lookup']>>;
    try {
      entry = await this.root.lookup(selector);
      if (entry.kind === 'directory')
        return await this.sendMenu(entry.name, await this.root.list(selector, entry));
      return await this.sendFile(selector, entry);
    } catch (err) {
      if (!(err instanceof WirecatError) || this.closed) throw err;
      this.done(gopherError(err.message));
    }
  }

  /**
   * The answer is sent: half-close, and read again (we paused at the selector) so the peer's
   * FIN is seen; a peer that never closes is cut after the linger. Without this a client that
   * half-closed first left a paused, finished connection holding its slot until the idle timeout.
   */
  private done(last?: Buffer | string): void {
    this.conn.resumeReading();
    this.conn.finish(last);
  }

  private async sendMenu(folder: string, listing: Listing): Promise<void> {
    const socket = this.conn.socket;
    const host = normalizeAddress(socket.localAddress) || 'localhost';
    const port = socket.localPort ?? 0;
    let batch = '';
    for (const line of gopherMenu(folder, listing, host, port)) {
      batch += line;
      if (batch.length >= FILE_CHUNK_BYTES) {
        await this.send(batch);
        batch = '';
      }
    }
    if (!this.closed) this.done(batch);
  }

  private async sendFile(
    selector: string,
    entry: Awaited<ReturnType<FileRoot['lookup']>>,
  ): Promise<void> {
    const file = await this.root.open(selector, entry);
    try {
      // Send what the file held when opened: a file growing meanwhile is not followed.
      let position = 0;
      while (position < file.size && !this.closed) {
        const want = Math.min(FILE_CHUNK_BYTES, file.size - position);
        // A fresh buffer per chunk: the socket keeps a reference until the kernel takes it.
        const { bytesRead, buffer } = await file.handle.read(
          Buffer.allocUnsafe(want),
          0,
          want,
          position,
        );
        if (bytesRead === 0) break; // the file shrank
        position += bytesRead;
        await this.send(bytesRead < want ? buffer.subarray(0, bytesRead) : buffer);
      }
    } finally {
      await file.handle.close();
    }
    if (!this.closed) this.done();
  }
}

/** The files service: Gopher over TCP. Needs `root`. */
export const files: ServiceDefinition = {
  name: 'files',
  summary: 'send a name, get the file or a folder menu (Gopher); needs --root DIR',
  spec: 'RFC 1436',
  defaultPort: 10070,
  udp: false,
  optIn: true,
  create(settings: ServiceSettings): Service {
    const root = fileRootFor('files', settings);
    return {
      name: 'files',
      openStream: (conn) => new GopherSession(conn, root, settings.limits.requestTimeoutMs),
    };
  },
};
