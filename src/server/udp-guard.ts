// Who a UDP service may answer. Stops the echo↔chargen loop (CVE-1999-0103, CVE-2024-2169
// "Loop DoS"), Fraggle-style reflection, and floods: no answer to privileged or service
// source ports, to broadcast/multicast/unspecified sources, to a peer that keeps sending our
// own reply straight back (a loop with a service on a port we cannot know), and at most N
// replies per second per source address.

import { normalizeAddress } from '../transport/endpoint.js';

/** Why a datagram got no answer. */
export type UdpDropReason =
  | 'privileged-port'
  | 'service-port'
  | 'bad-source'
  | 'budget'
  | 'reply-too-large'
  | 'loop';

/**
 * A peer address:port that sends us back one of our own recent replies this many times in a
 * row, each within LOOP_WINDOW_MS of our latest reply to it, is a service answering us (echo,
 * or another wirecat), not a client: we stop answering it. A client's retry repeats its
 * request after a timeout, and a few times at most.
 */
export const LOOP_STREAK = 8;
/** How soon after our latest reply a copy must come back to count towards LOOP_STREAK. */
export const LOOP_WINDOW_MS = 100;
/** Recent replies remembered per peer, so several datagrams looping at once are all seen. */
export const LOOP_REPLIES_REMEMBERED = 8;

/** How many bytes of a reply its fingerprint covers (with its length). */
const FINGERPRINT_BYTES = 64;

/**
 * The tables of sources are least-recently-used lists (Map order), but an entry seen again
 * moves to the back only once this long has passed since it last moved: moving it for
 * every datagram (a delete and a set) cost 5 % of a UDP echo server's CPU.
 */
const LRU_MOVE_AFTER_MS = 1_000;

/** Options for a UdpGuard. */
export interface UdpGuardOptions {
  /** Replies per second per source address (burst = the same number). */
  repliesPerSecond: number;
  /** Source addresses remembered for the budget; the least recently seen is forgotten first. */
  sourcesTracked: number;
  /** Loopback sources cannot be spoofed from the network, so they skip the budget (the loop checks still apply). */
  exemptLoopback?: boolean;
  /** Source ports we never answer: ours and every wirecat default service port. */
  servicePorts: ReadonlySet<number>;
  /** The clock in milliseconds (injectable for tests). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
  moved: number;
}

/** The recent replies sent to one address:port, and how often one came straight back. */
export interface RecentReplies {
  prints: number[];
  next: number;
  /** When we last replied to the peer. */
  at: number;
  streak: number;
  moved: number;
  /** When its current datagram arrived (read once per datagram, by `peer`). */
  seen: number;
}

/** FNV-1a over the length and the first FINGERPRINT_BYTES bytes. */
function fingerprint(bytes: Uint8Array): number {
  let h = Math.imul(0x811c9dc5 ^ bytes.length, 0x01000193);
  const n = Math.min(bytes.length, FINGERPRINT_BYTES);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** Decides, datagram by datagram, whether answering is safe. */
export class UdpGuard {
  private readonly buckets = new Map<string, Bucket>();
  private readonly recent = new Map<string, RecentReplies>();
  private readonly now: () => number;

  constructor(private readonly options: UdpGuardOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Why the datagram from address:port must not be answered, or undefined when it may be. */
  check(address: string, port: number): UdpDropReason | undefined {
    if (port < 1024) return 'privileged-port';
    if (this.options.servicePorts.has(port)) return 'service-port';
    if (isBadSource(address)) return 'bad-source';
    return undefined;
  }

  /**
   * What we recently sent to address:port, for `isLoop` and `replied` (one lookup per
   * datagram). Peers are bounded like the budget's sources.
   */
  peer(address: string, port: number): RecentReplies {
    const key = `${address}|${port}`;
    const now = this.now();
    let recent = this.recent.get(key);
    if (recent === undefined) {
      recent = { prints: [], next: 0, at: 0, streak: 0, moved: now, seen: now };
      touch(this.recent, key, recent, this.options.sourcesTracked);
    } else if (now - recent.moved > LRU_MOVE_AFTER_MS) {
      recent.moved = now;
      touch(this.recent, key, recent, this.options.sourcesTracked);
    }
    recent.seen = now;
    return recent;
  }

  /**
   * True when `request` from the peer is one of our recent replies to it coming straight
   * back for the LOOP_STREAK-th time in a row: we are looping with another service, so this
   * one gets no answer (which ends the loop).
   */
  isLoop(recent: RecentReplies, request: Uint8Array): boolean {
    const back =
      recent.seen - recent.at <= LOOP_WINDOW_MS && recent.prints.includes(fingerprint(request));
    recent.streak = back ? recent.streak + 1 : 0;
    return recent.streak >= LOOP_STREAK;
  }

  /** Note the reply just sent to the peer (for isLoop). */
  replied(recent: RecentReplies, reply: Uint8Array): void {
    recent.prints[recent.next] = fingerprint(reply);
    recent.next = (recent.next + 1) % LOOP_REPLIES_REMEMBERED;
    recent.at = recent.seen;
  }

  /** Take one reply from the source's budget; false when it is spent for now. */
  spend(address: string): boolean {
    if (this.options.exemptLoopback !== false && isLoopbackAddress(address)) return true;
    const key = normalizeAddress(address);
    const rate = this.options.repliesPerSecond;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) * rate) / 1000);
      bucket.at = now;
      if (now - bucket.moved > LRU_MOVE_AFTER_MS) {
        bucket.moved = now;
        touch(this.buckets, key, bucket, this.options.sourcesTracked);
      }
    } else {
      bucket = { tokens: rate, at: now, moved: now };
      touch(this.buckets, key, bucket, this.options.sourcesTracked);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Source addresses tracked now (never above `sourcesTracked`). */
  get trackedSources(): number {
    return this.buckets.size;
  }
}

/** Put `key` at the back of an LRU map, forgetting the least recently moved entry when full. */
function touch<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  if (!map.delete(key) && map.size >= limit) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** Sources no honest client has: broadcast, multicast and unspecified addresses. */
export function isBadSource(address: string): boolean {
  const a = normalizeAddress(address);
  if (a.includes(':')) return a === '::' || a.toLowerCase().startsWith('ff');
  if (a === '0.0.0.0' || a === '255.255.255.255') return true;
  const first = Number(a.slice(0, a.indexOf('.')));
  return first >= 224; // 224/4 multicast and 240/4 reserved
}
