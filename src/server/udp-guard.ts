// Who a UDP service may answer. Stops the echo↔chargen loop (CVE-1999-0103, CVE-2024-2169
// "Loop DoS"), Fraggle-style reflection, and floods: no answer to privileged or service
// source ports, to broadcast/multicast/unspecified sources, and at most N replies per
// second per source address.

import { normalizeAddress } from '../transport/endpoint.js';

/** Why a datagram got no answer. */
export type UdpDropReason =
  | 'privileged-port'
  | 'service-port'
  | 'bad-source'
  | 'budget'
  | 'reply-too-large';

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
}

/** Decides, datagram by datagram, whether answering is safe. */
export class UdpGuard {
  private readonly buckets = new Map<string, Bucket>();
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

  /** Take one reply from the source's budget; false when it is spent for now. */
  spend(address: string): boolean {
    if (this.options.exemptLoopback !== false && isLoopbackAddress(address)) return true;
    const key = normalizeAddress(address);
    const rate = this.options.repliesPerSecond;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-insert below: Map order is our LRU order
      bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) * rate) / 1000);
      bucket.at = now;
    } else {
      bucket = { tokens: rate, at: now };
      if (this.buckets.size >= this.options.sourcesTracked) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Source addresses tracked now (never above `sourcesTracked`). */
  get trackedSources(): number {
    return this.buckets.size;
  }
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
