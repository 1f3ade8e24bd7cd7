// The `--crlf` / `--raw` options `connect` and `listen` share, and the rule that makes them
// interactive: a terminal on both stdin and stdout means the line mode (prompt, history).

import type { SessionOptions } from '../client/session.js';

export const LINE_MODE_OPTIONS = {
  crlf: { type: 'boolean', short: 'C' },
  raw: { type: 'boolean' },
} as const;

export const LINE_MODE_HELP = `  -C, --crlf           send line endings as CRLF (HTTP, SMTP and friends by hand)
  --raw                on a terminal too, pass bytes through without the line mode

On a terminal (stdin and stdout both), the line mode starts: a "> " prompt with editing and
history, the peer's text printed above it (control characters shown as ^[ etc., never
obeyed). /quit or Ctrl-D half-closes and waits for the peer's last bytes ("//quit" sends a
literal /quit); Ctrl-C leaves at once. Piped or redirected, bytes pass through unchanged.`;

/** The session options for the line-mode flags and the terminal we run on. */
export function lineModeFrom(values: { crlf?: boolean; raw?: boolean }): SessionOptions {
  const interactive = !values.raw && process.stdin.isTTY === true && process.stdout.isTTY === true;
  return {
    crlf: values.crlf,
    lineMode: interactive ? { input: process.stdin, output: process.stdout } : undefined,
  };
}
