// The dashboard's HTTP server (node:http): the page and its assets, JSON views of the event
// store, one connection's flow as a file, /metrics, and a Server-Sent Events stream
// (https://html.spec.whatwg.org/multipage/server-sent-events.html) that sends coalesced
// updates on a fixed tick, so the cost to the server does not grow with the event rate.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WirecatError } from '../errors.js';
import {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  renderMetrics,
  wantsOpenMetrics,
} from '../observe/metrics.js';
import type { EventStore } from '../observe/store.js';
import { formatHostPort, parseEndpoint } from '../transport/endpoint.js';
import { isLoopback } from '../transport/listen.js';
import { loadAssets } from './assets.js';
import { exportFileName, exportFlowHtml } from './export.js';
import { flowDetail, listFlows, rowView, snapshot, summarize } from './views.js';

/** Where the dashboard listens when `--dashboard` has no value: loopback only. */
export const DEFAULT_DASHBOARD_ENDPOINT = '127.0.0.1:10090';

/** The dashboard's bounds. */
export interface DashboardLimits {
  /** Browsers (SSE streams) watching at once; more get 503. */
  maxViewers: number;
  /** How often updates go out, coalesced (ms). */
  tickMs: number;
  /** Bytes queued to one browser before its updates are skipped until it catches up. */
  maxViewerBacklogBytes: number;
  /** Largest update message (bytes); the connection list is cut to fit. */
  maxMessageBytes: number;
  /** Connections listed in one message (open first, then the most recently closed). */
  maxRows: number;
  /** Flow events sent per update; a busier flow is sampled (the newest are sent). */
  maxFlowEventsPerMessage: number;
  /** A full list is sent this often so forgotten connections leave the page too (ms). */
  fullEveryMs: number;
}

export const DEFAULT_DASHBOARD_LIMITS: Readonly<DashboardLimits> = Object.freeze({
  maxViewers: 8,
  tickMs: 250,
  maxViewerBacklogBytes: 1_048_576,
  maxMessageBytes: 262_144,
  maxRows: 500,
  maxFlowEventsPerMessage: 200,
  fullEveryMs: 5_000,
});

export interface DashboardOptions {
  store: EventStore;
  /** HOST:PORT, [IPv6]:PORT, :PORT (all interfaces) or PORT (loopback). */
  endpoint?: string;
  limits?: Partial<DashboardLimits>;
  /** Do not keep the process alive for the page (the CLI: the page lives as long as the verb). */
  unref?: boolean;
}

/** A running dashboard. */
export interface Dashboard {
  /** The page's address, e.g. http://127.0.0.1:10090/ */
  readonly url: string;
  readonly port: number;
  /** True when reachable from other machines. */
  readonly exposed: boolean;
  readonly viewers: number;
  close(): Promise<void>;
}

interface Viewer {
  res: http.ServerResponse;
  version: number;
  lastFull: number;
  flowKey: string | undefined;
  /** The next flow event seq this viewer needs. */
  flowSeq: number;
  flowVersion: number;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * Start the dashboard over `store`.
 *
 * @example
 * const store = new EventStore(); store.subscribe();
 * const dash = await startDashboard({ store, endpoint: '127.0.0.1:0' });
 * console.log(dash.url);
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const limits = { ...DEFAULT_DASHBOARD_LIMITS, ...options.limits };
  const store = options.store;
  const endpointText = options.endpoint || DEFAULT_DASHBOARD_ENDPOINT;
  const endpoint = parseEndpoint(endpointText);
  if (endpoint.transport !== 'tcp')
    throw new WirecatError(
      'WIRECAT_BAD_ENDPOINT',
      `the dashboard listens on HOST:PORT over TCP, not "${endpointText}"`,
    );
  const host = endpoint.host ?? '127.0.0.1';
  const loopbackOnly = isLoopback(host);
  const assets = loadAssets();
  const viewers = new Set<Viewer>();
  let timer: NodeJS.Timeout | undefined;

  const send = (
    res: http.ServerResponse,
    status: number,
    type: string,
    body: string | Buffer,
    extra = {},
  ) => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
      ...extra,
    });
    res.end(body);
    return true;
  };
  const json = (res: http.ServerResponse, value: unknown) =>
    send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));
  const notFound = (res: http.ServerResponse, what: string) =>
    send(res, 404, 'text/plain; charset=utf-8', `${what}\n`);

  function message(v: Viewer, now: number, services: unknown, rates: unknown): string {
    const full = now - v.lastFull >= limits.fullEveryMs;
    let rows = limits.maxRows;
    const flow = v.flowKey !== undefined ? store.flows.get(v.flowKey) : undefined;
    let detail: ReturnType<typeof flowDetail> | undefined;
    if (flow && flow.version > v.flowVersion) {
      // The last event may have grown (a burst merges chunks): send it again.
      detail = flowDetail(flow, Math.max(0, v.flowSeq - 1), limits.maxFlowEventsPerMessage);
    }
    for (;;) {
      const body = JSON.stringify({
        now,
        full,
        tracked: store.flows.size,
        forgotten: store.flowsForgotten,
        services,
        rates,
        connections: listFlows(store, rows, full ? 0 : v.version).map(summarize),
        flow: detail,
        gone: v.flowKey !== undefined && !flow ? v.flowKey : undefined,
      });
      if (body.length <= limits.maxMessageBytes || rows === 0) {
        if (full) v.lastFull = now;
        if (flow) {
          v.flowSeq = flow.seq;
          v.flowVersion = flow.version;
        }
        return body;
      }
      rows = Math.floor(rows / 2);
    }
  }

  function tick(): void {
    const now = Date.now();
    store.sweep(now);
    const services = [...store.rows.values()]
      .filter((r) => r.service !== '' || r.total > 0)
      .map(rowView);
    // The last two seconds of each rate series: the page shifts its own copy.
    const rates = store.rateHistory(now).map((s) => ({
      service: s.service,
      end: s.end,
      bytesIn: s.bytesIn.slice(-2),
      bytesOut: s.bytesOut.slice(-2),
      connections: s.connections.slice(-2),
    }));
    for (const v of viewers) {
      // A browser that is behind gets nothing this tick; its next update covers everything
      // changed since it last caught up (coalescing), so its queue stays bounded.
      if (v.res.writableLength > limits.maxViewerBacklogBytes) continue;
      const version = store.version;
      v.res.write(`data: ${message(v, now, services, rates)}\n\n`);
      v.version = version;
    }
  }

  function openStream(req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean {
    if (viewers.size >= limits.maxViewers) {
      return send(
        res,
        503,
        'text/plain; charset=utf-8',
        `too many viewers (at most ${limits.maxViewers}); close another dashboard tab\n`,
      );
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      ...SECURITY_HEADERS,
    });
    res.write(`retry: 2000\n\n`);
    const flowKey = url.searchParams.get('flow') ?? undefined;
    const from = Number(url.searchParams.get('from') ?? 0);
    const viewer: Viewer = {
      res,
      version: 0,
      lastFull: 0,
      flowKey,
      flowSeq: Number.isFinite(from) && from > 0 ? from : 0,
      flowVersion: -1,
    };
    viewers.add(viewer);
    req.socket.setNoDelay(true);
    const drop = () => {
      viewers.delete(viewer);
      if (viewers.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    };
    res.on('close', drop);
    timer ??= setInterval(tick, limits.tickMs).unref();
    tick();
    return true;
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    // A page on another site must not reach a loopback dashboard through DNS rebinding.
    if (loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
      return send(
        res,
        403,
        'text/plain; charset=utf-8',
        'this dashboard answers to localhost only\n',
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain; charset=utf-8', 'only GET\n', { allow: 'GET, HEAD' });
    }
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (path === '/' || path === '/index.html') {
      const a = assets.get('index.html');
      return send(res, 200, a!.type, a!.body);
    }
    if (path.startsWith('/assets/')) {
      const a = assets.get(path.slice('/assets/'.length));
      if (!a) return notFound(res, 'no such asset');
      return send(res, 200, a.type, a.body, { 'cache-control': 'no-cache' });
    }
    if (path === '/metrics') {
      const om = wantsOpenMetrics(req.headers.accept);
      return send(
        res,
        200,
        om ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
        renderMetrics(store, om),
      );
    }
    if (path === '/events') return openStream(req, res, url);
    if (path === '/api/snapshot') return json(res, snapshot(store, limits.maxRows));
    if (path === '/api/flow' || path === '/api/export') {
      const flow = store.flows.get(url.searchParams.get('key') ?? '');
      if (!flow)
        return notFound(
          res,
          'no such connection (it may have been forgotten: the history is bounded)',
        );
      const detail = flowDetail(flow);
      if (path === '/api/flow') return json(res, detail);
      return send(res, 200, 'text/html; charset=utf-8', exportFlowHtml(detail, assets), {
        'content-disposition': `attachment; filename="${exportFileName(detail)}"`,
        // The export carries its own inline script and style, which the page's policy forbids.
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      });
    }
    return notFound(res, 'not found');
  }

  const server = http.createServer(
    { keepAliveTimeout: 5_000, requestTimeout: 30_000 },
    (req, res) => {
      try {
        handle(req, res);
      } catch (err) {
        if (!res.headersSent)
          send(res, 500, 'text/plain; charset=utf-8', `${(err as Error).message}\n`);
        else res.destroy();
      }
    },
  );
  server.maxConnections = limits.maxViewers * 4 + 16;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new WirecatError(
              'WIRECAT_ADDRESS_IN_USE',
              `the dashboard's address ${formatHostPort(host, endpoint.port)} is in use; pick another with --dashboard=HOST:PORT`,
            )
          : new WirecatError('WIRECAT_IO', `dashboard: ${err.message}`, { cause: err }),
      );
    });
    server.listen(endpoint.port, host, () => resolve());
  });
  server.on('error', () => {});
  if (options.unref) {
    server.unref();
    server.on('connection', (socket) => socket.unref());
  }
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${formatHostPort(shown, port)}/`,
    port,
    exposed: !loopbackOnly,
    get viewers() {
      return viewers.size;
    },
    close: async () => {
      if (timer) clearInterval(timer);
      for (const v of viewers) v.res.end();
      viewers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isLoopbackHostHeader(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const name = hostHeader.startsWith('[')
    ? hostHeader.slice(1, hostHeader.indexOf(']'))
    : hostHeader.replace(/:\d+$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name);
}
