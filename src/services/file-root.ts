// Root confinement for every service that sends files by name (files/Gopher, http, TFTP): a
// request name maps to a regular file or a folder inside the root, never to anything outside
// it — no `..`, no absolute paths leaving it, no symlinks leading out, no devices or FIFOs.

import { constants, realpathSync, statSync } from 'node:fs';
import { type FileHandle, open, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { WirecatError } from '../errors.js';

/** The largest file served unless the service is told otherwise (4 GiB). */
export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 ** 3;
/** The longest request name (selector, URL path, TFTP filename) accepted, in bytes. */
export const DEFAULT_MAX_NAME_BYTES = 1024;
/** The most entries a folder listing holds; the rest are left out (and the listing says so). */
export const DEFAULT_MAX_LISTING_ENTRIES = 10_000;

/** Options for a FileRoot. */
export interface FileRootOptions {
  /** Files larger than this are refused with WIRECAT_FILE_TOO_LARGE. */
  maxFileBytes?: number;
  /** Names longer than this (UTF-8 bytes) are refused with WIRECAT_NAME_TOO_LONG. */
  maxNameBytes?: number;
  /** The most entries `list` returns. */
  maxListingEntries?: number;
}

/** A file or folder inside the root. */
export interface RootEntry {
  kind: 'file' | 'directory';
  /** The real absolute path (symlinks resolved). */
  path: string;
  /** The name relative to the root, `/`-separated, '' for the root itself. */
  name: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** A regular file inside the root, opened for reading. The caller closes `handle`. */
export interface OpenedFile extends RootEntry {
  kind: 'file';
  handle: FileHandle;
}

/** One entry of a folder listing. */
export interface ListingEntry {
  /** The entry's own name (one path segment). */
  name: string;
  kind: 'file' | 'directory';
  size: number;
  mtimeMs: number;
}

/** A folder listing, sorted: folders first, then by name. */
export interface Listing {
  entries: ListingEntry[];
  /** True when the folder held more than `maxListingEntries` entries. */
  truncated: boolean;
}

function notFound(name: string): WirecatError {
  return new WirecatError('WIRECAT_FILE_NOT_FOUND', `"${name}" does not exist`);
}

function forbidden(name: string, why: string): WirecatError {
  return new WirecatError('WIRECAT_FILE_FORBIDDEN', `"${name}": ${why}`);
}

/** Map a file system error while resolving `name` to a WirecatError a client may see. */
function fsFailure(err: unknown, name: string): WirecatError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return notFound(name);
  if (code === 'EACCES' || code === 'EPERM') return forbidden(name, 'permission denied');
  if (code === 'ELOOP') return forbidden(name, 'a symlink loop or a symlink as the last step');
  return new WirecatError('WIRECAT_IO', `"${name}": ${(err as Error)?.message ?? err}`, {
    cause: err,
  });
}

/**
 * A folder whose files may be sent by name.
 *
 * @example
 * const root = new FileRoot('/srv/files', { maxFileBytes: 1_048_576 });
 * const file = await root.open('/docs/readme.txt'); // or 'docs/readme.txt'
 * try { … file.handle.createReadStream() … } finally { await file.handle.close(); }
 * await root.open('../etc/passwd');                 // throws WIRECAT_FILE_FORBIDDEN
 */
export class FileRoot {
  /** The root's real absolute path. */
  readonly path: string;
  readonly maxFileBytes: number;
  readonly maxNameBytes: number;
  readonly maxListingEntries: number;

  /** Throws WIRECAT_BAD_CONFIG when `dir` is not an existing folder. */
  constructor(dir: string, options: FileRootOptions = {}) {
    try {
      this.path = realpathSync(dir);
      if (!statSync(this.path).isDirectory()) throw new Error('not a folder');
    } catch (err) {
      throw new WirecatError(
        'WIRECAT_BAD_CONFIG',
        `the root ${dir} is not a readable folder (${(err as Error).message})`,
      );
    }
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.maxNameBytes = options.maxNameBytes ?? DEFAULT_MAX_NAME_BYTES;
    this.maxListingEntries = options.maxListingEntries ?? DEFAULT_MAX_LISTING_ENTRIES;
  }

  /**
   * The safe path segments of a request name, or a thrown WirecatError. A leading `/` is
   * allowed (names are always taken relative to the root); empty and `.` segments vanish;
   * `..`, NUL and backslashes are refused rather than interpreted.
   */
  segments(name: string): string[] {
    if (Buffer.byteLength(name) > this.maxNameBytes) {
      throw new WirecatError(
        'WIRECAT_NAME_TOO_LONG',
        `the name is longer than ${this.maxNameBytes} bytes`,
      );
    }
    if (name.includes('\0')) throw forbidden(name, 'names may not contain NUL');
    if (name.includes('\\')) throw forbidden(name, 'names use / between folders, not \\');
    const parts: string[] = [];
    for (const part of name.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') throw forbidden(name, 'names may not contain ..');
      parts.push(part);
    }
    return parts;
  }

  /** True when the real path `real` is the root or inside it. */
  contains(real: string): boolean {
    return (
      real === this.path || real.startsWith(this.path.endsWith(sep) ? this.path : this.path + sep)
    );
  }

  /** Find a regular file or folder by name, following symlinks only while they stay inside. */
  async lookup(name: string): Promise<RootEntry> {
    const parts = this.segments(name);
    let real: string;
    try {
      real = await realpath(join(this.path, ...parts));
    } catch (err) {
      throw fsFailure(err, name);
    }
    if (!this.contains(real)) throw forbidden(name, 'leads outside the served folder');
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(real);
    } catch (err) {
      throw fsFailure(err, name);
    }
    const kind = info.isFile() ? 'file' : info.isDirectory() ? 'directory' : undefined;
    if (!kind) throw forbidden(name, 'not a regular file');
    return {
      kind,
      path: real,
      name: parts.join('/'),
      size: info.size,
      mtimeMs: info.mtimeMs,
      ino: info.ino,
    };
  }

  /**
   * Open a regular file by name for reading. Throws WIRECAT_FILE_NOT_FOUND,
   * WIRECAT_FILE_FORBIDDEN (outside, a folder, not regular), WIRECAT_FILE_TOO_LARGE.
   */
  async open(name: string, entry?: RootEntry): Promise<OpenedFile> {
    const found = entry ?? (await this.lookup(name));
    if (found.kind !== 'file') throw forbidden(name, 'is a folder');
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: a symlink swapped in after lookup is refused, not followed. O_NONBLOCK: a
      // FIFO swapped in cannot block the open; the fstat below then refuses it.
      handle = await open(
        found.path,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
    } catch (err) {
      throw fsFailure(err, name);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw forbidden(name, 'not a regular file');
      if (info.size > this.maxFileBytes) {
        throw new WirecatError(
          'WIRECAT_FILE_TOO_LARGE',
          `"${name}" is ${info.size} bytes, over the limit of ${this.maxFileBytes}`,
        );
      }
      await this.checkOpened(handle, name);
      return {
        ...found,
        kind: 'file',
        size: info.size,
        mtimeMs: info.mtimeMs,
        ino: info.ino,
        handle,
      };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  // A folder on the path may have been swapped for a symlink between lookup and open: where
  // the kernel can say what was really opened (Linux /proc), check that too.
  private async checkOpened(handle: FileHandle, name: string): Promise<void> {
    let opened: string;
    try {
      opened = await realpath(`/proc/self/fd/${handle.fd}`);
    } catch {
      return; // no /proc: the lookup check stands alone
    }
    if (!this.contains(opened)) throw forbidden(name, 'leads outside the served folder');
  }

  /** List a folder by name: regular files and folders inside the root, at most maxListingEntries. */
  async list(name: string, entry?: RootEntry): Promise<Listing> {
    const found = entry ?? (await this.lookup(name));
    if (found.kind !== 'directory') throw forbidden(name, 'not a folder');
    let dirents: import('node:fs').Dirent[];
    try {
      dirents = await readdir(found.path, { withFileTypes: true });
    } catch (err) {
      throw fsFailure(err, name);
    }
    const entries: ListingEntry[] = [];
    let truncated = false;
    for (const d of dirents) {
      if (entries.length >= this.maxListingEntries) {
        truncated = true;
        break;
      }
      if (!d.isFile() && !d.isDirectory() && !d.isSymbolicLink()) continue;
      const full = join(found.path, d.name);
      try {
        const real = d.isSymbolicLink() ? await realpath(full) : full;
        if (!this.contains(real)) continue; // a symlink leading out is not shown either
        const info = await stat(real);
        if (!info.isFile() && !info.isDirectory()) continue;
        entries.push({
          name: d.name,
          kind: info.isDirectory() ? 'directory' : 'file',
          size: info.size,
          mtimeMs: info.mtimeMs,
        });
      } catch {
        // vanished or unreadable since readdir: leave it out
      }
    }
    entries.sort((a, b) =>
      a.kind === b.kind
        ? a.name < b.name
          ? -1
          : a.name > b.name
            ? 1
            : 0
        : a.kind === 'directory'
          ? -1
          : 1,
    );
    return { entries, truncated };
  }
}

/**
 * The FileRoot a file-serving service runs on, from its settings; WIRECAT_BAD_USAGE naming
 * the service when no root was given.
 */
export function fileRootFor(
  service: string,
  settings: { root?: string; maxFileBytes?: number; maxNameBytes?: number },
): FileRoot {
  if (!settings.root) {
    throw new WirecatError(
      'WIRECAT_BAD_USAGE',
      `the ${service} service needs a folder to serve: give --root DIR`,
    );
  }
  return new FileRoot(settings.root, {
    maxFileBytes: settings.maxFileBytes,
    maxNameBytes: settings.maxNameBytes,
  });
}
