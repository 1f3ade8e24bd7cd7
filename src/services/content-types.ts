// What a file is, from its name: the media type for HTTP (RFC 9110 §8.3) and the item type
// for a Gopher menu (RFC 1436 §3.8). One table serves both, so they never disagree.

/** The media type of files whose extension is not in the table. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

const TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  ico: 'image/vnd.microsoft.icon',
  avif: 'image/avif',
  pdf: 'application/pdf',
  wasm: 'application/wasm',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  webm: 'video/webm',
  woff2: 'font/woff2',
};

function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** The media type for a file name, with `charset=utf-8` for text (what browsers need). */
export function contentTypeOf(name: string): string {
  const type = TYPES[extensionOf(name)] ?? DEFAULT_CONTENT_TYPE;
  return type.startsWith('text/') || type === 'application/json' || type === 'image/svg+xml'
    ? `${type}; charset=utf-8`
    : type;
}

/** The Gopher item type for a file name: 0 text, g GIF, I other image, 9 other binary. */
export function gopherTypeOf(name: string): string {
  const type = TYPES[extensionOf(name)];
  if (type === undefined) return extensionOf(name) === '' ? '0' : '9';
  if (type.startsWith('text/') || type === 'application/json' || type === 'application/xml')
    return '0';
  if (type === 'image/gif') return 'g';
  if (type.startsWith('image/')) return 'I';
  return '9';
}
