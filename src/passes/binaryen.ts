// The one copy of Binaryen lockstep uses: the build AssemblyScript pins (assemblyscript/binaryen),
// so that the modules asc emits and the passes that transform them always agree on the IR. Beside it,
// the small helpers every pass needs that binaryen.js does not give in a typed form, and the one way a
// module is written back: with its names.
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

/** Adds a local of `type` to a function and returns its index (not in binaryen.js's typed API). */
export function addLocal(fn: FunctionRef, type: number): number {
  return (binaryenModule as unknown as { _BinaryenFunctionAddVar(fn: number, type: number): number })._BinaryenFunctionAddVar(fn, type);
}

/** An i64 constant: binaryen.js takes it as one bigint (its typings still say two 32-bit halves). */
export function i64Const(module: Module, value: bigint): ExpressionRef {
  return (module.i64.const as unknown as (value: bigint) => ExpressionRef)(value);
}

/** The types of a function's locals, by index: its parameters, then its declared locals. */
export function localTypes(fn: FunctionRef): number[] {
  const types = [...(binaryen.expandType(binaryen.Function.getParams(fn)) as number[])];
  const vars = binaryen.Function.getNumVars(fn) as number;
  for (let i = 0; i < vars; i++) types.push(binaryen.Function.getVar(fn, i) as number);
  return types;
}

/** Whether `type` is a tuple (multi-value): more than one value. */
export function isTuple(type: number): boolean {
  return type !== binaryen.none && type !== binaryen.unreachable && (binaryen.expandType(type) as number[]).length > 1;
}

/** The index a local.get reads (binaryen.js declares no LocalGet accessor class). */
export const localGetIndex = (get: ExpressionRef): number => (binaryen.getExpressionInfo(get) as unknown as { index: number }).index;

/** The global a global.get or global.set names. */
export const globalName = (expr: ExpressionRef): string => (binaryen.getExpressionInfo(expr) as unknown as { name: string }).name;

/** Every export name of each function exported, by the function's internal name. */
export function exportNamesByFunction(module: Module): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = binaryen.getExportInfo(module.getExportByIndex(i));
    if (info.kind !== binaryen.ExternalFunction) continue;
    names.set(info.value, [...(names.get(info.value) ?? []), info.name]);
  }
  return names;
}

/**
 * The internal name of the module's only memory. The JavaScript API has no getter: a memory export
 * tells it, else the text form does (a name section may call it anything), and a module read from a
 * binary without names calls it "0".
 */
export function memoryName(module: Module): string {
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = binaryen.getExportInfo(module.getExportByIndex(i));
    if (info.kind === binaryen.ExternalMemory) return info.value;
  }
  return /\(memory \$(\S+)/.exec(module.emitText())?.[1] ?? '0';
}

/**
 * Validates with Binaryen's output captured: the validator reports by printing (through console methods
 * it bound at load time, so the streams themselves are intercepted), and lockstep turns what it printed
 * into one message of its own.
 */
export function validateQuietly(module: Module): { valid: boolean; printed: string[] } {
  const printed: string[] = [];
  const streams = [process.stdout, process.stderr];
  const saved = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      printed.push(...String(chunk).split('\n'));
      return true;
    }) as typeof stream.write;
  }
  try {
    return { valid: Boolean(module.validate()), printed };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = saved[i];
    });
  }
}

/**
 * The module as a binary, with its name section. Binaryen writes names only when its global debug-info
 * option is on, and otherwise drops them: a module that went through lockstep would call its functions
 * `function #22` in `inspect` and `replay`, and its globals `global$0`. The option is Binaryen's global
 * state, which also steers its optimizer: it is set for the write alone and restored, whatever happens.
 * Only names the module has are written (Binaryen's own numbering of an unnamed module is not).
 */
export function emitBinary(module: Module): Uint8Array {
  const previous = binaryen.getDebugInfo();
  binaryen.setDebugInfo(true);
  try {
    return module.emitBinary();
  } finally {
    binaryen.setDebugInfo(previous);
  }
}
