// The duplication engine of the two software-hardening passes, SWIFT (swift.ts) and EDDI (eddi.ts):
// duplicate every value computation of a function into shadow locals, and compare values with their
// shadows where an error would escape — before a store, a global.set, a branch, a call, a return
// (checks.ts). The two differ only in memory, which each brings as a MemoryTreatment: SWIFT assumes
// memory is protected by ECC and gives a loaded value a shadow loaded again (or copied, as the paper
// does); EDDI keeps a shadow copy of memory that the shadow computation loads from and that every store
// also writes.
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
//      produced it, through the opaque zero (opaque-zero.ts), which keeps the optimizers from merging a
//      shadow with its value. That copy is the one window duplication cannot close (a fault in the
//      copied value reaches both); the checks at function boundaries (arguments, returns) keep it from
//      opening at every call. An import the options name pure (a latched bus input) is called again for
//      the shadow instead.
//   3. Checks before every instruction whose operands leave the sphere of replication, one site per
//      checked instruction and family (an if's or a br_if's decision is checked in the successor it
//      took instead, branch-direction.ts). The checks take two NaNs as equal (checks.ts says why), so where
//      a NaN's bits can leave the float domain the shadow takes the main copy's NaN: a reinterpretation
//      as an integer, the sign operand of copysign, a float put into a vector (splat, replace_lane), and
//      an EDDI shadow store of a float (the main copy when the store was just checked). The opaque
//      seeding of floats relies on this too (it quiets a signalling NaN).
//   4. Binaryen's structural clean-up passes (no arithmetic is touched, so no NaN or trap can change) put
//      the flat code back into expression trees.
//
// Constants assigned to locals are seeded through the opaque zero too, an operation whose operands are
// all constants has its shadow result seeded, and shadow globals are exported (a global the optimizer
// sees never written would be folded to its initial value in both copies).
//
// Functions left alone (options) are neither duplicated nor checked, but they keep the shadows coherent
// for the code that is: they write every global.set to the shadow global too, and under EDDI every store
// and bulk-memory write to shadow memory as well, so that hardened code never sees a stale shadow.
import binaryen, { addLocal, exportNamesByFunction, globalName, isTuple, localGetIndex, localTypes, type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { checkDirection, hasDirection } from './branch-direction.js';
import { addCheckImport, CHECK_FAMILIES, CHECK_FUNCTION, CHECK_IMPORT, CHECK_MODULE, checkCode, importsCheck, type CheckFamily, type CheckSite, type Compared } from './checks.js';
import { checkEdges, edgeTargets, type EdgePlacement } from './cfc.js';
import { countedLoops } from './counted-loops.js';
import { childrenOf, definedFunctions, expressionKindName, walkPostOrder } from './expressions.js';
import { addOpaqueZeros, OPAQUE_ZERO_GLOBAL, opaqueScalar, zeroGlobal } from './opaque-zero.js';
import { isLockstepName, PassRefusal } from './pass.js';
import { NO_PARENT, replaceChild, setSlot, walkWithParents } from './rewrite.js';

const B = binaryen;

/** Binaryen's side-effect bits as binaryen.js has them at run time (its typings' const enum numbers them otherwise). */
const SIDE_EFFECTS = (B as unknown as { SideEffects: Record<'ReadsLocal' | 'ReadsGlobal' | 'ReadsMemory' | 'ImplicitTrap', number> }).SideEffects;

export const HARDENING_MODES = ['swift', 'eddi'] as const;
export type HardeningMode = (typeof HARDENING_MODES)[number];

/** Shadow global of a mutable global G: exported under this prefix + G. */
export const SHADOW_GLOBAL_EXPORT_PREFIX = '__lockstep_shadow:';

export interface DuplicationOptions {
  readonly families: ReadonlySet<CheckFamily>;
  /**
   * The families checked in one hardened function, when they differ between functions (selective
   * hardening, src/hardening/select.ts): a subset of `families`, which stays what the module as a whole has.
   */
  readonly familiesOf?: (name: string) => ReadonlySet<CheckFamily>;
  /** Whether a defined function is hardened, given its internal name and export names. */
  readonly hardens: (name: string, exportNames: readonly string[]) => boolean;
  /** Run the clean-up passes (default); false leaves hardened functions flat, for tests to inspect. */
  readonly cleanup?: boolean;
  /** Seed shadows through the opaque zero (default); false is the control experiment of the tests. */
  readonly opaque?: boolean;
  /**
   * Imports (module, name) that are pure — the same arguments give the same result within a cycle, and
   * calling them has no effect, as the flight ABI's latched bus inputs: a call to one is made again for
   * the shadow instead of having its result copied, so that a fault in the result shows.
   */
  readonly pureImports?: (module: string, base: string) => boolean;
  /** With the `edges` family: where control-flow signatures are checked (cfc.ts; default 'entry'). */
  readonly edgePlacement?: EdgePlacement;
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

/** What a memory treatment may use of the function being hardened: its shadows, in flat IR. */
export interface Shadows {
  readonly module: Module;
  readonly name: string;
  /** Shadow of a flat operand: a local.get reads the shadow local, a constant is itself. */
  shadowOperand(operand: ExpressionRef): ExpressionRef;
  /** A copy of a flat instruction reading shadow operands; `hasLocal`: whether any operand was a local. */
  mirrored(expr: ExpressionRef): { copy: ExpressionRef; hasLocal: boolean };
  /** `expr` made opaque (opaque-zero.ts), for any value type. */
  opaque(type: number, expr: ExpressionRef): ExpressionRef;
  /** The opaque zero of `type`, read once per call. */
  zero(type: number): ExpressionRef;
  /** The shadow of a value a store writes (`checked`: its operands were compared just before). */
  storedShadow(value: ExpressionRef, checked: boolean): ExpressionRef;
}

/** What a hardening does with memory: the one thing SWIFT (swift.ts) and EDDI (eddi.ts) do differently. */
export interface MemoryTreatment {
  readonly mode: HardeningMode;
  readonly loadShadows: HardeningReport['loadShadows'];
  /** Before any function changes, with every defined function (EDDI lays out shadow memory). */
  prepare(module: Module, functions: readonly FunctionRef[]): void;
  /** The shadow of a flat load (Load, SIMDLoad, a lane load), evaluated right after it; null: the loaded value is copied (seeded). */
  loadShadow(load: ExpressionRef, shadows: Shadows): ExpressionRef | null;
  /** What follows a flat memory write (store, lane store, bulk write) of a hardened function: its shadow write, or null. */
  writeShadow(write: ExpressionRef, checked: boolean, shadows: Shadows): ExpressionRef | null;
  /** Whether a memory write of a function left alone must be made again on shadow memory. */
  mirrorsWrite(write: ExpressionRef): boolean;
  /** Marks a write made again (its operands in locals) as the shadow memory's. */
  shadowAccess(copy: ExpressionRef): ExpressionRef;
  /** After every function is instrumented, with the functions `prepare` saw (EDDI relocates the program's accesses). */
  finish(module: Module, functions: readonly FunctionRef[]): void;
  /**
   * With the `edges` family, after `finish`: checks the decisions of the code the treatment added itself
   * (EDDI's memory.grow helper), registering each check through `site`.
   */
  checkOwnEdges?(module: Module, site: (functionName: string, instruction: ExpressionRef) => number): void;
  report(): HardeningReport['memory'];
}

// ---------------------------------------------------------------------------------------------------
// The module-wide state of one hardening run.

class Hardener {
  readonly sites: CheckSite[] = [];
  instructionsDuplicated = 0;
  valuesSeeded = 0;
  importCallsRepeated = 0;
  /** Global name → its shadow global's name, for the globals duplicated. */
  readonly shadowGlobals = new Map<string, string>();

  constructor(
    readonly module: Module,
    readonly options: DuplicationOptions,
    readonly memory: MemoryTreatment,
  ) {}

  addSite(family: CheckFamily, functionName: string, instruction: ExpressionRef): number {
    const id = this.sites.length;
    this.sites.push({ id, family, function: functionName, instruction: expressionKindName(instruction) });
    return id;
  }
}

// ---------------------------------------------------------------------------------------------------
// A hardened function.

class FunctionHardener implements Shadows {
  readonly shadow: number[] = [];
  readonly types: number[];
  /** The check families of this function (DuplicationOptions.familiesOf). */
  readonly families: ReadonlySet<CheckFamily>;
  private readonly scratch = new Map<number, number>();

  constructor(
    readonly h: Hardener,
    readonly fn: FunctionRef,
    readonly name: string,
  ) {
    this.families = h.options.familiesOf?.(name) ?? h.options.families;
    this.types = localTypes(fn);
    for (const type of this.types) this.shadow.push(addLocal(fn, type));
  }

  get module(): Module {
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
  readonly zero = (type: number): ExpressionRef => {
    let local = this.zeros.get(type);
    if (local === undefined) {
      local = addLocal(this.fn, type);
      this.zeros.set(type, local);
    }
    return this.module.local.get(local, type);
  };

  private opaqueScalar(type: number, expr: ExpressionRef): ExpressionRef {
    return this.h.options.opaque === false ? expr : opaqueScalar(this.module, type, expr, this.zero);
  }

  /** `expr` made opaque, for any value type (tuples element by element, through a scratch local). */
  opaque(type: number, expr: ExpressionRef): ExpressionRef {
    if (!isTuple(type)) return this.opaqueScalar(type, expr);
    const m = this.module;
    const elements = B.expandType(type) as number[];
    const temp = this.temp(type);
    return m.block(
      null,
      [m.local.set(temp, expr), m.tuple.make(elements.map((element, i) => this.opaqueScalar(element, m.tuple.extract(m.local.get(temp, type), i))))],
      type,
    );
  }

  shadowOperand(operand: ExpressionRef): ExpressionRef {
    const id = B.getExpressionId(operand);
    if (id === B.LocalGetId) {
      const index = localGetIndex(operand);
      return this.module.local.get(this.shadow[index], this.types[index]);
    }
    if (id === B.ConstId) return this.module.copyExpression(operand);
    throw new Error(`function ${this.name}: ${expressionKindName(operand)} where flat IR has a local.get or a constant`);
  }

  mirrored(expr: ExpressionRef): { copy: ExpressionRef; hasLocal: boolean } {
    const copy = this.module.copyExpression(expr);
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
      const local = localGetIndex(operand);
      if (!result.some((entry) => entry.local === local)) result.push({ local, shadow: this.shadow[local], type: this.types[local] });
    }
    return result;
  }

  /**
   * The check of `operands` (flat) before `instruction`, or null when there is nothing to compare or the
   * family is not checked: one site, failing when any operand differs from its shadow.
   */
  check(family: CheckFamily, instruction: ExpressionRef, operands: readonly ExpressionRef[]): ExpressionRef | null {
    if (!this.families.has(family)) return null;
    const pairs = this.compared(operands);
    if (!pairs || pairs.length === 0) return null;
    return checkCode(this.module, pairs, this.h.addSite(family, this.name, instruction), this.name);
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
    const ops = type === B.f32 ? this.module.f32 : this.module.f64;
    // binaryen.js: select(condition, ifTrue, ifFalse).
    return this.module.select(ops.ne(shadow(), shadow()), main, shadow());
  }

  /** A float operand (flat) of a shadow copy, when it is a local, takes the main copy's NaN: `set` puts it in the copy. */
  private lendNaN(type: number, operand: ExpressionRef, set: (shadow: ExpressionRef) => void): void {
    if (B.getExpressionId(operand) === B.LocalGetId) set(this.canonicalNaN(type, this.module.copyExpression(operand), () => this.shadowOperand(operand)));
  }

  /** Whether `call` calls an import the options name pure. */
  private callsPureImport(call: ExpressionRef): boolean {
    const isPure = this.h.options.pureImports;
    if (!isPure) return false;
    const callee = B.getFunctionInfo(this.module.getFunction(B.Call.getTarget(call)));
    return !!callee.module && isPure(callee.module, callee.base ?? '');
  }

  /** The shadow of `value` (flat), evaluated right after `local.set $target value`; null: none needed. */
  private shadowValue(value: ExpressionRef, target: number): ExpressionRef | null {
    const m = this.module;
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
      case B.SIMDLoadId:
      case B.SIMDLoadStoreLaneId: {
        const shadow = this.h.memory.loadShadow(value, this);
        if (shadow === null) return seeded();
        this.h.instructionsDuplicated++;
        return shadow;
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
          // The sign of a NaN is no more certain than its payload: a shadow NaN lends the main one's.
          const op = B.Binary.getOp(value);
          if (op === B.CopySignFloat32 || op === B.CopySignFloat64) {
            this.lendNaN(op === B.CopySignFloat32 ? B.f32 : B.f64, B.Binary.getRight(value), (shadow) => B.Binary.setRight(copy, shadow));
          }
        }
        if (id === B.SIMDReplaceId) {
          const op = B.SIMDReplace.getOp(value);
          if (op === B.ReplaceLaneVecF32x4 || op === B.ReplaceLaneVecF64x2) {
            this.lendNaN(op === B.ReplaceLaneVecF32x4 ? B.f32 : B.f64, B.SIMDReplace.getValue(value), (shadow) => B.SIMDReplace.setValue(copy, shadow));
          }
        }
        if (id === B.UnaryId) {
          const op = B.Unary.getOp(value);
          if (op === B.SplatVecF32x4 || op === B.SplatVecF64x2) {
            this.lendNaN(op === B.SplatVecF32x4 ? B.f32 : B.f64, B.Unary.getValue(value), (shadow) => B.Unary.setValue(copy, shadow));
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
        throw new PassRefusal(`function ${this.name}: the ${expressionKindName(value)} instruction is not supported by the hardening passes`);
    }
  }

  storedShadow(value: ExpressionRef, checked: boolean): ExpressionRef {
    const type = B.getExpressionType(value);
    if (B.getExpressionId(value) !== B.LocalGetId) return this.module.copyExpression(value);
    if (type === B.f32 || type === B.f64) {
      if (checked) return this.module.copyExpression(value);
      return this.canonicalNaN(type, this.module.copyExpression(value), () => this.shadowOperand(value));
    }
    return this.shadowOperand(value);
  }

  /** Replaces `expr` (at parent/index) by a block: `before`, expr, `after`. */
  private surround(expr: ExpressionRef, parent: ExpressionRef, index: number, before: ExpressionRef[], after: ExpressionRef[]): void {
    if (before.length === 0 && after.length === 0) return;
    setSlot({ fn: this.fn, parent, index }, this.module.block(null, [...before, expr, ...after], B.auto));
  }

  /** A memory write checked (family stores) and followed by its shadow write, if memory has a shadow. */
  private memoryWrite(expr: ExpressionRef, parent: ExpressionRef, index: number, operands: readonly ExpressionRef[]): void {
    const check = this.check('stores', expr, operands);
    const after: ExpressionRef[] = [];
    const twin = this.h.memory.writeShadow(expr, check !== null, this);
    if (twin !== null) {
      after.push(twin);
      this.h.instructionsDuplicated++;
    }
    this.surround(expr, parent, index, check ? [check] : [], after);
  }

  /** Puts the check of `operand` (absent: a br without condition, a return without value) before `expr`. */
  private checkBefore(family: CheckFamily, expr: ExpressionRef, parent: ExpressionRef, index: number, operand: ExpressionRef): void {
    if (!operand) return;
    const check = this.check(family, expr, [operand]);
    if (check) this.surround(expr, parent, index, [check], []);
  }

  /**
   * The check of an `if` or a `br_if`: its decision against the shadow condition's, in the successor it
   * took (branch-direction.ts); left to the `edges` family when the function has it (cfc.ts checks them
   * the same way). A condition that is no local (a constant, or `unreachable`) has no check.
   */
  private checkBranch(expr: ExpressionRef, parent: ExpressionRef, index: number): void {
    if (!this.families.has('branches') || this.families.has('edges') || !hasDirection(expr)) return;
    checkDirection({ module: this.module, fn: this.fn, shadowOperand: (operand) => this.shadowOperand(operand), site: (at) => this.h.addSite('branches', this.name, at) }, expr, parent, index);
  }

  /** Hardens the (flattened) body. */
  instrument(): void {
    const m = this.module;
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
        case B.StoreId:
          if (type === B.unreachable) return;
          this.memoryWrite(expr, parent, index, [B.Store.getPtr(expr), B.Store.getValue(expr)]);
          return;
        case B.SIMDLoadStoreLaneId:
          if (!B.SIMDLoadStoreLane.isStore(expr) || type === B.unreachable) return;
          this.memoryWrite(expr, parent, index, [B.SIMDLoadStoreLane.getPtr(expr), B.SIMDLoadStoreLane.getVec(expr)]);
          return;
        case B.MemoryFillId:
        case B.MemoryCopyId:
        case B.MemoryInitId:
          if (type === B.unreachable) return;
          this.memoryWrite(expr, parent, index, childrenOf(expr, this.name));
          return;
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
        case B.IfId:
        case B.BreakId:
          this.checkBranch(expr, parent, index);
          return;
        case B.SwitchId:
          this.checkBefore('branches', expr, parent, index, B.Switch.getCondition(expr));
          return;
        case B.ReturnId:
          this.checkBefore('returns', expr, parent, index, B.Return.getValue(expr));
          return;
        default:
          return;
      }
    });
  }

  /**
   * Removes the computations of shadows that nothing reads — no check, no shadow global or shadow memory
   * write, no other shadow that is read — so that a function hardened with some families only (selective
   * hardening's `edges` level: the shadow stream matters only where it feeds a branch) pays for the
   * shadows it checks, not for the whole stream. Binaryen's clean-up cannot do it: a shadow load may
   * trap, so it keeps it. A shadow's value only reads (locals, globals, memory), so removing it changes
   * nothing else; its twin in the main copy still traps where the original would.
   */
  dropUnreadShadows(): void {
    const shadows = new Set(this.shadow);
    const onlyReads = SIDE_EFFECTS.ReadsLocal | SIDE_EFFECTS.ReadsGlobal | SIDE_EFFECTS.ReadsMemory | SIDE_EFFECTS.ImplicitTrap;
    const readsOf = (root: ExpressionRef) => {
      const reads = new Map<number, number>();
      walkWithParents(root, this.name, (expr) => {
        if (B.getExpressionId(expr) === B.LocalGetId) reads.set(localGetIndex(expr), (reads.get(localGetIndex(expr)) ?? 0) + 1);
      });
      return reads;
    };
    const sets: Array<{ expr: ExpressionRef; parent: ExpressionRef; index: number; local: number; reads: Map<number, number> }> = [];
    const all = new Map<number, number>();
    walkWithParents(B.Function.getBody(this.fn), this.name, (expr, parent, index) => {
      const id = B.getExpressionId(expr);
      if (id === B.LocalGetId) all.set(localGetIndex(expr), (all.get(localGetIndex(expr)) ?? 0) + 1);
      else if (id === B.LocalSetId && !B.LocalSet.isTee(expr) && shadows.has(B.LocalSet.getIndex(expr) as number)) {
        sets.push({ expr, parent, index, local: B.LocalSet.getIndex(expr) as number, reads: readsOf(B.LocalSet.getValue(expr)) });
      }
    });
    // Read outside a shadow's computation (by a check, a signature, a write): live, and so is what feeds it.
    const inShadows = new Map<number, number>();
    for (const set of sets) for (const [local, count] of set.reads) inShadows.set(local, (inShadows.get(local) ?? 0) + count);
    const live = new Set([...all].filter(([local, count]) => count > (inShadows.get(local) ?? 0)).map(([local]) => local));
    const setsOf = new Map<number, typeof sets>();
    for (const set of sets) setsOf.set(set.local, [...(setsOf.get(set.local) ?? []), set]);
    const work = [...live];
    while (work.length > 0) {
      for (const set of setsOf.get(work.pop()!) ?? []) {
        for (const local of set.reads.keys()) if (!live.has(local)) (live.add(local), work.push(local));
      }
    }
    for (const set of sets) {
      if (live.has(set.local) || (B.getSideEffects(B.LocalSet.getValue(set.expr), this.module as never) & ~onlyReads) !== 0) continue;
      if (set.parent === NO_PARENT) B.Function.setBody(this.fn, this.module.nop());
      else replaceChild(set.parent, set.index, this.module.nop());
    }
  }

  /** Seeds the shadows of the parameters and of the declared locals on entry. */
  seedEntry(declaredLocals: number): void {
    const m = this.module;
    const seeds: ExpressionRef[] = [];
    for (let i = 0; i < declaredLocals; i++) {
      const type = this.types[i];
      seeds.push(m.local.set(this.shadow[i], this.opaque(type, m.local.get(i, type))));
      this.h.valuesSeeded++;
    }
    // The zeros are read first (seeding the parameters may add the last of them).
    const zeros = [...this.zeros].map(([type, local]) => m.local.set(local, m.global.get(zeroGlobal(type), type)));
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
    if (B.getExpressionType(expr) === B.unreachable) return;
    const mirrorsMemory = h.memory.mirrorsWrite(expr);
    const shadowGlobal = B.getExpressionId(expr) === B.GlobalSetId ? h.shadowGlobals.get(B.GlobalSet.getName(expr)) : undefined;
    if (!mirrorsMemory && !shadowGlobal) return;
    // Operands go through fresh locals (evaluated once, in order), then the write is done twice.
    const operands = childrenOf(expr, name);
    const temps = operands.map((operand) => addLocal(fn, B.getExpressionType(operand)));
    const sets = operands.map((operand, i) => m.local.set(temps[i], operand));
    operands.forEach((operand, i) => replaceChild(expr, i, m.local.get(temps[i], B.getExpressionType(operand))));
    const twin = shadowGlobal
      ? m.global.set(shadowGlobal, m.local.get(temps[0], B.getExpressionType(operands[0])))
      : h.memory.shadowAccess(m.copyExpression(expr));
    setSlot({ fn, parent, index }, m.block(null, [...sets, expr, twin], B.none));
  });
}

// ---------------------------------------------------------------------------------------------------
// The whole run.

/**
 * Binaryen passes that only move code and values between locals and expression trees (nothing in them
 * evaluates or rewrites arithmetic), run on each hardened function after instrumentation.
 */
export const CLEANUP_PASSES = ['simplify-locals', 'vacuum', 'merge-blocks', 'coalesce-locals', 'reorder-locals', 'remove-unused-names', 'merge-blocks', 'vacuum'];

/** Duplicates `module` in place, memory treated as `memory` says. Throws PassRefusal (or UnsupportedExpressionError) for a module it refuses. */
export function duplicateInPlace(module: Module, options: DuplicationOptions, memory: MemoryTreatment): HardeningReport {
  if (module.getGlobal(OPAQUE_ZERO_GLOBAL) || module.getFunction(CHECK_FUNCTION)) {
    throw new PassRefusal(`the module is hardened already (it has ${OPAQUE_ZERO_GLOBAL})`);
  }
  if (importsCheck(module)) throw new PassRefusal(`the module is hardened already (it imports ${CHECK_MODULE}.${CHECK_IMPORT})`);
  const h = new Hardener(module, options, memory);
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

  addOpaqueZeros(module);
  addCheckImport(module);
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

  memory.prepare(module, functions);
  for (const fn of hardened) {
    const name = B.getFunctionInfo(fn).name;
    const declared = localTypes(fn).length;
    module.runPassesOnFunction(fn, ['flatten']);
    const hardener = new FunctionHardener(h, fn, name);
    // Control-flow checking needs the original branches and exits, found before instrumentation adds its own.
    const edges = hardener.families.has('edges') ? edgeTargets(B.Function.getBody(fn), name) : null;
    // Checked by the edges alone, a counted loop's head is checked by its count (counted-loops.ts).
    const counted = edges && hardener.families.size === 1 ? countedLoops(B.Function.getBody(fn), name) : undefined;
    hardener.instrument();
    if (edges) {
      const context = {
        module,
        fn,
        name,
        shadowOperand: (operand: ExpressionRef) => hardener.shadowOperand(operand),
        site: (at: ExpressionRef) => h.addSite('edges', name, at),
        opaque: (expr: ExpressionRef) => hardener.opaque(B.i32, expr),
      };
      checkEdges(context, edges, options.edgePlacement ?? 'entry', counted);
    }
    hardener.seedEntry(declared);
    hardener.dropUnreadShadows();
  }
  for (const fn of leftAlone) keepCoherent(h, fn, B.getFunctionInfo(fn).name);
  memory.finish(module, functions);
  if (options.families.has('edges')) memory.checkOwnEdges?.(module, (functionName, at) => h.addSite('edges', functionName, at));
  if (options.cleanup !== false) for (const fn of hardened) module.runPassesOnFunction(fn, CLEANUP_PASSES);

  const byFamily = Object.fromEntries(CHECK_FAMILIES.map((family) => [family, 0])) as Record<CheckFamily, number>;
  for (const site of h.sites) byFamily[site.family]++;
  return {
    mode: memory.mode,
    families: CHECK_FAMILIES.filter((family) => options.families.has(family)),
    functions: { hardened: hardened.map((fn) => B.getFunctionInfo(fn).name), leftAlone: leftAlone.map((fn) => B.getFunctionInfo(fn).name) },
    instructionsDuplicated: h.instructionsDuplicated,
    valuesSeeded: h.valuesSeeded,
    importCallsRepeated: h.importCallsRepeated,
    shadowGlobals: h.shadowGlobals.size,
    checks: { total: h.sites.length, byFamily },
    sites: h.sites,
    loadShadows: memory.loadShadows,
    memory: memory.report(),
  };
}
