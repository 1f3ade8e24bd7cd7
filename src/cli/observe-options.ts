// The `--dashboard [ENDPOINT]` and `--record FILE` options `serve`, `listen` and `relay` share:
// start the event store + web page, and/or the JSON Lines recording, before any socket opens.

import { DEFAULT_DASHBOARD_ENDPOINT, startDashboard } from '../dashboard/server.js';
import { startRecording } from '../observe/record.js';
import { DEFAULT_STORE_LIMITS, EventStore } from '../observe/store.js';

export const OBSERVE_OPTIONS = {
  dashboard: { type: 'string' },
  record: { type: 'string' },
} as const;

const L = DEFAULT_STORE_LIMITS;
export const OBSERVE_HELP = `  --dashboard[=ENDPOINT]
                       a live web page of every socket, its flow, charts, and /metrics
                       (default ${DEFAULT_DASHBOARD_ENDPOINT}, loopback only; keeps the last ${L.maxFlows}
                       connections, ${L.maxEventsPerFlow} events each, ${L.maxEventsTotal} in all)
  --record FILE        write every socket event to FILE as JSON Lines (payloads in base64)`;

/**
 * util.parseArgs cannot take an optional value, so a bare `--dashboard` becomes
 * `--dashboard=` (the default endpoint) before parsing; `--dashboard=HOST:PORT` passes as is.
 */
export function normalizeObserveArgs(args: string[]): string[] {
  const end = args.indexOf('--');
  return args.map((a, i) => (a === '--dashboard' && (end < 0 || i < end) ? '--dashboard=' : a));
}

/** What applyObserve started; `close()` flushes the recording and stops the page. */
export interface ObserveHandle {
  close(): Promise<void>;
}

/**
 * Start what `--dashboard` / `--record` ask for and say where on stderr (stdout may carry
 * data for listen/relay). Call it before the sockets open so `listen` events are seen.
 */
export async function applyObserve(
  values: { dashboard?: string; record?: string; json?: boolean },
  verb: string,
): Promise<ObserveHandle> {
  const closers: (() => Promise<void> | void)[] = [];
  const say = (event: string, text: string, fields: Record<string, unknown>) =>
    process.stderr.write(
      values.json ? `${JSON.stringify({ event, ...fields })}\n` : `wirecat ${verb}: ${text}\n`,
    );
  try {
    if (values.record !== undefined) {
      const recorder = await startRecording(values.record);
      closers.push(() => recorder.close());
      say('recording', `recording every socket event to ${values.record}`, {
        path: values.record,
      });
    }
    if (values.dashboard !== undefined) {
      const store = new EventStore();
      closers.push(store.subscribe());
      const dash = await startDashboard({ store, endpoint: values.dashboard, unref: true });
      closers.push(() => dash.close());
      say(
        'dashboard',
        `dashboard at ${dash.url} (metrics at ${dash.url}metrics)${dash.exposed ? ' <- reachable from the network' : ''}`,
        { url: dash.url, metrics: `${dash.url}metrics`, exposed: dash.exposed },
      );
    }
  } catch (err) {
    for (const close of [...closers].reverse()) await close();
    throw err;
  }
  return {
    close: async () => {
      for (const close of [...closers].reverse()) await close();
    },
  };
}
