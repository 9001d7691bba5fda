// The registry of lockstep's module passes, by name, and the one way to run them: read a binary with
// the supported features, validate it, apply the named passes in order, validate again, emit.
// Passes compose: a core is built with ['export-state', 'count-instructions'], and later passes
// (fault hooks, EDDI, SWIFT) slot in by name.
import binaryen, { SUPPORTED_FEATURES, type Module } from './binaryen.js';
import { countInstructions } from './count-instructions.js';
import { exportState } from './export-state.js';
import { trackDirtyMemory } from './track-dirty-memory.js';
import type { ModulePass, PassReport } from './pass.js';

export const PASSES: ReadonlyMap<string, ModulePass> = new Map(
  [exportState, countInstructions, trackDirtyMemory].map((pass) => [pass.name, pass]),
);

/**
 * The passes every core is prepared with. Instruction counting runs before dirty tracking, so that the
 * instrumentation (which stands for comparator hardware) is not charged to the flight software's time.
 */
export const CORE_PASSES = ['export-state', 'count-instructions', 'track-dirty-memory'] as const;
/** A core with no comparator behind it needs no dirty tracking: the bare core of `lockstep bench`. */
export const BARE_CORE_PASSES = ['export-state', 'count-instructions'] as const;

export class ModuleError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export function readModule(bytes: Uint8Array, source: string): Module {
  if (bytes.length < 8 || WASM_MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new ModuleError(source, 'not a WebAssembly binary (no \\0asm magic number at its start)');
  }
  let module: Module;
  try {
    module = binaryen.readBinary(bytes);
  } catch (error) {
    throw new ModuleError(source, `cannot be decoded (truncated or malformed): ${(error as Error).message}`);
  }
  module.setFeatures(SUPPORTED_FEATURES);
  if (!module.validate()) {
    module.dispose();
    throw new ModuleError(source, 'does not validate as WebAssembly with the features lockstep supports');
  }
  return module;
}

export interface TransformResult {
  readonly binary: Uint8Array;
  /** What each pass reported, by pass name. */
  readonly reports: ReadonlyMap<string, PassReport>;
}

/** Applies the named passes in order to a binary and returns the transformed binary. */
export function transformBinary(bytes: Uint8Array, passNames: readonly string[], source: string): TransformResult {
  const module = readModule(bytes, source);
  try {
    const reports = new Map<string, PassReport>();
    for (const name of passNames) {
      const pass = PASSES.get(name);
      if (!pass) throw new ModuleError(source, `unknown pass "${name}" (known: ${[...PASSES.keys()].join(', ')})`);
      let report;
      try {
        report = pass.run(module);
      } catch (error) {
        throw new ModuleError(source, `pass ${name}: ${(error as Error).message}`);
      }
      if (report) reports.set(name, report);
    }
    if (!module.validate()) throw new ModuleError(source, `passes ${passNames.join(', ')} produced an invalid module`);
    return { binary: module.emitBinary(), reports };
  } finally {
    module.dispose();
  }
}
