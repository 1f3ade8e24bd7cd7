// The page's files (plain HTML, CSS and JS in ./assets, shipped in the package; no CDN), read
// once at start. `npm run build` copies ./assets next to the compiled code.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Every asset the dashboard serves, by URL path, with its content type. */
export type Assets = Map<string, { type: string; body: Buffer }>;

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'flow.js': 'text/javascript; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
};

// From src/dashboard (tsx), dist/dashboard (tsc) or dist/cli/chunks (the bundled CLI).
const CANDIDATES = ['./assets/', '../../dashboard/assets/', '../dashboard/assets/'];

function assetsDir(): string {
  for (const rel of CANDIDATES) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('the dashboard assets are missing (run npm run build)');
}

let cached: Assets | undefined;

/** Read the assets (once). */
export function loadAssets(): Assets {
  if (cached) return cached;
  const dir = assetsDir();
  cached = new Map(
    Object.entries(FILES).map(([name, type]) => [name, { type, body: readFileSync(dir + name) }]),
  );
  return cached;
}
