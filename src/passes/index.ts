// The registry of lockstep's module passes, by name, and the one way to run them: read a binary with
// the supported features, validate it, apply the named passes in order, validate again, emit (with the
// module's names, binaryen.ts).
// Passes compose: a core is built with ['export-state', 'count-instructions'], and later passes
// (fault hooks, EDDI, SWIFT, and either with control-flow checking: swift-cfc, eddi-cfc) slot in by name.
import binaryen, { emitBinary, validateQuietly, type Module } from './binaryen.js';
import { countInstructions } from './count-instructions.js';
import { eddi, eddiCfc } from './eddi.js';
import { exportState } from './export-state.js';
import { faultHooks } from './fault-hooks.js';
import { profileFunctions } from './profile-functions.js';
import { SUPPORTED_FEATURES, unsupportedFeatureMessage, unsupportedFeaturesOf } from './features.js';
import { swift, swiftCfc } from './swift.js';
import { trackDirtyMemory } from './track-dirty-memory.js';
import { trackReadMemory } from './track-read-memory.js';
import { stripDebugSections } from './wasm-binary.js';
import type { ModulePass, PassReport } from './pass.js';

export const PASSES: ReadonlyMap<string, ModulePass> = new Map(
  [exportState, countInstructions, trackDirtyMemory, trackReadMemory, faultHooks, swift, eddi, swiftCfc, eddiCfc, profileFunctions].map((pass) => [pass.name, pass]),
);

/**
 * The passes every core is prepared with. Instruction counting runs before dirty tracking, so that the
 * instrumentation (which stands for comparator hardware) is not charged to the flight software's time.
 */
export const CORE_PASSES = ['export-state', 'count-instructions', 'track-dirty-memory'] as const;
/** The golden run of a campaign also records what each cycle reads. */
export const GOLDEN_PASSES = [...CORE_PASSES, 'track-read-memory'] as const;
/** A core with no comparator behind it needs no dirty tracking: the bare core of `lockstep bench`. */
export const BARE_CORE_PASSES = ['export-state', 'count-instructions'] as const;
/**
 * A core whose value-producing instructions and branch decisions can be flipped (fault-hooks.ts): the
 * core passes, then the hooks, last, so that neither instruction counting nor dirty tracking sees them.
 */
export const FAULT_HOOK_PASSES = [...CORE_PASSES, 'fault-hooks'] as const;
/** `inspect --profile`: the core passes, then a counter per function beside each fuel charge (profile-functions.ts). */
export const PROFILE_PASSES = [...CORE_PASSES, 'profile-functions'] as const;

export class ModuleError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Reads a binary into Binaryen, after the engine has vouched for it: V8's decoder is the safe judge of
 * arbitrary bytes (and names the byte offset of the fault), while Binaryen is only ever handed modules
 * that decode, so that garbage can never reach a fatal error inside it.
 */
export function readModule(bytes: Uint8Array, source: string): Module {
  if (bytes.length < 8 || WASM_MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new ModuleError(source, 'not a WebAssembly binary (it does not start with the \\0asm magic number)');
  }
  try {
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw new ModuleError(source, `is not a valid WebAssembly module (truncated or malformed): ${(error as Error).message.replace(/^WebAssembly\.Module\(\): /, '')}`);
  }
  let module: Module;
  try {
    // Debug information (DWARF, a source map's URL) never reaches Binaryen, which would try to rewrite
    // DWARF it cannot keep true through lockstep's passes: a module built with -g flies, and costs,
    // exactly what the same module built without does. Lines are read from the module as compiled
    // (src/source/).
    module = binaryen.readBinary(stripDebugSections(bytes));
  } catch (error) {
    throw new ModuleError(source, `cannot be decoded: ${(error as Error).message}`);
  }
  module.setFeatures(SUPPORTED_FEATURES);
  const complaint = validateQuietly(module);
  if (!complaint.valid) {
    let found;
    try {
      found = unsupportedFeaturesOf(module);
    } finally {
      module.dispose();
    }
    if (found.length > 0) throw new ModuleError(source, unsupportedFeatureMessage(found));
    // V8 accepts it and Binaryen does not: say what Binaryen found, without its command-line hints.
    const first = complaint.printed
      .find((line) => line.trim().length > 0)
      ?.replace(/^\[wasm-validator error[^\]]*\]\s*(unexpected false:\s*)?/, '')
      .replace(/,\s*on\s*$/, '')
      .replace(/\s*\[--enable-[^\]]*\]/, '')
      .trim();
    throw new ModuleError(source, `cannot be read by lockstep's passes (Binaryen does not validate it)${first ? `: ${first}` : ''}`);
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
    return { binary: emitBinary(module), reports };
  } finally {
    module.dispose();
  }
}
