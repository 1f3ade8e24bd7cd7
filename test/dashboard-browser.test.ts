// The dashboard in a real browser: Debian's chromium driven by playwright-core (never a
// downloaded browser). A real client connects to echo; the page shows the connection, its
// data arrows and both FINs in order, live; the exported file renders the same flow offline.
// WIRECAT_UPDATE_SCREENSHOT=1 also writes the flow view to docs/flow.png for the README.

import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { startDashboard } from '../src/dashboard/server.js';
import { EventStore } from '../src/observe/store.js';
import { portOf, requirePeer, startHost, tempDir } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../docs/flow.png', import.meta.url));

test('the page shows a live connection flow and exports it', { timeout: 90_000 }, async (t) => {
  if (!requirePeer(t, CHROMIUM, 'chromium')) return;
  const store = new EventStore();
  t.after(store.subscribe());
  const dash = await startDashboard({ store, endpoint: '127.0.0.1:0' });
  t.after(() => dash.close());
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);

  const dir = tempDir(t);
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(dash.url)) problems.push(`request off the dashboard: ${r.url()}`);
  });
  await page.goto(dash.url);
  await page.locator('#status.live').waitFor({ timeout: 10_000 });
  assert.match(
    (await page.locator('#listeners tbody').textContent()) ?? '',
    /echotcptcp:\/\/127\.0\.0\.1:\d+/,
  );

  // A real client: connect, and keep the connection open while the page watches.
  const client = net.connect({
    host: '127.0.0.1',
    port: portOf(host, 'echo'),
    allowHalfOpen: true,
  });
  t.after(() => client.destroy());
  let echoed = '';
  client.on('data', (d) => {
    echoed += d;
  });
  const ended = new Promise<void>((resolve) => client.on('end', () => resolve()));
  await new Promise<void>((resolve) => client.on('connect', () => resolve()));
  const row = page.locator('#conns tbody tr').filter({ hasText: 'echo' }).first();
  await row.waitFor({ timeout: 5_000 });
  assert.match((await row.textContent()) ?? '', /open/);

  // Pick it with the keyboard: the row's button takes focus and Enter.
  await row.locator('button.pick').focus();
  await page.keyboard.press('Enter');
  await page.locator('#flow li[data-type="accept"]').waitFor({ timeout: 5_000 });

  // Live: the arrows appear while the connection is open.
  client.write('hello, flow\n');
  await page.locator('#flow li[data-type="data-out"]').waitFor({ timeout: 5_000 });
  const inArrow = page.locator('#flow li[data-type="data-in"]');
  assert.match((await inArrow.textContent()) ?? '', /12 B “hello, flow\\n”/);
  assert.equal(await inArrow.getAttribute('data-dir'), 'to-server');
  assert.equal(
    await page.locator('#flow li[data-type="data-out"]').getAttribute('data-dir'),
    'to-client',
  );

  // Both FINs, then the close, in order.
  client.end();
  await ended;
  client.end();
  await page.locator('#flow li[data-type="close"]').waitFor({ timeout: 5_000 });
  assert.equal(echoed, 'hello, flow\n');
  const order = await page
    .locator('#flow li.ev')
    .evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.type));
  assert.deepEqual(order, [
    'accept',
    'data-in',
    'data-out',
    'half-close-in',
    'half-close-out',
    'close',
  ]);
  assert.equal(
    await page.locator('#flow li[data-type="half-close-in"]').getAttribute('data-dir'),
    'to-server',
  );
  await page.locator('#conns tbody tr').filter({ hasText: 'closed' }).first().waitFor();

  const shot = join(dir, 'flow.png');
  await page.locator('#flow-section').screenshot({ path: shot });
  assert.deepEqual([...readFileSync(shot).subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  if (process.env.WIRECAT_UPDATE_SCREENSHOT === '1') copyFileSync(shot, SCREENSHOT);

  // Export: a self-contained file that renders the same flow with no server.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  assert.match(download.suggestedFilename(), /^wirecat-echo-c\d+\.html$/);
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'nothing loaded from outside');
  await page.close();
  await dash.close();
  const offline = await context.newPage();
  await offline.goto(pathToFileURL(file).href);
  const exported = await offline
    .locator('#flow li.ev')
    .evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.type));
  assert.deepEqual(exported, order);
  assert.match((await offline.locator('#flow').textContent()) ?? '', /hello, flow/);

  // Dark mode: the page follows the system's colour scheme.
  await offline.emulateMedia({ colorScheme: 'dark' });
  const bg = await offline.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(18, 20, 22)');
  assert.deepEqual(problems, []);
});
