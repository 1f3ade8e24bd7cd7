// Errors with a stable `code` and a sentence a user can act on (match on `code`, not on text).

/** Every error code wirecat raises. Stable across releases. */
export type WirecatErrorCode =
  | 'WIRECAT_BAD_ENDPOINT'
  | 'WIRECAT_BAD_USAGE'
  | 'WIRECAT_BAD_CONFIG'
  | 'WIRECAT_UNKNOWN_SERVICE'
  | 'WIRECAT_UNSUPPORTED_TRANSPORT'
  | 'WIRECAT_LINE_TOO_LONG'
  | 'WIRECAT_BUFFER_LIMIT'
  | 'WIRECAT_CONNECT_REFUSED'
  | 'WIRECAT_CONNECT_TIMEOUT'
  | 'WIRECAT_IDLE_TIMEOUT'
  | 'WIRECAT_REQUEST_TIMEOUT'
  | 'WIRECAT_RESET'
  | 'WIRECAT_NO_REPLY'
  | 'WIRECAT_ADDRESS_IN_USE'
  | 'WIRECAT_ABORTED'
  | 'WIRECAT_SHUTDOWN'
  | 'WIRECAT_SERVICE_FAILED'
  | 'WIRECAT_FILE_NOT_FOUND'
  | 'WIRECAT_FILE_FORBIDDEN'
  | 'WIRECAT_FILE_TOO_LARGE'
  | 'WIRECAT_NAME_TOO_LONG'
  | 'WIRECAT_BAD_URL'
  | 'WIRECAT_TLS_VERIFY'
  | 'WIRECAT_TOO_MANY_REDIRECTS'
  | 'WIRECAT_BAD_RESPONSE'
  | 'WIRECAT_IO'
  | 'WIRECAT_FLOOD'
  | 'WIRECAT_ROOM_FULL'
  | 'WIRECAT_TFTP_MALFORMED'
  | 'WIRECAT_TFTP_REMOTE_ERROR'
  | 'WIRECAT_TFTP_SIZE_MISMATCH';

// A brand shared by every copy of this module (each CLI verb is bundled on its own, and an
// application may load two versions), so `instanceof` and isWirecatError work across them.
const kBrand = Symbol.for('wirecat.error');

/** An error wirecat raised on purpose: `code` is stable, `message` says what to do. */
export class WirecatError extends Error {
  readonly code: WirecatErrorCode;
  readonly [kBrand] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[kBrand] === true
    );
  }

  constructor(code: WirecatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WirecatError';
    this.code = code;
  }
}

/** True when `err` is a WirecatError with the given code (or any code when omitted). */
export function isWirecatError(err: unknown, code?: WirecatErrorCode): err is WirecatError {
  return err instanceof WirecatError && (code === undefined || err.code === code);
}

/**
 * The error for a local file we could not open, in words ("its folder does not exist")
 * rather than the system's message, which may name a temporary file the user never chose.
 */
export function localFileError(action: 'read' | 'write', path: string, err: unknown): WirecatError {
  const code = (err as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: action === 'write' ? 'its folder does not exist' : 'no such file',
    ENOTDIR: 'a part of the path is not a folder',
    EISDIR: 'it is a folder',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
  };
  const reason = (code && reasons[code]) ?? (err as Error).message;
  return new WirecatError('WIRECAT_IO', `cannot ${action} ${path}: ${reason}`, { cause: err });
}
