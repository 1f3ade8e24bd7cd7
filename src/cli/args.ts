// Shared command-line helpers: option parsing with errors that teach, durations and sizes.

import { type ParseArgsConfig, parseArgs } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type Config<T extends OptionsConfig> = {
  args: string[];
  options: T;
  allowPositionals: true;
  strict: true;
};
/** What parseCommandLine returns: typed values and the positionals. */
export type ParsedCommandLine<T extends OptionsConfig> = ReturnType<typeof parseArgs<Config<T>>>;

import { WirecatError } from '../errors.js';

export function usageError(message: string, verb?: string): WirecatError {
  return new WirecatError(
    'WIRECAT_BAD_USAGE',
    `${message}${verb ? ` (see: wirecat ${verb} --help)` : ''}`,
  );
}

/** util.parseArgs, with its errors turned into usage errors that point at --help. */
export function parseCommandLine<T extends OptionsConfig>(
  args: string[],
  options: T,
  verb: string,
): ParsedCommandLine<T> {
  try {
    return parseArgs<Config<T>>({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''), verb);
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/** A duration like `500ms`, `30s`, `5m`, or a bare number of `unit`s, in milliseconds. */
export function parseDuration(text: string, option: string, unit: 'ms' | 's' = 'ms'): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw usageError(`${option} takes a duration like 500ms, 30s or 5m, not "${text}"`);
  const n = Number(match[1]);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[
    (match[2] ?? unit) as 'ms' | 's' | 'm' | 'h'
  ];
  return Math.round(n * scale);
}

const SIZE = /^(\d+)(k|ki|kib|m|mi|mib|g|gi|gib|b)?$/i;

/** A size like `8192`, `64k`, `1M` or `4G` (powers of 1024), in bytes. */
export function parseSize(text: string, option: string): number {
  const match = SIZE.exec(text.trim());
  if (!match) throw usageError(`${option} takes a size like 8192, 64k or 1M, not "${text}"`);
  const unit = (match[2] ?? 'b').toLowerCase()[0];
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1_048_576 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(match[1]) * scale;
}

/** A whole number ≥ min. */
export function parseCount(text: string, option: string, min = 0): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min)
    throw usageError(`${option} takes a whole number ≥ ${min}, not "${text}"`);
  return Number(text);
}
