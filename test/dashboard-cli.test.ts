// `wirecat serve --dashboard --record` as a user runs it (the built CLI): the page's address
// on stderr, /metrics after real traffic, the recording flushed on SIGTERM.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalizeObserveArgs } from '../src/cli/observe-options.js';
import { exchange, spawnCli, tempDir, waitFor } from './helpers.js';

test('a bare --dashboard takes the default endpoint; =ENDPOINT passes through', () => {
  assert.deepEqual(normalizeObserveArgs(['--dashboard', 'echo']), ['--dashboard=', 'echo']);
  assert.deepEqual(normalizeObserveArgs(['--dashboard=:0']), ['--dashboard=:0']);
  assert.deepEqual(normalizeObserveArgs(['--', '--dashboard']), ['--', '--dashboard']);
});

test('serve --dashboard=127.0.0.1:0 --record FILE', { timeout: 30_000 }, async (t) => {
  const record = join(tempDir(t), 'events.jsonl');
  const child = spawnCli(t, [
    'serve',
    'echo=tcp://127.0.0.1:0',
    '--dashboard=127.0.0.1:0',
    '--record',
    record,
  ]);
  const url = await waitFor(
    () => /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(child.errors())?.[1],
    'the dashboard line',
  );
  const port = Number(
    await waitFor(() => /tcp:\/\/127\.0\.0\.1:(\d+)/.exec(child.output())?.[1], 'the table'),
  );
  assert.equal((await exchange(port, 'via the cli\n')).toString(), 'via the cli\n');
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>wirecat/);
  assert.match(await (await fetch(`${url}assets/flow.js`)).text(), /WirecatFlow/);
  const metrics = await (await fetch(`${url}metrics`)).text();
  assert.match(metrics, /wirecat_received_bytes_total\{service="echo",transport="tcp"\} 12\n/);

  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const types = readFileSync(record, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l).type);
  assert.deepEqual(types, [
    'listen',
    'accept',
    'data-in',
    'data-out',
    'half-close-in',
    'half-close-out',
    'close',
    'unlisten',
  ]);
});
