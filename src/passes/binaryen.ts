// The one copy of Binaryen lockstep uses: the build AssemblyScript pins (assemblyscript/binaryen),
// so that the modules asc emits and the passes that transform them always agree on the IR.
import binaryenModule from 'assemblyscript/binaryen';

// binaryen.js exposes per-expression accessor classes (binaryen.Block.getChildren, binaryen.If.setIfTrue,
// ...) that its bundled typings do not declare; these are the ones lockstep's passes use.
type Accessors = Record<string, (...args: any[]) => any>;
type ExpressionClassName =
  | 'Block' | 'If' | 'Loop' | 'Break' | 'Switch' | 'Call' | 'CallIndirect' | 'LocalSet' | 'GlobalSet'
  | 'Load' | 'Store' | 'Unary' | 'Binary' | 'Select' | 'Drop' | 'Return' | 'MemoryGrow' | 'SIMDExtract'
  | 'SIMDReplace' | 'SIMDShuffle' | 'SIMDTernary' | 'SIMDShift' | 'SIMDLoad' | 'SIMDLoadStoreLane'
  | 'MemoryInit' | 'MemoryCopy' | 'MemoryFill' | 'TupleMake' | 'TupleExtract' | 'Function';

const binaryen = binaryenModule as typeof binaryenModule & Record<ExpressionClassName, Accessors>;
export default binaryen;
export type Module = InstanceType<typeof binaryen.Module>;
export type ExpressionRef = number;
export type FunctionRef = number;

/**
 * Features a module may use: what asc enables by default (mutable globals, sign extension, non-trapping
 * float-to-int, bulk memory) plus multi-value and SIMD, which clang and asc emit on request and Node 20
 * runs. `readBinary` starts from MVP, so these must be set before validating.
 */
export const SUPPORTED_FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.SignExt |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.Multivalue |
  binaryen.Features.SIMD128 |
  binaryen.Features.CallIndirectOverlong;

/** Adds a local of `type` to a function and returns its index (not in binaryen.js's typed API). */
export function addLocal(fn: FunctionRef, type: number): number {
  return (binaryenModule as unknown as { _BinaryenFunctionAddVar(fn: number, type: number): number })._BinaryenFunctionAddVar(fn, type);
}
