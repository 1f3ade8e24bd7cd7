// A monotonic clock in milliseconds that costs no module load: the global `performance`
// loads perf_hooks (eight internal modules) on first touch, a measurable share of a
// one-shot `wirecat connect`'s start-up.

/** Milliseconds from an arbitrary fixed point; only differences mean anything. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
