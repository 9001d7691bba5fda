// Parsers for command-line option values: a malformed value, or a whole number outside the option's range
// (no experiments, a negative count of cycles), is rejected by name, before any work starts.
import { InvalidArgumentError } from 'commander';

export function numberOption(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError(`${flag} takes a finite number, not "${value}"`);
    return parsed;
  };
}

/** A whole number, from `min` (and up to `max`) when given. */
export function integerOption(flag: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const range = max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min > Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : '';
  return (value) => {
    const parsed = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`${flag} takes a whole number${range}, not "${value}"`);
    return parsed;
  };
}

export function listOption(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}
