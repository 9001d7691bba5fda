// The optional persistent region of the flight-software ABI (docs/abi.md#the-persistent-region): a small
// range of linear memory — estimator biases, mode, parameters — that the flight computer replicates to
// the other processor as the software writes it, so that a cold spare boots with it instead of losing
// all state. A module declares it with two exported functions that return constants,
// `persistent_offset` and `persistent_length`, both () -> (i32). Constants, read from the module without
// running it: the region is known before any core exists, the same for every core, and cannot move.
import binaryen, { type Module } from '../passes/binaryen.js';

export const PERSISTENT_OFFSET_EXPORT = 'persistent_offset';
export const PERSISTENT_LENGTH_EXPORT = 'persistent_length';
/** "Small": a region the link carries within a fraction of a period, whole, at every resync. */
export const MAX_PERSISTENT_BYTES = 4096;

export interface PersistentRegion {
  /** Byte address of the region in linear memory. */
  readonly offset: number;
  /** Bytes in the region. */
  readonly length: number;
}

const SIGNATURE = '() -> (i32)';

/** The constant an entry function returns: its body an i32.const, perhaps inside a block or a return. */
function constantResult(body: number): number | null {
  let expression = body;
  // Bounded: a compiler wraps the constant in a block or a return at most a few levels deep.
  for (let depth = 0; depth < 8; depth++) {
    const info = binaryen.getExpressionInfo(expression) as { id: number; type: number; value?: unknown; children?: number[] };
    if (info.id === binaryen.ConstId && info.type === binaryen.i32) return info.value as number;
    if (info.id === binaryen.ReturnId) {
      const value = info.value as number | undefined;
      if (!value) return null;
      expression = value;
    } else if (info.id === binaryen.BlockId) {
      const children = info.children ?? [];
      if (children.length !== 1) return null;
      expression = children[0];
    } else return null;
  }
  return null;
}

/**
 * Reads the persistent region a module declares. Returns the region (null when the module declares none)
 * and the ways the declaration breaks the ABI, each naming the export at fault.
 */
export function readPersistentRegion(module: Module, memoryBytes: number | null): { region: PersistentRegion | null; problems: string[] } {
  const problems: string[] = [];
  const values = new Map<string, number>();
  let declared = 0;
  for (const name of [PERSISTENT_OFFSET_EXPORT, PERSISTENT_LENGTH_EXPORT]) {
    const exported = module.getExport(name);
    if (!exported) continue;
    declared++;
    const info = binaryen.getExportInfo(exported);
    if (info.kind !== binaryen.ExternalFunction) {
      problems.push(`export "${name}": must be a function ${SIGNATURE} returning a constant, not a ${info.kind === binaryen.ExternalGlobal ? 'global' : 'memory or table'}`);
      continue;
    }
    const fn = binaryen.getFunctionInfo(module.getFunction(info.value));
    if (fn.params !== binaryen.none || fn.results !== binaryen.i32) {
      problems.push(`export "${name}": must have the signature ${SIGNATURE}`);
      continue;
    }
    const value = fn.body ? constantResult(fn.body) : null;
    if (value === null) {
      problems.push(`export "${name}": must return a constant (its body one i32.const); the region is read without running the module`);
      continue;
    }
    values.set(name, value >>> 0);
  }
  if (declared === 1) {
    const missing = module.getExport(PERSISTENT_OFFSET_EXPORT) ? PERSISTENT_LENGTH_EXPORT : PERSISTENT_OFFSET_EXPORT;
    problems.push(`export "${missing}": missing; a persistent region is declared by both ${PERSISTENT_OFFSET_EXPORT} and ${PERSISTENT_LENGTH_EXPORT}, ${SIGNATURE}`);
  }
  const offset = values.get(PERSISTENT_OFFSET_EXPORT);
  const length = values.get(PERSISTENT_LENGTH_EXPORT);
  if (offset === undefined || length === undefined) return { region: null, problems };
  if (length === 0 || length > MAX_PERSISTENT_BYTES) {
    problems.push(`export "${PERSISTENT_LENGTH_EXPORT}": returns ${length}; a persistent region holds 1 to ${MAX_PERSISTENT_BYTES} bytes`);
    return { region: null, problems };
  }
  if (memoryBytes !== null && offset + length > memoryBytes) {
    problems.push(`export "${PERSISTENT_OFFSET_EXPORT}": the region ${offset}..${offset + length - 1} lies beyond the module's initial memory of ${memoryBytes} bytes`);
    return { region: null, problems };
  }
  return { region: problems.length === 0 ? { offset, length } : null, problems };
}
