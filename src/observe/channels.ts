// Every socket event wirecat publishes, declared once, on node:diagnostics_channel.
// With no subscriber a publish site costs one `hasSubscribers` branch.

import diagnostics from 'node:diagnostics_channel';

/** The kinds of socket event, in the order they usually happen. */
export const EVENT_TYPES = [
  'listen',
  'accept',
  'connect',
  'data-in',
  'data-out',
  'half-close-in',
  'half-close-out',
  'timeout',
  'limit-hit',
  'udp-drop',
  'error',
  'close',
  'unlisten',
] as const;

export type SocketEventType = (typeof EVENT_TYPES)[number];

/**
 * One socket event. `id` is the connection's number (0 for listener-level events).
 * `data` is borrowed: it is only valid during the subscriber call; copy what you keep.
 */
export interface SocketEvent {
  type: SocketEventType;
  /** Milliseconds since the Unix epoch, with sub-millisecond precision. */
  time: number;
  id: number;
  service?: string;
  transport: string;
  /** Our side of the socket, as an endpoint string. */
  local?: string;
  /** The peer, as host:port or a unix path. */
  remote?: string;
  bytes?: number;
  data?: Uint8Array;
  /** For close, error, limit-hit, udp-drop, timeout: why, as a stable code or short word. */
  reason?: string;
  message?: string;
}

/** The channel name for an event type: `wirecat:<type>`. */
export function channelName(type: SocketEventType): string {
  return `wirecat:${type}`;
}

type Channels = { readonly [K in SocketEventType]: diagnostics.Channel };

/** One diagnostics channel per event type. Subscribe with `subscribeAll` or channel by channel. */
export const channels: Channels = Object.freeze(
  Object.fromEntries(EVENT_TYPES.map((t) => [t, diagnostics.channel(channelName(t))])) as Channels,
);

// What a stream connection publishes: every event but the listener's and the datagrams'.
const CONNECTION_CHANNELS = EVENT_TYPES.filter(
  (t) => t !== 'listen' && t !== 'unlisten' && t !== 'udp-drop',
).map((t) => channels[t]);

/** True when anyone listens to an event a stream connection publishes. */
export function connectionWatched(): boolean {
  for (const channel of CONNECTION_CHANNELS) if (channel.hasSubscribers) return true;
  return false;
}

/** Subscribe `listener` to every event type; returns the unsubscribe function. */
export function subscribeAll(listener: (event: SocketEvent) => void): () => void {
  const onMessage = (message: unknown) => listener(message as SocketEvent);
  for (const type of EVENT_TYPES) channels[type].subscribe(onMessage);
  return () => {
    for (const type of EVENT_TYPES) channels[type].unsubscribe(onMessage);
  };
}

// Read on first publish: touching `performance` loads perf_hooks, which a run with no
// subscriber never needs.
let origin: number | undefined;

/** Publish an event if anyone listens. Build `event` lazily: callers test hasSubscribers first. */
export function publish(event: Omit<SocketEvent, 'time'> & { time?: number }): void {
  const channel = channels[event.type];
  if (channel.hasSubscribers) {
    origin ??= performance.timeOrigin;
    event.time = origin + performance.now();
    channel.publish(event);
  }
}
