// Result files are written whole or not at all: to a temporary file beside the target, then renamed over
// it, so that an interrupted run never leaves a half-written JSON or CSV where a reader expects a result.
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';

export class OutputError extends Error {}

export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, contents);
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // nothing was written
    }
    throw new OutputError(`${path}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
