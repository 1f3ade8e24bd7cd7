// Make untrusted text safe to show on someone else's terminal: invalid UTF-8 becomes U+FFFD,
// and every control character — C0 (ESC included, so no CSI/OSC sequence survives), DEL, C1 —
// plus the Unicode bidi overrides and line separators becomes visible text, the way `cat -v`
// shows it (`^[`, `^G`, `^?`, `M-^[`, `<U+202E>`). The cure for terminal-escape injection
// (feature-anchors.md, security lesson 6).

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Decode bytes as UTF-8, replacing every invalid sequence with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

// Everything that can steer a terminal or reorder what a reader sees.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(ch: string, keepTab: boolean): string {
  const code = ch.charCodeAt(0);
  if (code === 0x09) return keepTab ? '\t' : ' ';
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return '^?';
  if (code < 0xa0) return `M-^${String.fromCharCode(code - 0x80 + 0x40)}`;
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * Replace control characters with visible escapes. TAB becomes a space unless `keepTab`.
 *
 * @example
 * sanitizeText('\x1b[2Jhi\x07') // '^[[2Jhi^G'
 */
export function sanitizeText(text: string, keepTab = false): string {
  return text.replace(UNSAFE, (ch) => visible(ch, keepTab));
}

/** Decode and sanitize one line's content (without its ending). */
export function sanitizeLine(bytes: Uint8Array, keepTab = false): string {
  return sanitizeText(decodeUtf8(bytes), keepTab);
}
