// The chat room's limits and its optional operator seat, with their documented defaults.

/** The room's limits. Every one has a named default (DEFAULT_CHAT_OPTIONS). */
export interface ChatLimits {
  /** People in the room at once (named or still choosing a name); the next one is turned away. */
  maxUsers: number;
  /** Longest line a client may send, in bytes without its ending; longer: a notice and a close. */
  maxLineBytes: number;
  /** Flood control: lines per second a client may send on average (token bucket refill). */
  linesPerSecond: number;
  /** Flood control: lines a client may send at once before the rate applies (bucket size). */
  burst: number;
  /** Flood control: lines dropped over the rate before the client is disconnected (1st: a warning). */
  floodStrikes: number;
  /** Bytes waiting to be sent to one client; past this it is dropped as a slow reader. */
  maxQueueBytes: number;
  /** Longest nickname, in characters. */
  maxNickLength: number;
}

/** The defaults: a human types far below 5 lines a second; 256 KiB is ~2,000 queued lines. */
export const DEFAULT_CHAT_LIMITS: Readonly<ChatLimits> = Object.freeze({
  maxUsers: 200,
  maxLineBytes: 1_024,
  linesPerSecond: 5,
  burst: 10,
  floodStrikes: 5,
  maxQueueBytes: 262_144,
  maxNickLength: 20,
});

/**
 * The operator's seat: the person running `wirecat serve chat --operator` sees the room and
 * talks in it as "operator". The room calls `attach` once with the way to speak.
 */
export interface ChatOperator {
  /** Every line the operator sees (public messages, notices, private messages to them). */
  show(line: string): void;
  /** Receives `say`: post a line (a message or a /command) as the operator. */
  attach(say: (text: string) => void): void;
}

/** What the chat service is configured with (ServiceSettings.chat). */
export interface ChatOptions extends Partial<ChatLimits> {
  operator?: ChatOperator;
}
