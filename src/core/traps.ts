// How a core's execution can end abnormally, and how a JavaScript exception raised by the engine maps to
// a WebAssembly trap kind. Anything that is not a trap of the flight software (a bug of lockstep itself)
// is not classified, so that it surfaces as the tool's own error instead of being blamed on a core.
import { describeAbort, type AbortReport } from '../abi/abort.js';

export type { AbortReport } from '../abi/abort.js';

/** Thrown by the `lockstep.watchdog` import when a cycle exhausts its instruction budget. */
export class WatchdogExpired extends Error {
  constructor() {
    super('instruction budget exhausted');
  }
}

/**
 * Thrown by the `lockstep.check_failed` import, which a hardened module (EDDI, SWIFT) calls when one of
 * its software checks finds a value and its shadow differ: the core has caught its own error.
 */
export class CheckFailed extends Error {
  constructor(readonly site: number) {
    super(`software check ${site} failed`);
  }
}

/**
 * Thrown by the `env.abort` import, which AssemblyScript calls on a failed `assert` or a runtime check:
 * the software has detected its own failure and says where, as a failed check of a hardened module does.
 */
export class AbortCalled extends Error {
  constructor(readonly report: AbortReport) {
    super(describeAbort(report));
  }
}

export const TRAP_KINDS = [
  'unreachable',
  'out-of-bounds',
  'divide-by-zero',
  'integer-overflow',
  'invalid-conversion',
  'indirect-call',
  'stack-overflow',
  'memory-limit',
  'other',
] as const;
export type TrapKind = (typeof TRAP_KINDS)[number];

// Order matters: V8 says "table index is out of bounds" for a bad call_indirect, which is an
// indirect-call fault, not a memory one.
const MESSAGE_PATTERNS: Array<[RegExp, TrapKind]> = [
  [/unreachable/i, 'unreachable'],
  [/indirect call|signature mismatch|null function|table index/i, 'indirect-call'],
  [/out of bounds|offset is out of bounds/i, 'out-of-bounds'],
  [/divide by zero|division by zero|remainder by zero/i, 'divide-by-zero'],
  [/integer overflow|divide result unrepresentable/i, 'integer-overflow'],
  [/unrepresentable|invalid conversion|float.*integer/i, 'invalid-conversion'],
];

export function classifyTrap(error: unknown): TrapKind | null {
  if (error instanceof WebAssembly.RuntimeError) {
    for (const [pattern, kind] of MESSAGE_PATTERNS) if (pattern.test(error.message)) return kind;
    return 'other';
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return 'stack-overflow';
  return null;
}
