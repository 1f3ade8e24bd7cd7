// The one-line `-v` summary every talking verb prints at exit (connect, listen, relay):
// bytes each way, who closed first and when, how long it took.

/** What the summary line says. Byte counts are from our point of view. */
export interface Summary {
  /** The far end, as an endpoint string (or `A <-> B` for a relay). */
  endpoint: string;
  sent: number;
  received: number;
  /** Who closed first, as a word for people: 'server', 'we', 'client', 'upstream'. */
  closedFirstBy?: string;
  /** Milliseconds from the start to the first FIN, RST or close. */
  firstCloseMs?: number;
  ms: number;
}

/** The summary as a line for people, or as a JSON object (`--json`), newline included. */
export function formatSummary(verb: string, s: Summary, json?: boolean): string {
  const rounded = {
    ...s,
    firstCloseMs: s.firstCloseMs === undefined ? undefined : Math.round(s.firstCloseMs),
    ms: Math.round(s.ms),
  };
  if (json) return `${JSON.stringify({ event: 'summary', verb, ...rounded })}\n`;
  const first = rounded.closedFirstBy
    ? `, ${rounded.closedFirstBy} closed first${rounded.firstCloseMs === undefined ? '' : ` at ${rounded.firstCloseMs} ms`}`
    : '';
  return `wirecat ${verb}: ${s.endpoint}: sent ${s.sent} B, received ${s.received} B${first}, ${rounded.ms} ms in all\n`;
}

/** Print the summary on stderr. */
export function printSummary(verb: string, s: Summary, json?: boolean): void {
  process.stderr.write(formatSummary(verb, s, json));
}

/** The summary of a client session (connect, listen): 'peer' becomes `peerWord`, 'us' "we". */
export function sessionSummary(
  endpoint: string,
  result: {
    bytesSent: number;
    bytesReceived: number;
    closedFirstBy?: 'peer' | 'us';
    firstCloseMs?: number;
    durationMs: number;
  },
  peerWord = 'server',
): Summary {
  return {
    endpoint,
    sent: result.bytesSent,
    received: result.bytesReceived,
    closedFirstBy:
      result.closedFirstBy === undefined
        ? undefined
        : result.closedFirstBy === 'peer'
          ? peerWord
          : 'we',
    firstCloseMs: result.firstCloseMs,
    ms: result.durationMs,
  };
}
