// Parsers for command-line option values: a malformed value is rejected by name, before any work starts.
import { InvalidArgumentError } from 'commander';

export function numberOption(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError(`${flag} takes a finite number, not "${value}"`);
    return parsed;
  };
}

export function integerOption(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(parsed)) throw new InvalidArgumentError(`${flag} takes a whole number, not "${value}"`);
    return parsed;
  };
}

export function listOption(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}
