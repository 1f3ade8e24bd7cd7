// Turns per-rep records into the printed table: medians, paired per-rep ratios to bare node
// and to socat, and which floors and aims hold.

/** Median of a list of numbers (undefined when empty). */
export function median(xs) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median over reps of figure(who)/figure(ref), using only reps where both succeeded. */
function pairedRatio(records, who, ref) {
  const byRep = (name) =>
    new Map(records.filter((r) => r.who === name && r.ok).map((r) => [r.rep, r]));
  const a = byRep(who);
  const b = byRep(ref);
  const ratios = [];
  for (const [rep, r] of a) {
    const base = b.get(rep);
    if (base && base.figure > 0) ratios.push(r.figure / base.figure);
  }
  return median(ratios);
}

/**
 * One row per server (or client) of a scenario. `records`: { who, rep, ok, figure, serverCpu,
 * clientCpu, bgCores, error }. `refs`: which `who` is bare node and which is socat.
 */
export function scenarioRows(records, order, refs) {
  return order
    .filter((who) => records.some((r) => r.who === who))
    .map((who) => {
      const mine = records.filter((r) => r.who === who);
      const ok = mine.filter((r) => r.ok);
      const figures = ok.map((r) => r.figure);
      const pick = (key) => median(ok.map((r) => r[key]).filter((v) => typeof v === 'number'));
      return {
        who,
        reps: mine.length,
        ok: ok.length,
        median: median(figures),
        min: figures.length ? Math.min(...figures) : undefined,
        max: figures.length ? Math.max(...figures) : undefined,
        vsNode: who === refs.node ? 1 : pairedRatio(records, who, refs.node),
        vsSocat: who === refs.socat ? 1 : pairedRatio(records, who, refs.socat),
        serverCpu: pick('serverCpu'),
        cpuPerOp: pick('cpuPerOp'),
        cpuUnit: ok.find((r) => r.cpuUnit)?.cpuUnit,
        clientCpu: pick('clientCpu'),
        bgMax: Math.max(...ok.map((r) => r.bgCores ?? Number.NEGATIVE_INFINITY)),
        errors: mine.filter((r) => !r.ok).map((r) => r.error),
      };
    });
}

export function fmt(n, digits) {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (digits !== undefined) return n.toFixed(digits);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(Math.abs(n) >= 10 ? 1 : 2);
}

const ratio = (x) => (x === undefined ? '-' : `${x.toFixed(2)}x`);

/** The markdown table for all scenarios. `results`: [{ scenario, rows }]. */
export function renderTable(results) {
  const head =
    '| scenario | server / client | median | min..max | x bare node | x socat | server CPU % | server CPU per op | client CPU % | foreign cores (max) | reps ok |\n' +
    '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|';
  const lines = [head];
  for (const { scenario, rows } of results) {
    for (const row of rows) {
      const value = row.ok ? `${fmt(row.median)} ${scenario.unit}` : 'FAILED';
      const range = row.ok ? `${fmt(row.min)}..${fmt(row.max)}` : '-';
      const bg = Number.isFinite(row.bgMax) ? fmt(row.bgMax, 2) : '-';
      const failed = row.ok < row.reps ? ` (${row.errors[0].replaceAll('|', '\\|')})` : '';
      lines.push(
        `| ${scenario.name} | ${row.label ?? row.who} | ${value} | ${range} | ${ratio(row.vsNode)} | ${ratio(row.vsSocat)} | ${fmt(row.serverCpu, 0)} | ${row.cpuUnit ? `${fmt(row.cpuPerOp)} ${row.cpuUnit}` : '-'} | ${fmt(row.clientCpu, 0)} | ${bg} | ${row.ok}/${row.reps}${failed} |`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * The floors (must hold) and aims, as { kind, text, holds } where holds is true, false, or
 * undefined when not measured in this run.
 */
export function evaluate(results, ncatMs) {
  const get = (name) => results.find((r) => r.scenario.name === name);
  const row = (name, who) => get(name)?.rows.find((r) => r.who === who);
  const checks = [];
  // A check about a scenario this run did not measure is left out.
  const add = (kind, text, holds) => {
    if (get(text.slice(0, text.indexOf(':')))) checks.push({ kind, text, holds });
  };
  const throughput = ['echo', 'stream', 'daytime', 'udp'];

  for (const name of throughput) {
    const w = row(name, 'wirecat');
    add(
      'floor',
      `${name}: wirecat >= 0.9x bare node (${ratio(w?.vsNode)})`,
      w && w.vsNode !== undefined ? w.vsNode >= 0.9 : undefined,
    );
  }
  const idle = row('idle', 'wirecat');
  add(
    'floor',
    `idle: RSS per connection <= 1.3x bare node (${ratio(idle?.vsNode)})`,
    idle?.vsNode !== undefined ? idle.vsNode <= 1.3 : undefined,
  );
  const shot = row('oneshot', 'wirecat connect');
  const speed = shot?.vsNode !== undefined ? 1 / shot.vsNode : undefined;
  add(
    'floor',
    `oneshot: wirecat connect >= 0.9x the speed of a bare node client (${ratio(speed)})`,
    speed !== undefined ? speed >= 0.9 : undefined,
  );
  for (const name of throughput) {
    const w = row(name, 'wirecat');
    add(
      'floor',
      `${name}: wirecat ahead of socat (${ratio(w?.vsSocat)})`,
      w?.vsSocat !== undefined ? w.vsSocat > 1 : undefined,
    );
  }

  for (const name of [...throughput, 'idle', 'oneshot']) {
    const w = name === 'oneshot' ? shot : row(name, 'wirecat');
    const p = name === 'oneshot' ? row(name, 'python3 socket client') : row(name, 'python');
    const lowerBetter = get(name)?.scenario.better === 'lower';
    const holds =
      w?.median !== undefined && p?.median !== undefined
        ? lowerBetter
          ? w.median < p.median
          : w.median > p.median
        : undefined;
    add(
      'aim',
      `${name}: wirecat ahead of python (${fmt(w?.median)} vs ${fmt(p?.median)} ${get(name)?.scenario.unit ?? ''})`,
      holds,
    );
  }
  for (const name of ['echo', 'daytime']) {
    const w = row(name, 'wirecat');
    add(
      'aim',
      `${name}: wirecat >= 1.1x bare node (${ratio(w?.vsNode)})`,
      w?.vsNode !== undefined ? w.vsNode >= 1.1 : undefined,
    );
  }
  add(
    'aim',
    `oneshot: wirecat connect faster than ncat's ${ncatMs} ms (${fmt(shot?.median)} ms)`,
    shot?.median !== undefined ? shot.median < ncatMs : undefined,
  );
  return checks;
}

/** The floors and aims as text lines. */
export function renderChecks(checks) {
  const mark = (h) => (h === undefined ? '[ n/a ]' : h ? '[ ok  ]' : '[FAIL ]');
  const part = (kind, title) => [
    title,
    ...checks.filter((c) => c.kind === kind).map((c) => `  ${mark(c.holds)} ${c.text}`),
  ];
  return [...part('floor', 'Floors (must hold):'), ...part('aim', 'Aims:')].join('\n');
}
