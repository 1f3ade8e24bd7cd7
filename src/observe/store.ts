// The event store: one socket-event subscriber that keeps what the dashboard and /metrics
// show — per service and transport counters, every connection's flow (bounded), and
// per-service rate series — so readers never touch the hot path.

import { type SocketEvent, type SocketEventType, subscribeAll } from './channels.js';

/** How much the store keeps. Every field is a hard bound. */
export interface StoreLimits {
  /** Events kept per connection; past this the oldest are forgotten (and counted). */
  maxEventsPerFlow: number;
  /** Events kept over all connections; past this the oldest closed connections go first. */
  maxEventsTotal: number;
  /** Connections (open and closed) tracked; past this the oldest closed one is forgotten. */
  maxFlows: number;
  /** Bytes of each data burst kept as its preview. */
  previewBytes: number;
  /** Seconds of per-service rate history. */
  rateWindowSeconds: number;
  /** Chunks in the same direction closer than this merge into one burst (one arrow). */
  burstGapMs: number;
  /** A burst never spans more than this, so a steady stream still shows progress. */
  burstSpanMs: number;
  /** A UDP flow (one local/remote pair) counts as closed after this much quiet. */
  udpFlowIdleMs: number;
  /** Distinct error codes / limit names / drop reasons counted per service and transport. */
  maxReasons: number;
  /**
   * Data steps a flow stores per second; past that, chunks only add to the counters and to
   * that second's last step of the same direction (sampling, so a busy connection costs a
   * few counter updates per chunk, not a stored step with a preview copy).
   */
  maxDataStepsPerFlowPerSec: number;
}

/** The defaults: about 20 MB at most, enough to study the last couple of thousand connections. */
export const DEFAULT_STORE_LIMITS: Readonly<StoreLimits> = Object.freeze({
  maxEventsPerFlow: 1_000,
  maxEventsTotal: 100_000,
  maxFlows: 2_000,
  previewBytes: 64,
  rateWindowSeconds: 300,
  burstGapMs: 20,
  burstSpanMs: 1_000,
  udpFlowIdleMs: 10_000,
  maxReasons: 64,
  maxDataStepsPerFlowPerSec: 20,
});

/** One step of a flow: a data burst, a FIN, an accept, a timeout, a limit, a close. */
export interface FlowEvent {
  /** Position in the flow since it opened (stable: merges update an event in place). */
  seq: number;
  type: SocketEventType;
  time: number;
  /** For a burst: when its last chunk came. */
  until?: number;
  bytes?: number;
  /** Chunks merged into this burst. */
  chunks?: number;
  /** The burst's first bytes (a private copy). */
  preview?: Buffer;
  reason?: string;
  message?: string;
}

/** One connection (or one UDP local/remote pair) and what happened on it. */
export interface Flow {
  key: string;
  /** The Conn id (0 for UDP flows). */
  id: number;
  /** Our role: 'server' for accepted connections and served datagrams, 'client' for dialled ones. */
  role: 'server' | 'client';
  service: string;
  transport: string;
  local: string;
  remote: string;
  openedAt: number;
  closedAt: number | undefined;
  lastAt: number;
  /** True once the peer sent FIN (half-close-in) / we sent FIN (half-close-out). */
  finIn: boolean;
  finOut: boolean;
  state: 'open' | 'closed';
  /** Why it ended abnormally (ECONNRESET, WIRECAT_IDLE_TIMEOUT, …). */
  reason: string | undefined;
  bytesIn: number;
  bytesOut: number;
  events: FlowEvent[];
  /** Events ever recorded (the next event's seq). */
  seq: number;
  /** Events dropped from the front to respect maxEventsPerFlow / maxEventsTotal. */
  forgotten: number;
  /** Store version of the last change (readers poll "what changed since v"). */
  version: number;
  /** True when the store saw this connection only after it opened. */
  partial: boolean;
  row: ServiceRow;
  rates: RateSeries;
  /** The second (epoch seconds) the data-step budget counts, and the steps stored in it. */
  dataSecond: number;
  dataSteps: number;
}

/** Counters for one service on one transport (also the /metrics label set). */
export interface ServiceRow {
  service: string;
  transport: string;
  /** Endpoints it listens on now. */
  addresses: string[];
  active: number;
  total: number;
  bytesIn: number;
  bytesOut: number;
  datagramsIn: number;
  datagramsOut: number;
  errors: Map<string, number>;
  limitHits: Map<string, number>;
  udpDrops: Map<string, number>;
  timeouts: number;
  /** Transfers on the service's own sockets (TFTP): running now, and ended by outcome. */
  transfersActive: number;
  transfers: Map<string, number>;
  version: number;
}

/** Per-second counts over the last `rateWindowSeconds`, as a ring. */
export interface RateSeries {
  service: string;
  bytesIn: Float64Array;
  bytesOut: Float64Array;
  connections: Float64Array;
  /** The second (epoch seconds) the newest slot holds. */
  second: number;
}

const DATA_TYPES = new Set<SocketEventType>(['data-in', 'data-out']);

/**
 * Keeps a bounded picture of every socket event. `subscribe()` attaches it to the channels.
 *
 * @example
 * const store = new EventStore();
 * const stop = store.subscribe();
 * // … later: store.flows, store.rows, store.rateSeries()
 */
export class EventStore {
  readonly limits: StoreLimits;
  /** Increases on every change; flows and rows carry the version of their last change. */
  version = 0;
  readonly flows = new Map<string, Flow>();
  readonly rows = new Map<string, ServiceRow>();
  private readonly rates = new Map<string, RateSeries>();
  private readonly byConnId = new Map<number, Flow>();
  private readonly openUdp = new Set<Flow>();
  private closedOrder: string[] = [];
  private closedHead = 0;
  private eventsTotal = 0;
  /** Connections forgotten to respect maxFlows / maxEventsTotal. */
  flowsForgotten = 0;

  constructor(limits: Partial<StoreLimits> = {}) {
    this.limits = { ...DEFAULT_STORE_LIMITS };
    for (const [k, v] of Object.entries(limits))
      if (v !== undefined) (this.limits as unknown as Record<string, number>)[k] = v;
  }

  /** Listen to every socket event; returns the unsubscribe function. */
  subscribe(): () => void {
    return subscribeAll(this.ingest);
  }

  /** Take one event (the channel subscriber; also usable to replay a recording). */
  readonly ingest = (e: SocketEvent): void => {
    const v = ++this.version;
    if (e.id !== 0) {
      this.onConnEvent(e, v);
      return;
    }
    const row = this.row(e.service ?? '', e.transport);
    row.version = v;
    switch (e.type) {
      case 'listen':
        if (e.local && !row.addresses.includes(e.local)) row.addresses.push(e.local);
        return;
      case 'unlisten':
        row.addresses = row.addresses.filter((a) => a !== e.local);
        return;
      case 'limit-hit':
        this.count(row.limitHits, e.reason ?? 'limit');
        return;
      case 'error':
        this.count(row.errors, e.reason ?? 'error');
        return;
      case 'udp-drop':
        this.count(row.udpDrops, e.reason ?? 'drop');
        break;
      // Listener-level accept/close: a transfer a service runs on a socket of its own (TFTP).
      case 'accept':
        row.transfersActive++;
        return;
      case 'close':
        row.transfersActive = Math.max(0, row.transfersActive - 1);
        this.count(row.transfers, e.reason ?? 'done');
        return;
      case 'data-in':
        row.bytesIn += e.bytes ?? 0;
        row.datagramsIn++;
        break;
      case 'data-out':
        row.bytesOut += e.bytes ?? 0;
        row.datagramsOut++;
        break;
    }
    if (e.remote !== undefined && (DATA_TYPES.has(e.type) || e.type === 'udp-drop'))
      this.onDatagram(e, row, v);
  };

  private onConnEvent(e: SocketEvent, v: number): void {
    let flow = this.byConnId.get(e.id);
    if (flow === undefined) {
      flow = this.openFlow(`c${e.id}`, e, e.type === 'connect' ? 'client' : 'server');
      flow.partial = e.type !== 'accept' && e.type !== 'connect';
      this.byConnId.set(e.id, flow);
      flow.row.active++;
      flow.row.total++;
      if (flow.role === 'server') this.rateSlot(flow.rates, e.time, 'connections');
    }
    flow.version = v;
    flow.row.version = v;
    flow.lastAt = e.time;
    switch (e.type) {
      case 'data-in':
        flow.bytesIn += e.bytes ?? 0;
        flow.row.bytesIn += e.bytes ?? 0;
        this.rateSlot(flow.rates, e.time, 'bytesIn', e.bytes);
        this.addData(flow, e);
        return;
      case 'data-out':
        flow.bytesOut += e.bytes ?? 0;
        flow.row.bytesOut += e.bytes ?? 0;
        this.rateSlot(flow.rates, e.time, 'bytesOut', e.bytes);
        this.addData(flow, e);
        return;
      case 'half-close-in':
        flow.finIn = true;
        break;
      case 'half-close-out':
        flow.finOut = true;
        break;
      case 'error':
        this.count(flow.row.errors, e.reason ?? 'error');
        break;
      case 'limit-hit':
        this.count(flow.row.limitHits, e.reason ?? 'limit');
        break;
      case 'timeout':
        flow.row.timeouts++;
        break;
      case 'close':
        this.addEvent(flow, { seq: 0, type: 'close', time: e.time, reason: e.reason });
        this.closeFlow(flow, e.time, e.reason);
        this.byConnId.delete(e.id);
        return;
    }
    this.addEvent(flow, {
      seq: 0,
      type: e.type,
      time: e.time,
      reason: e.reason,
      message: e.message,
    });
  }

  private onDatagram(e: SocketEvent, row: ServiceRow, v: number): void {
    const local = e.local ?? '';
    const key = `u${row.service}|${local}|${e.remote}`;
    let flow = this.flows.get(key);
    if (flow === undefined || flow.state === 'closed') {
      if (flow) this.forget(flow);
      flow = this.openFlow(key, e, e.local === undefined ? 'client' : 'server');
      this.openUdp.add(flow);
      row.active++;
      row.total++;
      if (flow.role === 'server') this.rateSlot(flow.rates, e.time, 'connections');
    }
    flow.version = v;
    flow.lastAt = e.time;
    if (e.type === 'data-in') {
      flow.bytesIn += e.bytes ?? 0;
      this.rateSlot(flow.rates, e.time, 'bytesIn', e.bytes);
      this.addData(flow, e);
    } else if (e.type === 'data-out') {
      flow.bytesOut += e.bytes ?? 0;
      this.rateSlot(flow.rates, e.time, 'bytesOut', e.bytes);
      this.addData(flow, e);
    } else this.addEvent(flow, { seq: 0, type: e.type, time: e.time, reason: e.reason });
  }

  private openFlow(key: string, e: SocketEvent, role: 'server' | 'client'): Flow {
    const row = this.row(e.service ?? '', e.transport);
    const flow: Flow = {
      key,
      id: e.id,
      role,
      service: e.service ?? '',
      transport: e.transport,
      local: e.local ?? '',
      remote: e.remote ?? '',
      openedAt: e.time,
      closedAt: undefined,
      lastAt: e.time,
      finIn: false,
      finOut: false,
      state: 'open',
      reason: undefined,
      bytesIn: 0,
      bytesOut: 0,
      events: [],
      seq: 0,
      forgotten: 0,
      version: this.version,
      partial: false,
      row,
      rates: this.rateSeries(row.service),
      dataSecond: 0,
      dataSteps: 0,
    };
    this.flows.set(key, flow);
    while (this.flows.size > this.limits.maxFlows && this.evictOne()) {}
    // No closed flow left to forget: end the oldest open UDP flow (a UDP "connection" is only
    // a guess) so it can go. Idle ones are otherwise closed only when someone reads the store,
    // and without a viewer every new UDP peer — one per source port, or per forged address —
    // grew the table for ever (found by the soak: RSS +60 MiB in 10 minutes).
    while (this.flows.size > this.limits.maxFlows && this.closeOldestUdp(flow)) {
      this.evictOne(flow);
    }
    return flow;
  }

  /** Close the open UDP flow opened first (never `keep`). False when there is none. */
  private closeOldestUdp(keep: Flow): boolean {
    for (const oldest of this.openUdp) {
      if (oldest === keep) continue;
      this.openUdp.delete(oldest);
      oldest.version = ++this.version;
      this.closeFlow(oldest, oldest.lastAt, 'idle');
      return true;
    }
    return false;
  }

  private closeFlow(flow: Flow, time: number, reason: string | undefined): void {
    flow.state = 'closed';
    flow.closedAt = time;
    flow.reason = reason;
    flow.row.active--;
    this.closedOrder.push(flow.key);
    // Compact the queue now and then so it never grows past the flows it names.
    if (this.closedHead > 1024 && this.closedHead * 2 > this.closedOrder.length) {
      this.closedOrder = this.closedOrder.slice(this.closedHead);
      this.closedHead = 0;
    }
  }

  /** Close UDP flows quiet for udpFlowIdleMs. Readers call this; it costs a pass over open UDP flows. */
  sweep(now = Date.now()): void {
    for (const flow of this.openUdp) {
      if (now - flow.lastAt < this.limits.udpFlowIdleMs) continue;
      this.openUdp.delete(flow);
      flow.version = ++this.version;
      this.closeFlow(flow, flow.lastAt, 'idle');
    }
  }

  private addData(flow: Flow, e: SocketEvent): void {
    const last = flow.events[flow.events.length - 1];
    const bytes = e.bytes ?? 0;
    if (
      last !== undefined &&
      last.type === e.type &&
      e.time - (last.until ?? last.time) < this.limits.burstGapMs &&
      e.time - last.time < this.limits.burstSpanMs
    ) {
      last.bytes = (last.bytes ?? 0) + bytes;
      last.chunks = (last.chunks ?? 1) + 1;
      last.until = e.time;
      // A preview shorter than the limit grows with the next chunk.
      const have = last.preview?.length ?? 0;
      if (e.data && have < this.limits.previewBytes) {
        const more = e.data.subarray(0, this.limits.previewBytes - have);
        last.preview = have ? Buffer.concat([last.preview as Buffer, more]) : Buffer.from(more);
      }
      return;
    }
    const second = Math.floor(e.time / 1000);
    if (second !== flow.dataSecond) {
      flow.dataSecond = second;
      flow.dataSteps = 0;
    }
    if (++flow.dataSteps > this.limits.maxDataStepsPerFlowPerSec) {
      // Over budget: fold into the latest step of this direction (ping-pong alternates, so
      // it is one of the last two), without copying a preview.
      const n = flow.events.length;
      const same =
        n > 0 && flow.events[n - 1].type === e.type ? flow.events[n - 1] : flow.events[n - 2];
      if (same !== undefined && same.type === e.type) {
        same.bytes = (same.bytes ?? 0) + bytes;
        same.chunks = (same.chunks ?? 1) + 1;
        same.until = e.time;
        return;
      }
    }
    this.addEvent(flow, {
      seq: 0,
      type: e.type,
      time: e.time,
      until: e.time,
      bytes,
      chunks: 1,
      // data is borrowed (a shared read buffer): copy the few bytes we keep.
      preview: e.data ? Buffer.from(e.data.subarray(0, this.limits.previewBytes)) : undefined,
    });
  }

  private addEvent(flow: Flow, event: FlowEvent): void {
    event.seq = flow.seq++;
    flow.events.push(event);
    this.eventsTotal++;
    if (flow.events.length > this.limits.maxEventsPerFlow) this.dropFront(flow);
    while (this.eventsTotal > this.limits.maxEventsTotal) {
      if (!this.evictOne(flow)) {
        this.dropFront(flow);
        break;
      }
    }
  }

  private dropFront(flow: Flow): void {
    flow.events.shift();
    flow.forgotten++;
    this.eventsTotal--;
  }

  /** Forget the oldest closed flow (never `keep`). False when there is none. */
  private evictOne(keep?: Flow): boolean {
    while (this.closedHead < this.closedOrder.length) {
      const key = this.closedOrder[this.closedHead++];
      const flow = this.flows.get(key);
      if (flow === undefined || flow === keep || flow.state !== 'closed') continue;
      this.forget(flow);
      return true;
    }
    return false;
  }

  private forget(flow: Flow): void {
    this.flows.delete(flow.key);
    this.eventsTotal -= flow.events.length;
    this.flowsForgotten++;
  }

  private row(service: string, transport: string): ServiceRow {
    const key = `${service}|${transport}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      row = {
        service,
        transport,
        addresses: [],
        active: 0,
        total: 0,
        bytesIn: 0,
        bytesOut: 0,
        datagramsIn: 0,
        datagramsOut: 0,
        errors: new Map(),
        limitHits: new Map(),
        udpDrops: new Map(),
        timeouts: 0,
        transfersActive: 0,
        transfers: new Map(),
        version: this.version,
      };
      this.rows.set(key, row);
    }
    return row;
  }

  private count(map: Map<string, number>, reason: string): void {
    const n = map.get(reason);
    if (n !== undefined) map.set(reason, n + 1);
    else if (map.size < this.limits.maxReasons) map.set(reason, 1);
    else map.set('other', (map.get('other') ?? 0) + 1);
  }

  private rateSeries(service: string): RateSeries {
    let series = this.rates.get(service);
    if (series === undefined) {
      const n = this.limits.rateWindowSeconds;
      series = {
        service,
        bytesIn: new Float64Array(n),
        bytesOut: new Float64Array(n),
        connections: new Float64Array(n),
        second: Math.floor(Date.now() / 1000),
      };
      this.rates.set(service, series);
    }
    return series;
  }

  private rateSlot(
    series: RateSeries,
    time: number,
    field: 'bytesIn' | 'bytesOut' | 'connections',
    amount = 1,
  ): void {
    const second = Math.floor(time / 1000);
    if (second > series.second) advance(series, second);
    const n = series.connections.length;
    const age = series.second - second;
    if (age < n) series[field][(((second % n) + n) % n) | 0] += amount;
  }

  /**
   * The rate history of every service, oldest second first, ending at `now`'s second
   * (which is still filling).
   */
  rateHistory(now = Date.now()): {
    service: string;
    end: number;
    bytesIn: number[];
    bytesOut: number[];
    connections: number[];
  }[] {
    const end = Math.floor(now / 1000);
    return [...this.rates.values()].map((s) => {
      if (end > s.second) advance(s, end);
      const n = s.connections.length;
      const pick = (a: Float64Array) =>
        Array.from({ length: n }, (_, i) => a[(((end - n + 1 + i) % n) + n) % n]);
      return {
        service: s.service,
        end,
        bytesIn: pick(s.bytesIn),
        bytesOut: pick(s.bytesOut),
        connections: pick(s.connections),
      };
    });
  }

  /** Events held now (for tests and the page's footer). */
  get eventsHeld(): number {
    return this.eventsTotal;
  }
}

function advance(series: RateSeries, second: number): void {
  const n = series.connections.length;
  const steps = Math.min(second - series.second, n);
  for (let i = 1; i <= steps; i++) {
    const slot = (((series.second + i) % n) + n) % n;
    series.bytesIn[slot] = 0;
    series.bytesOut[slot] = 0;
    series.connections[slot] = 0;
  }
  series.second = second;
}
