// A core's state, as the comparator and the checkpoint see it: the bytes of its linear memory and the
// values of its mutable globals. Comparison is bitwise for memory and Object.is for globals (NaN equals
// NaN, +0 differs from −0); JavaScript cannot observe a NaN's payload through a WebAssembly.Global, so a
// flip inside the payload of a global that already holds NaN is invisible here (memory has no such gap).
import type { Core } from './core.js';

export type GlobalValue = number | bigint;

export function memoryEquals(a: Core, b: Core): boolean {
  const bytesA = a.memoryBytes();
  const bytesB = b.memoryBytes();
  return bytesA.length === bytesB.length && Buffer.compare(bytesA, bytesB) === 0;
}

export function globalsEqual(a: Core, b: Core): boolean {
  const count = a.globals.length;
  for (let i = 0; i < count; i++) {
    if (!Object.is(a.globals[i].value, b.globals[i].value)) return false;
  }
  return true;
}

export function statesEqual(a: Core, b: Core): boolean {
  return globalsEqual(a, b) && memoryEquals(a, b);
}

/** Copies the whole state of `from` into `to` (both instances of the same module). */
export function copyState(from: Core, to: Core): void {
  const source = from.memoryBytes();
  ensureMemorySize(to, source.length);
  to.memoryBytes().set(source);
  for (let i = 0; i < from.globals.length; i++) to.globals[i].value = from.globals[i].value;
}

/** Grows a core's memory to `bytes` (memory never shrinks; a smaller state leaves the rest zeroed). */
export function ensureMemorySize(core: Core, bytes: number): void {
  const current = core.memory.buffer.byteLength;
  if (current < bytes) core.memory.grow((bytes - current) / 65536);
}
