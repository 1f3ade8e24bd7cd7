// `run.mjs --selftest`: proves the harness fails loudly. Each load scenario and the one-shot
// client are run against bench/servers/bad-wirecat.mjs (wrong bytes) and must exit 2 with a
// FAILED message and no figure; one run against the real CLI must exit 0.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBounded } from './proc.mjs';

/** Ports for the self-test, apart from a normal run's (which start at 27400). */
const SELFTEST_PORT_BASE = '27500';
const RUN_LIMIT_MS = 180_000;

export async function selftest(benchDir) {
  const out = mkdtempSync(join(tmpdir(), 'wirecat-bench-selftest-'));
  const bad = join(benchDir, 'servers/bad-wirecat.mjs');
  const base = [
    '--quick',
    '--secs',
    '1',
    '--warmup',
    '0',
    '--runs',
    '2',
    '--servers',
    'wirecat,node',
  ];
  const cases = [
    ...['echo', 'stream', 'daytime', 'udp', 'oneshot'].map((only) => ({
      name: `${only}: wrong bytes from wirecat -> exit 2`,
      args: [...base, '--only', only, '--wirecat', bad],
      expect: 2,
    })),
    {
      name: 'daytime,udp: the real wirecat -> exit 0',
      args: [...base, '--only', 'daytime,udp'],
      expect: 0,
    },
  ];
  let failed = 0;
  try {
    for (const c of cases) {
      const args = [
        join(benchDir, 'run.mjs'),
        ...c.args,
        '--port-base',
        SELFTEST_PORT_BASE,
        '--out',
        out,
      ];
      const r = await runBounded(process.execPath, args, RUN_LIMIT_MS);
      const loud = c.expect !== 2 || (r.stderr.includes('FAILED') && r.stdout.includes('FAILED'));
      const ok = r.code === c.expect && loud;
      if (!ok) failed++;
      process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${c.name} (exit ${r.code})\n`);
      if (!ok) process.stdout.write(`${r.stderr.trim().split('\n').slice(-6).join('\n')}\n`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  process.stdout.write(
    failed ? `${failed} self-test case(s) failed\n` : 'harness self-test passed\n',
  );
  return failed ? 1 : 0;
}
