// The request deadline (Limits.requestTimeoutMs): a client that trickles its request a byte
// at a time (slowloris) keeps the idle timer quiet, so request/answer services also bound the
// time to the end of the request itself.

/** Call `expire` after `ms` unless cancelled; `ms` 0 disables. Returns the cancel function. */
export function requestDeadline(ms: number, expire: () => void): () => void {
  if (!(ms > 0)) return () => {};
  const timer = setTimeout(expire, ms);
  timer.unref(); // never the reason a process stays up: the connection is
  return () => clearTimeout(timer);
}

/** The deadline as a user reads it: "30 s", or "500 ms" below a second. */
export function describeDeadline(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}
