// Exit codes scripts can trust, one per outcome. Documented in README.md ("Exit codes").

import type { WirecatErrorCode } from '../errors.js';

export const EXIT = {
  /** Done; the exchange completed. */
  OK: 0,
  /** Any other failure (I/O, a limit, a file). */
  FAILURE: 1,
  /** Bad command line or config. */
  USAGE: 2,
  /** Nothing listens there, the host is unknown or unreachable, or the address is in use. */
  REFUSED: 3,
  /** Connect or idle timeout. */
  TIMEOUT: 4,
  /** The peer reset the connection. */
  RESET: 5,
  /** UDP: no reply after every retry. */
  NO_REPLY: 6,
  /** get: the server answered with a 4xx status (client error: not found, forbidden, …). */
  HTTP_CLIENT_ERROR: 7,
  /** get: the server answered with a 5xx status (server error). */
  HTTP_SERVER_ERROR: 8,
  /** Stopped by a second Ctrl-C / SIGTERM, or aborted. */
  INTERRUPTED: 130,
} as const;

/** The exit code for an error code. */
export function exitCodeFor(code: WirecatErrorCode | undefined): number {
  switch (code) {
    case 'WIRECAT_BAD_USAGE':
    case 'WIRECAT_BAD_ENDPOINT':
    case 'WIRECAT_BAD_CONFIG':
    case 'WIRECAT_UNKNOWN_SERVICE':
    case 'WIRECAT_UNSUPPORTED_TRANSPORT':
    case 'WIRECAT_BAD_URL':
      return EXIT.USAGE;
    case 'WIRECAT_CONNECT_REFUSED':
    case 'WIRECAT_ADDRESS_IN_USE':
      return EXIT.REFUSED;
    case 'WIRECAT_CONNECT_TIMEOUT':
    case 'WIRECAT_IDLE_TIMEOUT':
      return EXIT.TIMEOUT;
    case 'WIRECAT_RESET':
      return EXIT.RESET;
    case 'WIRECAT_NO_REPLY':
      return EXIT.NO_REPLY;
    case 'WIRECAT_ABORTED':
      return EXIT.INTERRUPTED;
    default:
      return EXIT.FAILURE;
  }
}
