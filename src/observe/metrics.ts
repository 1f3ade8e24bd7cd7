// `/metrics`: the store's counters in the OpenMetrics 1.0 text format (or the Prometheus
// 0.0.4 text format for scrapers that do not ask for OpenMetrics). Names and labels are
// documented in README.md ("Metrics").

import type { EventStore, ServiceRow } from './store.js';

/** Content types of the two exposition formats. */
export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;
interface Family {
  name: string;
  type: 'counter' | 'gauge';
  unit?: string;
  help: string;
  samples: (rows: ServiceRow[]) => [Labels, number][];
}

const base = (r: ServiceRow): Labels => ({ service: r.service, transport: r.transport });
const each = (pick: (r: ServiceRow) => number) => (rows: ServiceRow[]) =>
  rows.map((r): [Labels, number] => [base(r), pick(r)]);
const byReason =
  (pick: (r: ServiceRow) => Map<string, number>, label: string) => (rows: ServiceRow[]) =>
    rows.flatMap((r) =>
      [...pick(r)].map(([reason, n]): [Labels, number] => [{ ...base(r), [label]: reason }, n]),
    );

/** Every metric family, in output order. */
const FAMILIES: Family[] = [
  {
    name: 'wirecat_connections_active',
    type: 'gauge',
    help: 'Connections open now (UDP: local/remote pairs heard from recently).',
    samples: each((r) => r.active),
  },
  {
    name: 'wirecat_connections',
    type: 'counter',
    help: 'Connections accepted or dialled (UDP: local/remote pairs seen).',
    samples: each((r) => r.total),
  },
  {
    name: 'wirecat_received_bytes',
    type: 'counter',
    unit: 'bytes',
    help: 'Payload bytes received from peers.',
    samples: each((r) => r.bytesIn),
  },
  {
    name: 'wirecat_sent_bytes',
    type: 'counter',
    unit: 'bytes',
    help: 'Payload bytes sent to peers.',
    samples: each((r) => r.bytesOut),
  },
  {
    name: 'wirecat_received_datagrams',
    type: 'counter',
    help: 'UDP datagrams received.',
    samples: (rows) => each((r) => r.datagramsIn)(rows.filter((r) => r.transport === 'udp')),
  },
  {
    name: 'wirecat_sent_datagrams',
    type: 'counter',
    help: 'UDP datagrams sent.',
    samples: (rows) => each((r) => r.datagramsOut)(rows.filter((r) => r.transport === 'udp')),
  },
  {
    name: 'wirecat_errors',
    type: 'counter',
    help: 'Socket errors, by code (ECONNRESET, WIRECAT_BUFFER_LIMIT, ...).',
    samples: byReason((r) => r.errors, 'code'),
  },
  {
    name: 'wirecat_limit_hits',
    type: 'counter',
    help: 'Times a limit was hit, by limit (maxConnections, maxLineBytes, ...).',
    samples: byReason((r) => r.limitHits, 'limit'),
  },
  {
    name: 'wirecat_idle_timeouts',
    type: 'counter',
    help: 'Connections closed by the idle timeout.',
    samples: each((r) => r.timeouts),
  },
  {
    name: 'wirecat_udp_guard_drops',
    type: 'counter',
    help: 'UDP requests not answered by the loop and amplification guard, by reason.',
    samples: byReason((r) => r.udpDrops, 'reason'),
  },
  {
    name: 'wirecat_transfers_active',
    type: 'gauge',
    help: 'File transfers running now (TFTP).',
    samples: (rows) =>
      each((r) => r.transfersActive)(
        rows.filter((r) => r.transfersActive > 0 || r.transfers.size > 0),
      ),
  },
  {
    name: 'wirecat_transfers',
    type: 'counter',
    help: 'File transfers ended (TFTP), by outcome: done, or the error code.',
    samples: byReason((r) => r.transfers, 'outcome'),
  },
  {
    name: 'wirecat_listening',
    type: 'gauge',
    help: 'Endpoints listening now (1 per service, transport and address).',
    samples: (rows) =>
      rows.flatMap((r) =>
        r.addresses.map((address): [Labels, number] => [{ ...base(r), address }, 1]),
      ),
  },
];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/**
 * The metrics text. `openMetrics` picks OpenMetrics 1.0 (ends in `# EOF`, counters declared
 * without `_total`); otherwise the Prometheus 0.0.4 text format.
 */
export function renderMetrics(store: EventStore, openMetrics = true): string {
  store.sweep();
  const rows = [...store.rows.values()].filter((r) => r.service !== '' || r.total > 0);
  let out = '';
  for (const f of FAMILIES) {
    const samples = f.samples(rows);
    const sampleName = f.type === 'counter' ? `${f.name}_total` : f.name;
    const declared = openMetrics ? f.name : sampleName;
    out += `# TYPE ${declared} ${f.type}\n`;
    if (openMetrics && f.unit) out += `# UNIT ${declared} ${f.unit}\n`;
    out += `# HELP ${declared} ${f.help}\n`;
    for (const [labels, value] of samples) out += `${sampleName}${formatLabels(labels)} ${value}\n`;
  }
  return openMetrics ? `${out}# EOF\n` : out;
}

/** True when an HTTP Accept header asks for OpenMetrics. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return (accept ?? '').includes('application/openmetrics-text');
}
