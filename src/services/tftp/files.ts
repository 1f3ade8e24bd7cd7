// Files for TFTP: reads and writes confined to the root through FileRoot (no `..`, absolute
// names taken under the root, no symlink leading out), and writes that go to a temporary file
// renamed into place only when complete, so no one sees a half-written file under its name.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  linkSync,
  openSync,
  renameSync,
  unlinkSync,
  writevSync,
} from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isWirecatError } from '../../errors.js';
import type { FileRoot } from '../file-root.js';
import type { BlockSink } from './blocks.js';
import type { Refusal } from './options.js';
import { TFTP_ERROR } from './packet.js';

/**
 * Received bytes a TempFileSink holds before writing them out with one writev (the blocks are
 * kept as received, not copied): one write syscall per 128 blocks of 512 bytes instead of one
 * per block. The write runs after the current ACK went out (setImmediate), like tftpd-hpa's
 * write-behind; at twice this much held it runs at once, so at most 2 × this is held.
 */
export const TFTP_WRITE_BEHIND_BYTES = 65_536;

/** Mode of files the server creates (tftpd-hpa's 0666 lets anyone rewrite them; we do not). */
export const TFTP_FILE_MODE = 0o644;

const deny = (code: number, message: string): Refusal => ({ code, message });

/** The TFTP error for a FileRoot error or a file system error. */
export function refusalFor(err: unknown, name: string): Refusal {
  if (isWirecatError(err)) {
    switch (err.code) {
      case 'WIRECAT_FILE_NOT_FOUND':
        return deny(TFTP_ERROR.FILE_NOT_FOUND, `${name}: file not found`);
      case 'WIRECAT_FILE_FORBIDDEN':
      case 'WIRECAT_NAME_TOO_LONG':
      case 'WIRECAT_FILE_TOO_LARGE':
        return deny(TFTP_ERROR.ACCESS_VIOLATION, err.message);
    }
  }
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return deny(TFTP_ERROR.FILE_NOT_FOUND, `${name}: file not found`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP')
    return deny(TFTP_ERROR.ACCESS_VIOLATION, `${name}: access denied`);
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return deny(TFTP_ERROR.DISK_FULL, `${name}: disk full`);
  return deny(TFTP_ERROR.NOT_DEFINED, `${name}: ${code ?? 'server error'}`);
}

/** An error thrown by a sink's finish(), carrying the TFTP error code to send. */
function sinkError(code: number, message: string): Error {
  return Object.assign(new Error(message), { tftpCode: code });
}

/**
 * Writes to `DIR/.NAME.RANDOM.part` and moves it to `DIR/NAME` on finish(): nobody ever sees
 * a half-written file under the final name. abort() removes the temporary file.
 */
export class TempFileSink implements BlockSink {
  readonly tempPath: string;
  private fd: number | undefined;
  private done = false;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private scheduled: NodeJS.Immediate | undefined;
  /** A write-behind that failed: thrown by the next write() or finish(). */
  private failed: unknown;

  /** `overwrite` false: finish() fails with ERROR 6 when the final name exists by then. */
  constructor(
    readonly finalPath: string,
    private readonly overwrite: boolean,
    mode = TFTP_FILE_MODE,
  ) {
    this.tempPath = join(
      dirname(finalPath),
      `.${basename(finalPath)}.${randomBytes(6).toString('hex')}.part`,
    );
    this.fd = openSync(
      this.tempPath,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
  }

  write(data: Buffer): boolean {
    if (this.failed !== undefined) throw this.failed;
    if (data.length === 0) return true;
    this.held.push(data);
    this.heldBytes += data.length;
    if (this.heldBytes >= 2 * TFTP_WRITE_BEHIND_BYTES || this.held.length >= MAX_IOVECS)
      this.flush();
    else if (this.heldBytes >= TFTP_WRITE_BEHIND_BYTES)
      this.scheduled ??= setImmediate(this.writeBehind);
    return true;
  }

  private readonly writeBehind = (): void => {
    this.scheduled = undefined;
    if (this.fd === undefined) return;
    try {
      this.flush();
    } catch (err) {
      this.failed = err;
    }
  };

  private flush(): void {
    let list = this.held;
    let left = this.heldBytes;
    this.held = [];
    this.heldBytes = 0;
    while (left > 0) {
      const n = writevSync(this.fd!, list);
      left -= n;
      if (left > 0) list = dropFront(list, n); // a short write (rare on files): write the rest
    }
  }

  finish(): void {
    this.unschedule();
    try {
      if (this.failed !== undefined) throw this.failed;
      this.flush();
    } catch (err) {
      this.abort();
      throw sinkError(TFTP_ERROR.DISK_FULL, `write error: ${(err as Error).message}`);
    }
    closeSync(this.fd!);
    this.fd = undefined;
    try {
      if (this.overwrite) renameSync(this.tempPath, this.finalPath);
      else {
        // link() fails if the name appeared meanwhile (another upload): never clobber it.
        linkSync(this.tempPath, this.finalPath);
        unlinkSync(this.tempPath);
      }
      this.done = true;
    } catch (err) {
      this.abort();
      const e = err as NodeJS.ErrnoException;
      throw e.code === 'EEXIST'
        ? sinkError(TFTP_ERROR.FILE_EXISTS, `${basename(this.finalPath)} already exists`)
        : sinkError(TFTP_ERROR.NOT_DEFINED, `cannot save ${this.finalPath}: ${e.message}`);
    }
  }

  private unschedule(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  /** Drop the temporary file (a failed or cut transfer). Safe to call more than once. */
  abort(): void {
    this.unschedule();
    this.held = [];
    this.heldBytes = 0;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (!this.done) {
      try {
        unlinkSync(this.tempPath);
      } catch {}
      this.done = true;
    }
  }
}

/** writev takes at most IOV_MAX (1024 on Linux) buffers at once. */
const MAX_IOVECS = 1_024;

/** The buffers after the first `n` bytes of `list`. */
function dropFront(list: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (n >= list[i].length) n -= list[i++].length;
  const rest = list.slice(i);
  rest[0] = rest[0].subarray(n);
  return rest;
}

/**
 * Prepare a WRQ: the folder must exist inside the root, the name must not be a symlink, and
 * an existing file is refused (ERROR 6) unless `allowOverwrite`.
 */
export async function openForWrite(
  root: FileRoot,
  name: string,
  allowOverwrite: boolean,
): Promise<TempFileSink | Refusal> {
  let target: string;
  try {
    const parts = root.segments(name);
    if (parts.length === 0) return deny(TFTP_ERROR.ACCESS_VIOLATION, 'no file name');
    const folder = parts.slice(0, -1);
    const dir = await realpath(join(root.path, ...folder)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
      return undefined;
    });
    // Uploads never create folders: say which one is missing, not that the file is.
    if (dir === undefined)
      return deny(
        TFTP_ERROR.FILE_NOT_FOUND,
        `"${folder.join('/')}/": no such folder on the server`,
      );
    if (!root.contains(dir))
      return deny(TFTP_ERROR.ACCESS_VIOLATION, `"${name}": leads outside the served folder`);
    target = join(dir, parts[parts.length - 1]);
    const stat = await lstat(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (stat?.isSymbolicLink())
      return deny(TFTP_ERROR.ACCESS_VIOLATION, `"${name}": will not write through a symlink`);
    if (stat && !stat.isFile())
      return deny(TFTP_ERROR.ACCESS_VIOLATION, `"${name}": not a regular file`);
    if (stat && !allowOverwrite) return deny(TFTP_ERROR.FILE_EXISTS, `"${name}" already exists`);
    return new TempFileSink(target, allowOverwrite);
  } catch (err) {
    return refusalFor(err, name);
  }
}
