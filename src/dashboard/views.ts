// What the page sees: the store's flows, rows and rates turned into small JSON objects, with
// byte previews rendered as text or hex. Read-only over observe/.

import type { EventStore, Flow, FlowEvent, ServiceRow } from '../observe/store.js';
import { previewBytes } from '../observe/trace.js';

/** A burst's first bytes, as escaped text when mostly printable, else as hex. */
export function renderPreview(bytes: Buffer): { text: string } | { hex: string } {
  let printable = 0;
  for (const b of bytes)
    if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) printable++;
  if (printable >= bytes.length * 0.9) return { text: previewBytes(bytes, bytes.length) };
  return { hex: bytes.toString('hex').replace(/(..)(?!$)/g, '$1 ') };
}

/** One row of the connections list: the flow without its events, and a state word. */
export type FlowSummary = Pick<
  Flow,
  | 'key'
  | 'id'
  | 'role'
  | 'service'
  | 'transport'
  | 'local'
  | 'remote'
  | 'openedAt'
  | 'closedAt'
  | 'lastAt'
  | 'bytesIn'
  | 'bytesOut'
  | 'reason'
> & { state: string };

/** The state word the list shows: open, half-closed by one side, closed, reset. */
function stateWord(f: Flow): string {
  if (f.state === 'closed') return f.reason ? `closed (${f.reason})` : 'closed';
  if (f.finIn && f.finOut) return 'closing';
  if (f.finIn) return 'peer sent FIN';
  if (f.finOut) return 'we sent FIN';
  return 'open';
}

export function summarize(f: Flow): FlowSummary {
  return {
    key: f.key,
    id: f.id,
    role: f.role,
    service: f.service,
    transport: f.transport,
    local: f.local,
    remote: f.remote,
    state: stateWord(f),
    openedAt: f.openedAt,
    closedAt: f.closedAt,
    lastAt: f.lastAt,
    bytesIn: f.bytesIn,
    bytesOut: f.bytesOut,
    reason: f.reason,
  };
}

function eventView(e: FlowEvent): Record<string, unknown> {
  return {
    seq: e.seq,
    type: e.type,
    time: e.time,
    until: e.until !== e.time ? e.until : undefined,
    bytes: e.bytes,
    chunks: e.chunks !== 1 ? e.chunks : undefined,
    preview: e.preview ? renderPreview(e.preview) : undefined,
    reason: e.reason,
    message: e.message,
  };
}

/** A flow's events from `fromSeq` on (at most the last `max`), with its summary. */
export function flowDetail(f: Flow, fromSeq = 0, max = Number.POSITIVE_INFINITY) {
  let events = f.events;
  const first = events.length ? events[0].seq : f.seq;
  if (fromSeq > first) events = events.slice(fromSeq - first);
  const skipped = Math.max(0, events.length - max);
  if (skipped) events = events.slice(skipped);
  return {
    ...summarize(f),
    finIn: f.finIn,
    finOut: f.finOut,
    partial: f.partial,
    /** Events forgotten before the first one sent (bounded history or sampling). */
    forgotten: events.length ? events[0].seq : f.seq,
    seq: f.seq,
    events: events.map(eventView),
  };
}

export type FlowDetail = ReturnType<typeof flowDetail>;

export function rowView(r: ServiceRow) {
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return {
    service: r.service,
    transport: r.transport,
    addresses: r.addresses,
    active: r.active,
    total: r.total,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    errors: sum(r.errors),
    limitHits: sum(r.limitHits),
    udpDrops: sum(r.udpDrops),
    timeouts: r.timeouts,
  };
}

/** Open flows first (newest first), then the most recently closed; at most `max`. */
export function listFlows(store: EventStore, max: number, sinceVersion = 0): Flow[] {
  const open: Flow[] = [];
  const closed: Flow[] = [];
  for (const f of store.flows.values()) {
    if (f.version <= sinceVersion) continue;
    (f.state === 'open' ? open : closed).push(f);
  }
  open.reverse();
  closed.sort((a, b) => (b.closedAt ?? 0) - (a.closedAt ?? 0));
  return open.concat(closed).slice(0, max);
}

/** Everything the page needs to draw itself from nothing. */
export function snapshot(store: EventStore, maxRows: number, now = Date.now()) {
  store.sweep(now);
  return {
    now,
    version: store.version,
    services: [...store.rows.values()].filter((r) => r.service !== '' || r.total > 0).map(rowView),
    connections: listFlows(store, maxRows).map(summarize),
    tracked: store.flows.size,
    forgotten: store.flowsForgotten,
    eventsHeld: store.eventsHeld,
    limits: store.limits,
    rates: store.rateHistory(now),
  };
}
