// The `--trace` / `--json` options every verb shares.

import { startTrace } from '../observe/trace.js';

export const TRACE_OPTIONS = {
  trace: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const TRACE_HELP = `  --trace              print the socket event timeline on stderr (accept, bytes, FIN each way, close)
  --json               print every line (table, trace, summary) as JSON`;

/** Start the trace subscriber when asked. */
export function applyTrace(values: { trace?: boolean; json?: boolean }): void {
  if (values.trace) startTrace({ json: values.json });
}
