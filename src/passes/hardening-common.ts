// The engine of the two software-hardening passes, SWIFT (swift.ts) and EDDI (eddi.ts): duplicate every
// value computation of a function into shadow locals, and compare values with their shadows where an
// error would escape — before a store, a global.set, a branch, a call, a return. They differ only in
// memory: SWIFT assumes memory is protected by ECC and loads a loaded value's shadow again through the
// shadow address (or, with `swiftLoads: 'copy'`, copies it as the paper does: swift.ts says why not by
// default); EDDI keeps a shadow copy of memory that the shadow computation loads from and that every
// store also writes (layout: eddi.ts).
//
// How a function is hardened:
//   1. Binaryen's `flatten` pass rewrites it into flat IR (ir/flat.h): every operand is a local.get or a
//      constant, control flow carries no values, there is no local.tee. Each instruction then stands
//      alone as `local.set $x (op (local.get $a) (local.get $b))` or as a statement (store, global.set,
//      call, br_if...), so that duplicating it is local: `local.set $x' (op (local.get $a') (local.get $b'))`
//      right after it, and a check of its operands is a comparison of locals right before it, with no
//      question of evaluation order, side effects or values flowing through blocks. A shadow computation
//      runs after its main one, so a main one that traps has the trap it had; a shadow one that traps
//      (a division by a faulty zero) is a detection.
//   2. Every local gets a shadow local. Parameters (and declared locals, whose zero is known) get theirs
//      on entry; a value that cannot be recomputed — a call's result, a load under copying SWIFT, a
//      global the pass does not duplicate, memory.size — is copied into its shadow after the instruction
//      produced it.
//      That copy is the one window duplication cannot close (a fault in the copied value reaches both);
//      the checks at function boundaries (arguments, returns) keep it from opening at every call. An
//      import the options name pure (a latched bus input) is called again for the shadow instead.
//   3. Checks: `if (x != x') { call $lockstep.check_failed(site); unreachable }`, one site per checked
//      instruction and family, comparing bit patterns (so −0 and +0 differ), except that two NaNs are
//      equal: V8 folds float operations on constants at compile time and may quiet a signalling NaN
//      where the machine instruction would not (f64.floor does), or give 0/0 another sign than the
//      machine's default NaN, so a main copy V8 could fold and a shadow it could not (the opaque zero
//      forbids it) may hold different NaNs without any fault. Where a NaN's bits can leave the float
//      domain the shadow takes the main copy's NaN: a reinterpretation as an integer, the sign operand
//      of copysign, a float put into a vector (splat, replace_lane), and an EDDI shadow store of a float
//      (the main copy when the store was just checked). The opaque seeding of floats relies on this too
//      (see opaqueScalar: it quiets a signalling NaN). The price: a fault that leaves a NaN a NaN (its
//      sign, its payload) is not seen. The checks of a value's operands are one branch (their
//      differences OR-ed); the NaN test runs only once the bits differ.
//   4. Binaryen's structural clean-up passes (no arithmetic is touched, so no NaN or trap can change) put
//      the flat code back into expression trees.
//
// Why the shadows survive optimizers: a shadow computed from the same operands as its value is the same
// expression, which Binaryen's optimizer and V8's TurboFan merge (CSE, GVN), after which `x != x'` folds
// to false and the check disappears. Every copy into a shadow therefore goes through a mutable, exported
// global that is always zero (`__lockstep_opaque_zero`, and its i64, f32 and f64 siblings, read into
// locals once per call): x' = x xor zero for integers, x − 0.0 for floats. No optimizer can prove an
// exported mutable global constant, so x and x' are different values to it, and so is everything
// computed from them. Constants assigned to locals are seeded the same way; an operation whose operands
// are all constants has its shadow result seeded; shadow globals are exported for the same reason (a
// global the optimizer sees never written would be folded to its initial value in both copies). The
// tests run Binaryen's -O3 and -O4 on the hardened reference software and find every check site still
// there (without the opaque zero, -O4 merges shadows and deletes a third of them), and check under
// TurboFan that a shadow made to differ is still caught after -O3.
//
// Functions left alone (options) are neither duplicated nor checked, but they keep the shadows coherent
// for the code that is: they write every global.set to the shadow global too, and under EDDI every store
// and bulk-memory write to shadow memory as well, so that hardened code never sees a stale shadow.
import { CHECK_IMPORT, CHECK_MODULE } from '../core/traps.js';
import binaryen, { addLocal, type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { childrenOf, definedFunctions, expressionKindName, walkPostOrder } from './expressions.js';
import { NO_PARENT, replaceChild, setSlot, walkWithParents } from './rewrite.js';

const B = binaryen;

export const OPAQUE_ZERO_GLOBAL = '__lockstep_opaque_zero';
export const OPAQUE_ZERO_I64_GLOBAL = '__lockstep_opaque_zero_i64';
export const OPAQUE_ZERO_F32_GLOBAL = '__lockstep_opaque_zero_f32';
export const OPAQUE_ZERO_F64_GLOBAL = '__lockstep_opaque_zero_f64';
export const CHECK_FUNCTION = '__lockstep_check_failed';
/** EDDI: the byte offset of shadow memory, for modules that grow their memory. */
export const SHADOW_BASE_GLOBAL = '__lockstep_shadow_base';
export const EDDI_GROW_FUNCTION = '__lockstep_eddi_grow';
/** Shadow global of a mutable global G: exported under this prefix + G. */
export const SHADOW_GLOBAL_EXPORT_PREFIX = '__lockstep_shadow:';
const LOCKSTEP_PREFIX = '__lockstep_';

export const CHECK_FAMILIES = ['stores', 'branches', 'globals', 'calls', 'returns', 'loads'] as const;
export type CheckFamily = (typeof CHECK_FAMILIES)[number];
/**
 * Checked unless asked otherwise: stores (address and value, and the operands of bulk memory writes and
 * memory.grow), branch decisions (if, br_if, br_table, select), global.set values, call arguments and a
 * call_indirect's table index (host imports included), and return values. Load addresses (SWIFT's paper
 * checks them too) are available as `loads`.
 */
export const DEFAULT_FAMILIES: readonly CheckFamily[] = ['stores', 'branches', 'globals', 'calls', 'returns'];

export type HardeningMode = 'swift' | 'eddi';
export const SWIFT_LOADS = ['reload', 'copy'] as const;
export type SwiftLoads = (typeof SWIFT_LOADS)[number];

export interface HardeningOptions {
  readonly mode: HardeningMode;
  readonly families: ReadonlySet<CheckFamily>;
  /** Whether a defined function is hardened, given its internal name and export names. */
  readonly hardens: (name: string, exportNames: readonly string[]) => boolean;
  /** Run the clean-up passes (default); false leaves hardened functions flat, for tests to inspect. */
  readonly cleanup?: boolean;
  /** Seed shadows through the opaque zero (default); false is the control experiment of the tests. */
  readonly opaque?: boolean;
  /**
   * SWIFT: where a loaded value's shadow comes from — loaded again through the shadow address ('reload',
   * the default), or copied from the main one ('copy', as the SWIFT paper does: cheaper, but a fault in
   * the load's result or address reaches both).
   */
  readonly swiftLoads?: SwiftLoads;
  /**
   * Imports (module, name) that are pure — the same arguments give the same result within a cycle, and
   * calling them has no effect, as the flight ABI's latched bus inputs: a call to one is made again for
   * the shadow instead of having its result copied, so that a fault in the result shows.
   */
  readonly pureImports?: (module: string, base: string) => boolean;
}

export interface CheckSite {
  /** What `lockstep.check_failed` receives when this check fails. */
  readonly id: number;
  readonly family: CheckFamily;
  readonly function: string;
  /** The checked instruction (Store, If, Break, Call...). */
  readonly instruction: string;
}

export interface HardeningReport {
  readonly mode: HardeningMode;
  readonly families: CheckFamily[];
  readonly functions: { readonly hardened: string[]; readonly leftAlone: string[] };
  /** Instructions of the original code given a shadow computation (arithmetic, selects, and under EDDI loads, stores and bulk memory writes; global.set of a duplicated global). */
  readonly instructionsDuplicated: number;
  /** Values copied into their shadow through the opaque zero (call results, SWIFT loads, parameters, constants). */
  readonly valuesSeeded: number;
  /** Calls to pure imports made a second time for the shadow (options.pureImports). */
  readonly importCallsRepeated: number;
  readonly shadowGlobals: number;
  readonly checks: { readonly total: number; readonly byFamily: Record<CheckFamily, number> };
  readonly sites: CheckSite[];
  /** Where a loaded value's shadow comes from: loaded again (SWIFT), copied from it (SWIFT, swiftLoads 'copy'), shadow memory (EDDI). */
  readonly loadShadows: 'copied' | 'reloaded' | 'shadow memory';
  /** EDDI: the memory before and after (pages), and where the program's memory starts (bytes, or 'dynamic' when the module grows memory; shadow memory is at 0). */
  readonly memory: { readonly originalPages: number; readonly hardenedPages: number; readonly programOffset: number | 'dynamic' } | null;
}

/** A module the passes refuse, with the reason (the caller names the module). */
export class HardeningError extends Error {}

const PAGE = 65536;
const MAX_PAGES = 65536;

// ---------------------------------------------------------------------------------------------------
// Small builders.

function localTypes(fn: FunctionRef): number[] {
  const types = [...(B.expandType(B.Function.getParams(fn)) as number[])];
  const vars = B.Function.getNumVars(fn) as number;
  for (let i = 0; i < vars; i++) types.push(B.Function.getVar(fn, i) as number);
  return types;
}

function isTuple(type: number): boolean {
  return type !== B.none && type !== B.unreachable && (B.expandType(type) as number[]).length > 1;
}

const isLockstepName = (name: string): boolean => name.startsWith(LOCKSTEP_PREFIX);

/** The index a local.get reads (binaryen.js's LocalGet accessor class is not declared in binaryen.ts). */
const localIndex = (get: ExpressionRef): number => (B.getExpressionInfo(get) as unknown as { index: number }).index;
/** The global a global.get reads. */
const globalName = (get: ExpressionRef): string => (B.getExpressionInfo(get) as unknown as { name: string }).name;

/** binaryen.js takes an i64 constant as one bigint (its typings still say two halves). */
function i64Const(module: Module, value: bigint): ExpressionRef {
  return (module.i64.const as unknown as (v: bigint) => ExpressionRef)(value);
}

// ---------------------------------------------------------------------------------------------------
// The module-wide state of one hardening run.

interface Memory {
  /** Constant byte offset of shadow memory, or null when it lives in SHADOW_BASE_GLOBAL. */
  readonly constantBase: number | null;
}

class Hardener {
  readonly sites: CheckSite[] = [];
  instructionsDuplicated = 0;
  valuesSeeded = 0;
  importCallsRepeated = 0;
  /** Global name → its shadow global's name, for the globals duplicated. */
  readonly shadowGlobals = new Map<string, string>();
  memory: Memory | null = null;

  constructor(
    readonly module: Module,
    readonly options: HardeningOptions,
  ) {}

  get eddi(): boolean {
    return this.options.mode === 'eddi' && this.memory !== null;
  }

  /** The opaque zero global of a type (integers: i32 and i64; floats: f32 and f64 zeros). */
  static zeroGlobal(type: number): string {
    if (type === B.i64) return OPAQUE_ZERO_I64_GLOBAL;
    if (type === B.f32) return OPAQUE_ZERO_F32_GLOBAL;
    if (type === B.f64) return OPAQUE_ZERO_F64_GLOBAL;
    return OPAQUE_ZERO_GLOBAL;
  }

  /**
   * `expr` through the opaque zero (`zero(type)` reads it: the global, or a local a function loaded it
   * into on entry): integers xor it (bit for bit); floats subtract a float zero, which leaves every
   * value, −0 included, bit for bit, and only quiets a signalling NaN — a NaN still, which the checks
   * accept (see the header) — at one float instruction instead of three through the integers.
   */
  opaqueScalar(type: number, expr: ExpressionRef, zero = (t: number) => this.module.global.get(Hardener.zeroGlobal(t), t)): ExpressionRef {
    const m = this.module;
    if (this.options.opaque === false) return expr;
    if (type === B.i32) return m.i32.xor(expr, zero(B.i32));
    if (type === B.i64) return m.i64.xor(expr, zero(B.i64));
    if (type === B.f32) return m.f32.sub(expr, zero(B.f32));
    if (type === B.f64) return m.f64.sub(expr, zero(B.f64));
    if (type === B.v128) return m.v128.xor(expr, m.i32x4.splat(zero(B.i32)));
    throw new HardeningError(`values of type ${B.expandType(type).join(',')} cannot be duplicated`);
  }

  /** EDDI: the shadow copies of memory accesses (at the bottom half: never relocated). */
  readonly shadowAccesses = new Set<ExpressionRef>();

  /** Marks a copied memory access as the shadow's (EDDI). */
  shadowAccess(access: ExpressionRef): ExpressionRef {
    this.shadowAccesses.add(access);
    return access;
  }

  /** The byte offset of the program's memory (EDDI): a constant, or the global when memory grows. */
  base(): ExpressionRef {
    const memory = this.memory!;
    return memory.constantBase !== null ? this.module.i32.const(memory.constantBase) : this.module.global.get(SHADOW_BASE_GLOBAL, B.i32);
  }

  /**
   * `address + base`, saturating at 0xffffffff: an address so large that the sum wraps is out of the
   * program's bounds, and must still trap (`address` is read twice: a local.get or a constant).
   */
  relocatedAddress(address: () => ExpressionRef): ExpressionRef {
    const m = this.module;
    return m.select(m.i32.ge_u(address(), m.i32.sub(m.i32.const(0), this.base())), m.i32.const(-1), m.i32.add(address(), this.base()));
  }

  /**
   * Moves one of the program's memory accesses to the top half: a constant base goes into a load's or
   * store's static offset (free: the engine adds the offset without wrapping, so bounds are exactly the
   * program's), otherwise the address operands are relocated (through a fresh local of `fn` unless they
   * are a local.get or a constant).
   */
  relocate(fn: FunctionRef, access: ExpressionRef): ExpressionRef[] {
    const id = B.getExpressionId(access);
    const base = this.memory!.constantBase;
    const before: ExpressionRef[] = [];
    const relocateOperand = (get: (e: ExpressionRef) => ExpressionRef, set: (e: ExpressionRef, v: ExpressionRef) => void) => {
      const operand = get(access);
      const kind = B.getExpressionId(operand);
      if (kind === B.LocalGetId || kind === B.ConstId) {
        set(access, this.relocatedAddress(() => this.module.copyExpression(operand)));
      } else {
        const temp = addLocal(fn, B.i32);
        before.push(this.module.local.set(temp, operand));
        set(access, this.relocatedAddress(() => this.module.local.get(temp, B.i32)));
      }
    };
    if (id === B.LoadId || id === B.StoreId || id === B.SIMDLoadId || id === B.SIMDLoadStoreLaneId) {
      const accessor = id === B.LoadId ? B.Load : id === B.StoreId ? B.Store : id === B.SIMDLoadId ? B.SIMDLoad : B.SIMDLoadStoreLane;
      const offset = accessor.getOffset(access) as number;
      if (base !== null) {
        // An offset past 4 GiB − base cannot be encoded; such an access traps in the program (its
        // effective address is past the memory) and still does unrelocated when base < 4 GiB / 3.
        if (offset + base <= 0xffffffff) accessor.setOffset(access, offset + base);
      } else {
        relocateOperand(accessor.getPtr, accessor.setPtr);
      }
    } else if (id === B.MemoryFillId) {
      relocateOperand(B.MemoryFill.getDest, B.MemoryFill.setDest);
    } else if (id === B.MemoryInitId) {
      relocateOperand(B.MemoryInit.getDest, B.MemoryInit.setDest);
    } else if (id === B.MemoryCopyId) {
      relocateOperand(B.MemoryCopy.getDest, B.MemoryCopy.setDest);
      relocateOperand(B.MemoryCopy.getSource, B.MemoryCopy.setSource);
    }
    return before;
  }

  addSite(family: CheckFamily, functionName: string, instruction: ExpressionRef): number {
    const id = this.sites.length;
    this.sites.push({ id, family, function: functionName, instruction: expressionKindName(instruction) });
    return id;
  }

  fail(id: number): ExpressionRef {
    const m = this.module;
    return m.block(null, [m.call(CHECK_FUNCTION, [m.i32.const(id)], B.none), m.unreachable()], B.unreachable);
  }
}

// ---------------------------------------------------------------------------------------------------
// A hardened function.

/** A pair of locals to compare: a value and its shadow. */
interface Compared {
  readonly local: number;
  readonly shadow: number;
  readonly type: number;
}

class FunctionHardener {
  readonly shadow: number[] = [];
  readonly types: number[];
  private readonly scratch = new Map<number, number>();

  constructor(
    readonly h: Hardener,
    readonly fn: FunctionRef,
    readonly name: string,
  ) {
    this.types = localTypes(fn);
    for (const type of this.types) this.shadow.push(addLocal(fn, type));
  }

  private get m(): Module {
    return this.h.module;
  }

  private temp(type: number): number {
    let local = this.scratch.get(type);
    if (local === undefined) {
      local = addLocal(this.fn, type);
      this.scratch.set(type, local);
    }
    return local;
  }

  /** Locals holding the opaque zeros, by type, loaded from their globals on entry (seedEntry). */
  private readonly zeros = new Map<number, number>();

  /** The opaque zero of `type`, from its local (one global read per call instead of one per use). */
  private readonly zero = (type: number): ExpressionRef => {
    let local = this.zeros.get(type);
    if (local === undefined) {
      local = addLocal(this.fn, type);
      this.zeros.set(type, local);
    }
    return this.m.local.get(local, type);
  };

  /** `expr` made opaque, for any value type (tuples element by element, through a scratch local). */
  opaque(type: number, expr: ExpressionRef): ExpressionRef {
    if (!isTuple(type)) return this.h.opaqueScalar(type, expr, this.zero);
    const m = this.m;
    const elements = B.expandType(type) as number[];
    const temp = this.temp(type);
    return m.block(
      null,
      [m.local.set(temp, expr), m.tuple.make(elements.map((element, i) => this.h.opaqueScalar(element, m.tuple.extract(m.local.get(temp, type), i), this.zero)))],
      type,
    );
  }

  /** Shadow of a flat operand: a local.get reads the shadow local, a constant is itself. */
  private shadowOperand(operand: ExpressionRef): ExpressionRef {
    const id = B.getExpressionId(operand);
    if (id === B.LocalGetId) {
      const index = localIndex(operand);
      return this.m.local.get(this.shadow[index], this.types[index]);
    }
    if (id === B.ConstId) return this.m.copyExpression(operand);
    throw new Error(`function ${this.name}: ${expressionKindName(operand)} where flat IR has a local.get or a constant`);
  }

  /** A copy of a flat instruction reading shadow operands; `hasLocal`: whether any operand was a local. */
  private mirrored(expr: ExpressionRef): { copy: ExpressionRef; hasLocal: boolean } {
    const copy = this.m.copyExpression(expr);
    let hasLocal = false;
    childrenOf(copy, this.name).forEach((child, i) => {
      if (B.getExpressionId(child) === B.LocalGetId) hasLocal = true;
      replaceChild(copy, i, this.shadowOperand(child));
    });
    return { copy, hasLocal };
  }

  /** The locals among flat operands (constants need no check; an `unreachable` operand never returns). */
  private compared(operands: readonly ExpressionRef[]): Compared[] | null {
    const result: Compared[] = [];
    for (const operand of operands) {
      const id = B.getExpressionId(operand);
      if (id === B.UnreachableId) return null;
      if (id === B.ConstId) continue;
      if (id !== B.LocalGetId) throw new Error(`function ${this.name}: ${expressionKindName(operand)} where flat IR has a local.get or a constant`);
      const local = localIndex(operand);
      if (!result.some((entry) => entry.local === local)) result.push({ local, shadow: this.shadow[local], type: this.types[local] });
    }
    return result;
  }

  /** Bits of a scalar/v128 value and its shadow differ. */
  private bitsDiffer(type: number, a: () => ExpressionRef, b: () => ExpressionRef): ExpressionRef {
    const m = this.m;
    if (type === B.i32) return m.i32.ne(a(), b());
    if (type === B.i64) return m.i64.ne(a(), b());
    if (type === B.f32) return m.i32.ne(m.i32.reinterpret(a()), m.i32.reinterpret(b()));
    if (type === B.f64) return m.i64.ne(m.i64.reinterpret(a()), m.i64.reinterpret(b()));
    if (type === B.v128) return m.v128.any_true(m.v128.xor(a(), b()));
    throw new HardeningError(`function ${this.name}: values of this type cannot be checked`);
  }

  /** The scalar components of a compared pair (a tuple's elements). */
  private components(pair: Compared): Array<{ type: number; a: () => ExpressionRef; b: () => ExpressionRef }> {
    const m = this.m;
    if (!isTuple(pair.type)) return [{ type: pair.type, a: () => m.local.get(pair.local, pair.type), b: () => m.local.get(pair.shadow, pair.type) }];
    return (B.expandType(pair.type) as number[]).map((type, i) => ({
      type,
      a: () => m.tuple.extract(m.local.get(pair.local, pair.type), i),
      b: () => m.tuple.extract(m.local.get(pair.shadow, pair.type), i),
    }));
  }

  /**
   * The check of `operands` (flat) before `instruction`, or null when there is nothing to compare or the
   * family is not checked: one site, failing when any operand differs from its shadow.
   */
  check(family: CheckFamily, instruction: ExpressionRef, operands: readonly ExpressionRef[]): ExpressionRef | null {
    if (!this.h.options.families.has(family)) return null;
    const pairs = this.compared(operands);
    if (!pairs || pairs.length === 0) return null;
    const m = this.m;
    const parts = pairs.flatMap((pair) => this.components(pair));
    const any = (conditions: ExpressionRef[]) => conditions.reduce((acc, c) => m.i32.or(acc, c));
    const fast = any(parts.map((part) => this.bitsDiffer(part.type, part.a, part.b)));
    const id = this.h.addSite(family, this.name, instruction);
    if (!parts.some((part) => part.type === B.f32 || part.type === B.f64)) return m.if(fast, this.h.fail(id));
    // The bits differ: a fault, unless both are NaNs (see the header). Only this rare path pays for it.
    const exact = any(
      parts.map((part) => {
        const differ = this.bitsDiffer(part.type, part.a, part.b);
        if (part.type !== B.f32 && part.type !== B.f64) return differ;
        const ops = part.type === B.f32 ? m.f32 : m.f64;
        return m.i32.and(differ, m.i32.or(ops.eq(part.a(), part.a()), ops.eq(part.b(), part.b())));
      }),
    );
    return m.if(fast, m.if(exact, this.h.fail(id)));
  }

  /** The operands a value instruction's check covers, by family. */
  private valueChecks(value: ExpressionRef): ExpressionRef[] {
    const id = B.getExpressionId(value);
    const checks: Array<ExpressionRef | null> = [];
    if (id === B.CallId) {
      checks.push(this.check('calls', value, B.Call.getOperands(value)));
    } else if (id === B.CallIndirectId) {
      checks.push(this.check('calls', value, [...B.CallIndirect.getOperands(value), B.CallIndirect.getTarget(value)]));
    } else if (id === B.SelectId) {
      checks.push(this.check('branches', value, [B.Select.getCondition(value)]));
    } else if (id === B.LoadId || id === B.SIMDLoadId) {
      checks.push(this.check('loads', value, [childrenOf(value, this.name)[0]]));
    } else if (id === B.SIMDLoadStoreLaneId) {
      checks.push(this.check('loads', value, [B.SIMDLoadStoreLane.getPtr(value)]));
    } else if (id === B.MemoryGrowId) {
      checks.push(this.check('stores', value, [B.MemoryGrow.getDelta(value)]));
    }
    return checks.filter((check): check is ExpressionRef => check !== null);
  }

  /** A float's shadow with a NaN replaced by the main copy's bits (see the header). */
  private canonicalNaN(type: number, main: ExpressionRef, shadow: () => ExpressionRef): ExpressionRef {
    const ops = type === B.f32 ? this.m.f32 : this.m.f64;
    // binaryen.js: select(condition, ifTrue, ifFalse).
    return this.m.select(ops.ne(shadow(), shadow()), main, shadow());
  }

  /** Whether `call` calls an import the options name pure. */
  private callsPureImport(call: ExpressionRef): boolean {
    const isPure = this.h.options.pureImports;
    if (!isPure) return false;
    const callee = B.getFunctionInfo(this.m.getFunction(B.Call.getTarget(call)));
    return !!callee.module && isPure(callee.module, callee.base ?? '');
  }

  /** The shadow of `value` (flat), evaluated right after `local.set $target value`; null: none needed. */
  private shadowValue(value: ExpressionRef, target: number): ExpressionRef | null {
    const m = this.m;
    const type = this.types[target];
    const id = B.getExpressionId(value);
    const seeded = () => {
      this.h.valuesSeeded++;
      return this.opaque(type, m.local.get(target, type));
    };
    switch (id) {
      case B.LocalGetId:
        return this.shadowOperand(value);
      case B.ConstId:
        this.h.valuesSeeded++;
        return this.opaque(type, m.copyExpression(value));
      case B.GlobalGetId: {
        const shadowGlobal = this.h.shadowGlobals.get(globalName(value));
        return shadowGlobal ? m.global.get(shadowGlobal, type) : seeded();
      }
      case B.CallId: {
        if (!this.callsPureImport(value)) return seeded();
        // A pure import is asked again with the shadow arguments: the shadow does not share the result.
        const { copy } = this.mirrored(value);
        this.h.instructionsDuplicated++;
        this.h.importCallsRepeated++;
        return copy;
      }
      case B.CallIndirectId:
      case B.MemorySizeId:
      case B.MemoryGrowId:
        return seeded();
      case B.LoadId:
      case B.SIMDLoadId: {
        if (this.h.eddi) {
          const { copy } = this.mirrored(value);
          this.h.instructionsDuplicated++;
          return this.h.shadowAccess(copy);
        }
        if (this.h.options.swiftLoads === 'copy') return seeded();
        // SWIFT reloading: the shadow loads again, from the shadow address (the same memory), so that a
        // fault in the main load's result or address shows. A constant address goes through the opaque
        // zero, or both loads would be one to the optimizers.
        const { copy } = this.mirrored(value);
        const ptr = childrenOf(copy, this.name)[0];
        if (B.getExpressionId(ptr) === B.ConstId) {
          // load offset=o (i32.const c) → load offset=o+c (zero): the same address, not the same load.
          const accessor = id === B.LoadId ? B.Load : B.SIMDLoad;
          const address = (accessor.getOffset(copy) as number) + ((B.getExpressionInfo(ptr) as unknown as { value: number }).value >>> 0);
          if (address <= 0xffffffff) {
            accessor.setOffset(copy, address);
            accessor.setPtr(copy, this.zero(B.i32));
          } else {
            accessor.setPtr(copy, this.opaque(B.i32, m.copyExpression(ptr)));
          }
        }
        this.h.instructionsDuplicated++;
        return copy;
      }
      case B.SIMDLoadStoreLaneId: {
        // A lane load merges memory into a vector: the shadow merges the same memory (SWIFT: the main
        // copy, unchanged since; EDDI: shadow memory) into the shadow vector.
        const copy = m.copyExpression(value);
        B.SIMDLoadStoreLane.setVec(copy, this.shadowOperand(B.SIMDLoadStoreLane.getVec(value)));
        if (this.h.eddi) {
          B.SIMDLoadStoreLane.setPtr(copy, this.shadowOperand(B.SIMDLoadStoreLane.getPtr(value)));
          this.h.shadowAccess(copy);
        } else if (this.h.options.swiftLoads !== 'copy') {
          const ptr = B.SIMDLoadStoreLane.getPtr(value);
          B.SIMDLoadStoreLane.setPtr(copy, B.getExpressionId(ptr) === B.ConstId ? this.opaque(B.i32, m.copyExpression(ptr)) : this.shadowOperand(ptr));
        }
        this.h.instructionsDuplicated++;
        return copy;
      }
      case B.UnaryId:
      case B.BinaryId:
      case B.SelectId:
      case B.SIMDExtractId:
      case B.SIMDReplaceId:
      case B.SIMDShuffleId:
      case B.SIMDTernaryId:
      case B.SIMDShiftId:
      case B.TupleMakeId:
      case B.TupleExtractId: {
        const { copy, hasLocal } = this.mirrored(value);
        this.h.instructionsDuplicated++;
        // All-constant operands: the optimizer would fold both copies to one constant.
        if (!hasLocal) return this.opaque(type, copy);
        if (id === B.BinaryId) {
          const op = B.Binary.getOp(value);
          const sign = B.Binary.getRight(value);
          if ((op === B.CopySignFloat32 || op === B.CopySignFloat64) && B.getExpressionId(sign) === B.LocalGetId) {
            // The sign of a NaN is no more certain than its payload: a shadow NaN lends the main one's.
            const signType = op === B.CopySignFloat32 ? B.f32 : B.f64;
            B.Binary.setRight(copy, this.canonicalNaN(signType, m.copyExpression(sign), () => this.shadowOperand(sign)));
          }
        }
        if (id === B.SIMDReplaceId) {
          const op = B.SIMDReplace.getOp(value);
          const lane = B.SIMDReplace.getValue(value);
          if ((op === B.ReplaceLaneVecF32x4 || op === B.ReplaceLaneVecF64x2) && B.getExpressionId(lane) === B.LocalGetId) {
            const laneType = op === B.ReplaceLaneVecF32x4 ? B.f32 : B.f64;
            B.SIMDReplace.setValue(copy, this.canonicalNaN(laneType, m.copyExpression(lane), () => this.shadowOperand(lane)));
          }
        }
        if (id === B.UnaryId) {
          const op = B.Unary.getOp(value);
          if (op === B.SplatVecF32x4 || op === B.SplatVecF64x2) {
            const operand = B.Unary.getValue(value);
            if (B.getExpressionId(operand) === B.LocalGetId) {
              B.Unary.setValue(copy, this.canonicalNaN(op === B.SplatVecF32x4 ? B.f32 : B.f64, m.copyExpression(operand), () => this.shadowOperand(operand)));
            }
          }
          if (op === B.ReinterpretFloat32 || op === B.ReinterpretFloat64) {
            // A shadow NaN reinterpreted takes the main copy's bits (see the header).
            const operand = B.Unary.getValue(copy);
            const ops = op === B.ReinterpretFloat32 ? m.f32 : m.f64;
            return m.select(ops.ne(m.copyExpression(operand), m.copyExpression(operand)), m.local.get(target, type), copy);
          }
        }
        return copy;
      }
      default:
        throw new HardeningError(`function ${this.name}: the ${expressionKindName(value)} instruction is not supported by the hardening passes`);
    }
  }

  /** The shadow of a value stored by a checked (or unchecked) store: see the header for floats. */
  private storedShadow(value: ExpressionRef, checked: boolean): ExpressionRef {
    const type = B.getExpressionType(value);
    if (B.getExpressionId(value) !== B.LocalGetId) return this.m.copyExpression(value);
    if (type === B.f32 || type === B.f64) {
      if (checked) return this.m.copyExpression(value);
      return this.canonicalNaN(type, this.m.copyExpression(value), () => this.shadowOperand(value));
    }
    return this.shadowOperand(value);
  }

  /** Replaces `expr` (at parent/index) by a block: `before`, expr, `after`. */
  private surround(expr: ExpressionRef, parent: ExpressionRef, index: number, before: ExpressionRef[], after: ExpressionRef[]): void {
    if (before.length === 0 && after.length === 0) return;
    setSlot({ fn: this.fn, parent, index }, this.m.block(null, [...before, expr, ...after], B.auto));
  }

  /** Hardens the (flattened) body. */
  instrument(): void {
    const m = this.m;
    const body = B.Function.getBody(this.fn);
    walkWithParents(body, this.name, (expr, parent, index) => {
      const id = B.getExpressionId(expr);
      const type = B.getExpressionType(expr);
      const parentId = parent === NO_PARENT ? -1 : B.getExpressionId(parent);
      switch (id) {
        case B.LocalSetId: {
          const value = B.LocalSet.getValue(expr);
          // (Binaryen calls an unreachable local.set a tee: its type is not none.)
          if (type === B.unreachable || B.getExpressionType(value) === B.unreachable) return;
          if (B.LocalSet.isTee(expr)) throw new Error(`function ${this.name}: local.tee after flattening`);
          const target = B.LocalSet.getIndex(expr) as number;
          const shadow = this.shadowValue(value, target);
          this.surround(expr, parent, index, this.valueChecks(value), shadow === null ? [] : [m.local.set(this.shadow[target], shadow)]);
          return;
        }
        case B.DropId: {
          const value = B.Drop.getValue(expr);
          if (type === B.unreachable) return;
          this.surround(expr, parent, index, this.valueChecks(value), []);
          return;
        }
        case B.CallId:
        case B.CallIndirectId:
          if (parentId === B.LocalSetId || parentId === B.DropId || type === B.unreachable) return;
          this.surround(expr, parent, index, this.valueChecks(expr), []);
          return;
        case B.StoreId: {
          if (type === B.unreachable) return;
          const ptr = B.Store.getPtr(expr);
          const value = B.Store.getValue(expr);
          const check = this.check('stores', expr, [ptr, value]);
          const after: ExpressionRef[] = [];
          if (this.h.eddi) {
            const copy = m.copyExpression(expr);
            B.Store.setPtr(copy, this.shadowOperand(ptr));
            B.Store.setValue(copy, this.storedShadow(value, check !== null));
            after.push(this.h.shadowAccess(copy));
            this.h.instructionsDuplicated++;
          }
          this.surround(expr, parent, index, check ? [check] : [], after);
          return;
        }
        case B.SIMDLoadStoreLaneId: {
          if (!B.SIMDLoadStoreLane.isStore(expr) || type === B.unreachable) return;
          const ptr = B.SIMDLoadStoreLane.getPtr(expr);
          const vec = B.SIMDLoadStoreLane.getVec(expr);
          const check = this.check('stores', expr, [ptr, vec]);
          const after: ExpressionRef[] = [];
          if (this.h.eddi) {
            const copy = m.copyExpression(expr);
            B.SIMDLoadStoreLane.setPtr(copy, this.shadowOperand(ptr));
            B.SIMDLoadStoreLane.setVec(copy, check !== null ? m.copyExpression(vec) : this.shadowOperand(vec));
            after.push(this.h.shadowAccess(copy));
            this.h.instructionsDuplicated++;
          }
          this.surround(expr, parent, index, check ? [check] : [], after);
          return;
        }
        case B.MemoryFillId:
        case B.MemoryCopyId:
        case B.MemoryInitId: {
          if (type === B.unreachable) return;
          const operands = childrenOf(expr, this.name);
          const check = this.check('stores', expr, operands);
          const after: ExpressionRef[] = [];
          if (this.h.eddi) {
            const copy = m.copyExpression(expr);
            operands.forEach((operand, i) => replaceChild(copy, i, this.shadowOperand(operand)));
            after.push(this.h.shadowAccess(copy));
            this.h.instructionsDuplicated++;
          }
          this.surround(expr, parent, index, check ? [check] : [], after);
          return;
        }
        case B.GlobalSetId: {
          if (type === B.unreachable) return;
          const value = B.GlobalSet.getValue(expr);
          const check = this.check('globals', expr, [value]);
          const shadowGlobal = this.h.shadowGlobals.get(B.GlobalSet.getName(expr));
          const after: ExpressionRef[] = [];
          if (shadowGlobal) {
            after.push(m.global.set(shadowGlobal, this.shadowOperand(value)));
            this.h.instructionsDuplicated++;
          }
          this.surround(expr, parent, index, check ? [check] : [], after);
          return;
        }
        case B.IfId: {
          const check = this.check('branches', expr, [B.If.getCondition(expr)]);
          if (check) this.surround(expr, parent, index, [check], []);
          return;
        }
        case B.BreakId: {
          const condition = B.Break.getCondition(expr);
          if (!condition) return;
          const check = this.check('branches', expr, [condition]);
          if (check) this.surround(expr, parent, index, [check], []);
          return;
        }
        case B.SwitchId: {
          const check = this.check('branches', expr, [B.Switch.getCondition(expr)]);
          if (check) this.surround(expr, parent, index, [check], []);
          return;
        }
        case B.ReturnId: {
          const value = B.Return.getValue(expr);
          if (!value) return;
          const check = this.check('returns', expr, [value]);
          if (check) this.surround(expr, parent, index, [check], []);
          return;
        }
        default:
          return;
      }
    });
  }

  /** Seeds the shadows of the parameters and of the declared locals on entry. */
  seedEntry(declaredLocals: number): void {
    const m = this.m;
    const seeds: ExpressionRef[] = [];
    for (let i = 0; i < declaredLocals; i++) {
      const type = this.types[i];
      seeds.push(m.local.set(this.shadow[i], this.opaque(type, m.local.get(i, type))));
      this.h.valuesSeeded++;
    }
    // The zeros are read first (seeding the parameters may add the last of them).
    const zeros = [...this.zeros].map(([type, local]) => m.local.set(local, m.global.get(Hardener.zeroGlobal(type), type)));
    seeds.unshift(...zeros);
    if (seeds.length === 0) return;
    B.Function.setBody(this.fn, m.block(null, [...seeds, B.Function.getBody(this.fn)], B.auto));
  }
}

// ---------------------------------------------------------------------------------------------------
// Functions left alone: no duplication, no checks, but every write also reaches the shadows.

function keepCoherent(h: Hardener, fn: FunctionRef, name: string): void {
  const m = h.module;
  walkWithParents(B.Function.getBody(fn), name, (expr, parent, index) => {
    const id = B.getExpressionId(expr);
    if (B.getExpressionType(expr) === B.unreachable) return;
    const mirrorsMemory =
      h.eddi && (id === B.StoreId || id === B.MemoryFillId || id === B.MemoryCopyId || id === B.MemoryInitId || (id === B.SIMDLoadStoreLaneId && B.SIMDLoadStoreLane.isStore(expr)));
    const shadowGlobal = id === B.GlobalSetId ? h.shadowGlobals.get(B.GlobalSet.getName(expr)) : undefined;
    if (!mirrorsMemory && !shadowGlobal) return;
    // Operands go through fresh locals (evaluated once, in order), then the write is done twice.
    const operands = childrenOf(expr, name);
    const temps = operands.map((operand) => addLocal(fn, B.getExpressionType(operand)));
    const sets = operands.map((operand, i) => m.local.set(temps[i], operand));
    operands.forEach((operand, i) => replaceChild(expr, i, m.local.get(temps[i], B.getExpressionType(operand))));
    const twin = shadowGlobal
      ? m.global.set(shadowGlobal, m.local.get(temps[0], B.getExpressionType(operands[0])))
      : h.shadowAccess(m.copyExpression(expr));
    setSlot({ fn, parent, index }, m.block(null, [...sets, expr, twin], B.none));
  });
}

// ---------------------------------------------------------------------------------------------------
// EDDI's memory: [shadow memory: P pages][program's memory: P pages], P the size the program sees. The
// program's half is on top so that the engine's bounds check is the program's: an access past its end
// is past the end of memory and traps, as it did before hardening.

/** The internal name of the module's memory (the JS API has no getter; see export-state.ts). */
function memoryName(module: Module): string {
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = B.getExportInfo(module.getExportByIndex(i));
    if (info.kind === B.ExternalMemory) return info.value;
  }
  return /\(memory \$(\S+)/.exec(module.emitText())?.[1] ?? '0';
}

interface DataSegment {
  name: string;
  offset: number | null;
  data: Uint8Array;
  passive: boolean;
}

type SegmentApi = {
  getNumDataSegments(): number;
  getDataSegmentByIndex(index: number): number;
  getDataSegmentInfo(segment: number): { name: string; offset: number | null; data: ArrayBuffer; passive: boolean };
};

/**
 * Doubles the memory, places every active data segment in both halves, and makes the program see only its
 * half: memory.size is halved, memory.grow goes through a function that grows both halves and moves the
 * program's half up (only when the module grows memory at all: otherwise the base is a constant folded
 * into every access's static offset, at no cost). The program's accesses are relocated afterwards
 * (relocateProgramAccesses), once the shadow accesses exist and are known.
 */
function duplicateMemory(h: Hardener, functions: readonly FunctionRef[]): Hardener['memory'] & object {
  const module = h.module;
  const info = module.getMemoryInfo();
  if (info.module) throw new HardeningError(`EDDI needs the module to define its memory; it imports it ("${info.module}"."${info.base}")`);
  if (info.shared) throw new HardeningError('EDDI does not support shared memory');
  if (info.is64) throw new HardeningError('EDDI does not support 64-bit memory');
  const pages = info.initial;
  if (2 * pages > MAX_PAGES) throw new HardeningError(`EDDI doubles memory: ${pages} pages initially is more than half the largest memory (${MAX_PAGES} pages)`);
  const base = pages * PAGE;

  const api = module as unknown as SegmentApi;
  const count = api.getNumDataSegments();
  let hasImportedGlobal = false;
  for (let i = 0; i < module.getNumGlobals(); i++) if (B.getGlobalInfo(module.getGlobalByIndex(i)).module) hasImportedGlobal = true;
  if (hasImportedGlobal && count > 0) {
    // Binaryen aborts reading a segment offset that is not a constant: look at the text first.
    for (const match of module.emitText().matchAll(/^\s*\(data\s+(?:\$\S+\s+)?\((\S+)/gm)) {
      if (match[1] !== 'i32.const' && match[1] !== 'memory') throw new HardeningError('EDDI needs every active data segment at a constant offset (one is placed at an imported global)');
    }
  }
  const segments: DataSegment[] = [];
  for (let i = 0; i < count; i++) {
    const segment = api.getDataSegmentInfo(api.getDataSegmentByIndex(i));
    const data = new Uint8Array(segment.data);
    if (!segment.passive && (segment.offset ?? 0) + data.length > base) {
      throw new HardeningError(`data segment ${segment.name} lies outside the initial memory (the module cannot be instantiated)`);
    }
    segments.push({ name: segment.name, offset: segment.passive ? null : segment.offset, data, passive: segment.passive });
  }
  const names = new Set(segments.map((segment) => segment.name));
  const shadowName = (name: string) => {
    let candidate = `shadow:${name}`;
    while (names.has(candidate)) candidate += "'";
    names.add(candidate);
    return candidate;
  };
  const layout = [
    ...segments.map((segment) => (segment.passive ? segment : { ...segment, offset: segment.offset! + base })),
    ...segments.filter((segment) => !segment.passive).map((segment) => ({ ...segment, name: shadowName(segment.name) })),
  ];
  const max = info.max === undefined ? -1 : Math.min(MAX_PAGES, 2 * info.max);
  const name = memoryName(module);
  module.setMemory(
    2 * pages,
    max,
    null,
    layout.map((segment) => ({
      name: segment.name,
      data: segment.data,
      passive: segment.passive,
      offset: segment.passive ? (0 as ExpressionRef) : module.i32.const(segment.offset!),
    })) as never,
    false,
    false,
    name,
  );

  let grows = false;
  for (const fn of functions) {
    walkPostOrder(B.Function.getBody(fn), B.getFunctionInfo(fn).name, (expr) => {
      if (B.getExpressionId(expr) === B.MemoryGrowId) grows = true;
    });
  }
  // The program sees its half.
  for (const fn of functions) {
    const name = B.getFunctionInfo(fn).name;
    walkWithParents(B.Function.getBody(fn), name, (expr, parent, index) => {
      const id = B.getExpressionId(expr);
      if (id === B.MemorySizeId) setSlot({ fn, parent, index }, module.i32.shr_u(expr, module.i32.const(1)));
      else if (id === B.MemoryGrowId) setSlot({ fn, parent, index }, module.call(EDDI_GROW_FUNCTION, [B.MemoryGrow.getDelta(expr)], B.i32));
    });
  }
  if (!grows) return { constantBase: base };
  // The base lives in a global, which the host's state export makes part of the core's state.

  module.addGlobal(SHADOW_BASE_GLOBAL, B.i32, true, module.i32.const(base));
  const m = module;
  const d = () => m.local.get(0, B.i32);
  const old = () => m.local.get(1, B.i32);
  const bytes = (pagesExpr: ExpressionRef) => m.i32.shl(pagesExpr, m.i32.const(16));
  m.addFunction(
    EDDI_GROW_FUNCTION,
    B.i32,
    B.i32,
    [B.i32],
    m.block(
      null,
      [
        // Both halves grow by d pages; 2d must stay within the largest memory.
        m.if(m.i32.gt_u(d(), m.i32.const(MAX_PAGES / 2)), m.return(m.i32.const(-1))),
        m.local.set(1, m.i32.shr_u(m.memory.size(), m.i32.const(1))),
        m.if(m.i32.eq(m.memory.grow(m.i32.shl(d(), m.i32.const(1))), m.i32.const(-1)), m.return(m.i32.const(-1))),
        // The program's half moves up by d pages; shadow memory's new pages are zero, as the program's
        // new pages (fresh from memory.grow) are.
        m.memory.copy(bytes(m.i32.add(old(), d())), bytes(old()), bytes(old())),
        m.memory.fill(bytes(old()), m.i32.const(0), bytes(d())),
        m.global.set(SHADOW_BASE_GLOBAL, bytes(m.i32.add(old(), d()))),
        old(),
      ],
      B.i32,
    ),
  );
  return { constantBase: null };
}

/** Relocates every memory access of the program (not the shadows', not the grow function's) to the top half. */
function relocateProgramAccesses(h: Hardener, fn: FunctionRef): void {
  const name = B.getFunctionInfo(fn).name;
  const accesses: Array<{ expr: ExpressionRef; parent: ExpressionRef; index: number }> = [];
  walkWithParents(B.Function.getBody(fn), name, (expr, parent, index) => {
    const id = B.getExpressionId(expr);
    if (
      (id === B.LoadId || id === B.StoreId || id === B.SIMDLoadId || id === B.SIMDLoadStoreLaneId || id === B.MemoryFillId || id === B.MemoryCopyId || id === B.MemoryInitId) &&
      !h.shadowAccesses.has(expr)
    ) {
      accesses.push({ expr, parent, index });
    }
  });
  for (const { expr, parent, index } of accesses) {
    const before = h.relocate(fn, expr);
    if (before.length > 0) setSlot({ fn, parent, index }, h.module.block(null, [...before, expr], B.getExpressionType(expr)));
  }
}

// ---------------------------------------------------------------------------------------------------
// The whole run.

/**
 * Binaryen passes that only move code and values between locals and expression trees (nothing in them
 * evaluates or rewrites arithmetic), run on each hardened function after instrumentation.
 */
export const CLEANUP_PASSES = ['simplify-locals', 'vacuum', 'merge-blocks', 'coalesce-locals', 'reorder-locals', 'remove-unused-names', 'merge-blocks', 'vacuum'];

function exportNamesByFunction(module: Module): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = B.getExportInfo(module.getExportByIndex(i));
    if (info.kind !== B.ExternalFunction) continue;
    names.set(info.value, [...(names.get(info.value) ?? []), info.name]);
  }
  return names;
}

/** Hardens `module` in place. Throws HardeningError (or UnsupportedExpressionError) for a module it refuses. */
export function hardenInPlace(module: Module, options: HardeningOptions): HardeningReport {
  if (module.getGlobal(OPAQUE_ZERO_GLOBAL) || module.getFunction(CHECK_FUNCTION)) {
    throw new HardeningError(`the module is hardened already (it has ${OPAQUE_ZERO_GLOBAL})`);
  }
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const info = B.getFunctionInfo(module.getFunctionByIndex(i));
    if (info.module === CHECK_MODULE && info.base === CHECK_IMPORT) throw new HardeningError(`the module is hardened already (it imports ${CHECK_MODULE}.${CHECK_IMPORT})`);
  }
  const h = new Hardener(module, options);
  const functions = definedFunctions(module);
  // Every expression kind is known before anything changes (an unknown one throws, naming it).
  for (const fn of functions) walkPostOrder(B.Function.getBody(fn), B.getFunctionInfo(fn).name, () => {});

  const exportNames = exportNamesByFunction(module);
  const hardened: FunctionRef[] = [];
  const leftAlone: FunctionRef[] = [];
  for (const fn of functions) {
    const name = B.getFunctionInfo(fn).name;
    if (!isLockstepName(name) && options.hardens(name, exportNames.get(name) ?? [])) hardened.push(fn);
    else leftAlone.push(fn);
  }

  for (const [name, init] of [
    [OPAQUE_ZERO_GLOBAL, module.i32.const(0)],
    [OPAQUE_ZERO_I64_GLOBAL, i64Const(module, 0n)],
    [OPAQUE_ZERO_F32_GLOBAL, module.f32.const(0)],
    [OPAQUE_ZERO_F64_GLOBAL, module.f64.const(0)],
  ] as const) {
    module.addGlobal(name, B.getExpressionType(init), true, init);
    module.addGlobalExport(name, name);
  }
  module.addFunctionImport(CHECK_FUNCTION, CHECK_MODULE, CHECK_IMPORT, B.i32, B.none);
  const globalCount = module.getNumGlobals();
  for (let i = 0; i < globalCount; i++) {
    const info = B.getGlobalInfo(module.getGlobalByIndex(i));
    if (!info.mutable || info.module || isLockstepName(info.name)) continue;
    let shadowName = `${info.name}$shadow`;
    while (module.getGlobal(shadowName)) shadowName += "'";
    module.addGlobal(shadowName, info.type, true, module.copyExpression(info.init));
    // Exported, so that no optimizer folds a global it sees never written (see the header).
    let exportName = SHADOW_GLOBAL_EXPORT_PREFIX + info.name;
    while (module.getExport(exportName)) exportName += "'";
    module.addGlobalExport(shadowName, exportName);
    h.shadowGlobals.set(info.name, shadowName);
  }

  let originalPages = 0;
  if (options.mode === 'eddi' && module.hasMemory()) {
    originalPages = module.getMemoryInfo().initial;
    h.memory = duplicateMemory(h, functions);
  }

  for (const fn of hardened) {
    const name = B.getFunctionInfo(fn).name;
    const declared = localTypes(fn).length;
    module.runPassesOnFunction(fn, ['flatten']);
    const hardener = new FunctionHardener(h, fn, name);
    hardener.instrument();
    hardener.seedEntry(declared);
  }
  for (const fn of leftAlone) keepCoherent(h, fn, B.getFunctionInfo(fn).name);
  if (h.eddi) for (const fn of functions) relocateProgramAccesses(h, fn);
  if (options.cleanup !== false) for (const fn of hardened) module.runPassesOnFunction(fn, CLEANUP_PASSES);

  const byFamily = Object.fromEntries(CHECK_FAMILIES.map((family) => [family, 0])) as Record<CheckFamily, number>;
  for (const site of h.sites) byFamily[site.family]++;
  return {
    mode: options.mode,
    families: CHECK_FAMILIES.filter((family) => options.families.has(family)),
    functions: { hardened: hardened.map((fn) => B.getFunctionInfo(fn).name), leftAlone: leftAlone.map((fn) => B.getFunctionInfo(fn).name) },
    instructionsDuplicated: h.instructionsDuplicated,
    valuesSeeded: h.valuesSeeded,
    importCallsRepeated: h.importCallsRepeated,
    shadowGlobals: h.shadowGlobals.size,
    checks: { total: h.sites.length, byFamily },
    sites: h.sites,
    loadShadows: h.eddi ? 'shadow memory' : options.swiftLoads === 'copy' ? 'copied' : 'reloaded',
    memory: h.memory
      ? { originalPages, hardenedPages: 2 * originalPages, programOffset: h.memory.constantBase ?? 'dynamic' }
      : null,
  };
}
