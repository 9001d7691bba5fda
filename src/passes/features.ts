// Which WebAssembly features lockstep's passes accept, and what to tell the author of a module that uses
// another. Binaryen's validator, asked about a module with a feature it was not given, answers in terms
// of Binaryen's own flags ("[--enable-threads]"); the person reading it compiled the module with clang or
// asc, and needs to hear which feature the module uses and which compiler option leaves it out.
import binaryen, { validateQuietly, type Module } from './binaryen.js';

const F = binaryen.Features;

/**
 * Features a module may use: what asc enables by default (mutable globals, sign extension, non-trapping
 * float-to-int, bulk memory) plus multi-value and SIMD, which clang and asc emit on request and Node 20
 * runs. `readBinary` starts from MVP, so these must be set before validating.
 */
export const SUPPORTED_FEATURES =
  F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt | F.Multivalue | F.SIMD128 | F.CallIndirectOverlong;

interface UnsupportedFeature {
  readonly feature: number;
  /** What the feature is called in its proposal, as a reader of compiler documentation knows it. */
  readonly name: string;
  /** The clang option that turns it off on its own (`-mcpu=mvp` turns off every feature after MVP). */
  readonly clang?: string;
  /** How an AssemblyScript build leaves it out (asc emits none of the others). */
  readonly asc?: string;
}

/** Features lockstep refuses, dependents before what they depend on (GC before reference types). */
const UNSUPPORTED: readonly UnsupportedFeature[] = [
  { feature: F.SharedEverything, name: 'shared-everything threads' },
  { feature: F.RelaxedAtomics, name: 'relaxed atomics' },
  { feature: F.Atomics, name: 'threads (atomics, shared memory)', clang: '-mno-atomics (and no -pthread)', asc: 'leave out --enable threads and --sharedMemory' },
  { feature: F.Strings, name: 'string references', asc: 'leave out --enable stringref' },
  { feature: F.StackSwitching, name: 'stack switching' },
  { feature: F.GC, name: 'garbage collection (GC types)', asc: 'leave out --enable gc' },
  { feature: F.ExceptionHandling, name: 'exception handling', clang: '-mno-exception-handling (and no -fwasm-exceptions)' },
  { feature: F.TailCall, name: 'tail calls', clang: '-mno-tail-call' },
  { feature: F.ReferenceTypes, name: 'reference types', clang: '-mno-reference-types', asc: 'leave out --enable reference-types' },
  { feature: F.RelaxedSIMD, name: 'relaxed SIMD', clang: '-mno-relaxed-simd', asc: 'leave out --enable relaxed-simd' },
  { feature: F.ExtendedConst, name: 'extended constant expressions', clang: '-mno-extended-const' },
  { feature: F.MultiMemory, name: 'multiple memories', clang: '-mno-multimemory' },
  { feature: F.Memory64, name: '64-bit memory (memory64)', clang: '--target=wasm32 instead of wasm64' },
  { feature: F.FP16, name: 'half-precision floats (fp16)', clang: '-mno-fp16' },
  { feature: F.WideArithmetic, name: 'wide arithmetic', clang: '-mno-wide-arithmetic' },
  { feature: F.CustomPageSizes, name: 'custom page sizes' },
];

/**
 * The unsupported features a module needs: starting from every feature Binaryen knows, each unsupported
 * one is taken away while the module still validates without it, until none can be. What remains is a
 * smallest set the module cannot do without (a feature another one depends on goes once its dependents
 * have). Empty when the module does not validate even with every feature: it is refused for another
 * reason. Leaves the module's features as it found them.
 */
export function unsupportedFeaturesOf(module: Module): UnsupportedFeature[] {
  const before = module.getFeatures();
  try {
    let features = F.All;
    module.setFeatures(features);
    if (!validateQuietly(module).valid) return [];
    for (let changed = true; changed; ) {
      changed = false;
      for (const { feature } of UNSUPPORTED) {
        if (!(features & feature)) continue;
        module.setFeatures(features & ~feature);
        if (validateQuietly(module).valid) {
          features &= ~feature;
          changed = true;
        }
      }
    }
    return UNSUPPORTED.filter(({ feature }) => features & feature);
  } finally {
    module.setFeatures(before);
  }
}

/** What to say about a module that uses `found`: the features by name, and the compiler options without them. */
export function unsupportedFeatureMessage(found: readonly UnsupportedFeature[]): string {
  const names = found.map((entry) => entry.name);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const clang = found.flatMap((entry) => (entry.clang ? [entry.clang] : []));
  const asc = found.flatMap((entry) => (entry.asc ? [entry.asc] : []));
  const options = [`clang: -mcpu=mvp${clang.length > 0 ? `, or ${clang.join(' ')}` : ''}`, ...(asc.length > 0 ? [`AssemblyScript: ${asc.join(', ')}`] : [])];
  return `uses ${list}, which lockstep does not support; compile without ${found.length === 1 ? 'it' : 'them'} (${options.join('; ')})`;
}
