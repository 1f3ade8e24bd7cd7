// One connection's flow as a self-contained HTML file: the page's own stylesheet and flow
// renderer inlined with the flow's data, so it opens anywhere, offline, years later.

import type { Assets } from './assets.js';
import type { FlowDetail } from './views.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// JSON inside <script>: "<" escaped so no payload can close the element.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const scriptText = (body: Buffer) => body.toString('utf8').replace(/<\/script/gi, '<\\/script');

/** The export file's name, e.g. `wirecat-echo-c12.html`. */
export function exportFileName(flow: FlowDetail): string {
  return `wirecat-${(flow.service || 'flow').replace(/[^\w.-]/g, '_')}-${flow.key.replace(/[^\w.-]/g, '_')}.html`;
}

/** The self-contained HTML of one flow. */
export function exportFlowHtml(flow: FlowDetail, assets: Assets): string {
  const css = assets.get('app.css')?.body.toString('utf8') ?? '';
  const flowJs = assets.get('flow.js')?.body ?? Buffer.alloc(0);
  const title = `${flow.service || flow.transport} ${flow.remote} — wirecat flow`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="wirecat">
<title>${escapeHtml(title)}</title>
<style>${css.replace(/<\/style/gi, '<\\/style')}</style>
</head>
<body class="export">
<main>
<h1>${escapeHtml(title)}</h1>
<p class="muted">Exported ${escapeHtml(new Date().toISOString())}. Times are since the connection opened.</p>
<section id="flow" class="flow-view" aria-label="connection flow"></section>
</main>
<script>${scriptText(flowJs)}</script>
<script>WirecatFlow.render(document.getElementById('flow'), ${scriptJson(flow)}, { exported: true });</script>
</body>
</html>
`;
}
