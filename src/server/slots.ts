// The Host's connection slots: every open Conn, and every socket a one-shot service answered
// straight from accept, with counts per source address for maxConnectionsPerSource. Sources
// are counted only once some source could be at its limit (that many connections open in
// all): below that, a getpeername per accepted connection and the map updates are wasted.

import type net from 'node:net';
import type { Conn } from '../transport/conn.js';
import { normalizeAddress } from '../transport/endpoint.js';

/** Open connections and their sources, for the Host's limits, stats and shutdown. */
export class ConnectionSlots {
  /** Connections served through a Conn. */
  readonly conns = new Set<Conn>();
  /** Sockets answered at accept (replyOnAccept), waiting for the peer to close. */
  readonly answered = new Set<net.Socket>();
  /** Called each time the last open connection is gone. */
  onEmpty: (() => void) | undefined;
  private readonly perSource = new Map<string, number>();
  private counting = false;

  constructor(private readonly perSourceLimit: number) {}

  /** Connections open now, of both kinds. */
  get size(): number {
    return this.conns.size + this.answered.size;
  }

  /**
   * Charge a connection about to be added to its source. Returns its source when sources are
   * counted, undefined when they need not be yet, and null when that source already has
   * `perSourceLimit` connections: refuse it. Unix peers share the source '' and are never
   * refused.
   */
  admit(socket: net.Socket, unix: boolean): string | undefined | null {
    if (!this.counting) {
      if (this.size < this.perSourceLimit) return undefined;
      this.startCounting();
    }
    const source = unix ? '' : normalizeAddress(socket.remoteAddress);
    const n = this.perSource.get(source) ?? 0;
    if (source !== '' && n >= this.perSourceLimit) return null;
    this.perSource.set(source, n + 1);
    return source;
  }

  /** A connection closed: free its slot. */
  releaseConn(conn: Conn): void {
    this.conns.delete(conn);
    this.freed(conn.remoteAddress);
  }

  /** An answered socket closed: free its slot. */
  releaseAnswered(socket: net.Socket): void {
    this.answered.delete(socket);
    // When counted, the address was read at accept or when counting began: Node keeps it.
    this.freed(normalizeAddress(socket.remoteAddress));
  }

  private freed(source: string): void {
    if (this.counting) {
      const n = (this.perSource.get(source) ?? 1) - 1;
      if (n <= 0) this.perSource.delete(source);
      else this.perSource.set(source, n);
    }
    if (this.size === 0) {
      this.counting = false;
      this.perSource.clear();
      this.onEmpty?.();
    }
  }

  // Every connection already open is charged to its source; counting stops when none is left.
  private startCounting(): void {
    this.counting = true;
    const count = (source: string) =>
      this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
    for (const conn of this.conns) count(conn.remoteAddress);
    for (const socket of this.answered) count(normalizeAddress(socket.remoteAddress));
  }
}
