// The `--trace` / `--hex` / `--json` options every verb shares.

import { startHexDump } from '../observe/hexdump.js';
import { startTrace } from '../observe/trace.js';

export const TRACE_OPTIONS = {
  trace: { type: 'boolean' },
  hex: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const TRACE_HELP = `  --trace              print the socket event timeline on stderr (accept, bytes, FIN each way,
                       RST, timeouts, limits, close)
  --hex                hex dump of the bytes each way on stderr, with offsets and timestamps
  --json               print every line (table, trace, summary) as JSON`;

/** Start the trace and hex dump subscribers when asked. */
export function applyTrace(values: { trace?: boolean; hex?: boolean; json?: boolean }): void {
  if (values.trace) startTrace({ json: values.json });
  if (values.hex) startHexDump();
}
