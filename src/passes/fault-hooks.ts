// fault-hooks: lets the host flip the result of the n-th value-producing instruction a core executes,
// or invert the n-th branch decision — the fault models of LLFI and of the SWIFT papers (a transient
// upset in a functional unit or a register, not in memory), which complete the memory and global upsets
// the rest of lockstep injects. The host arms a countdown between runs; the hooked module counts the
// sites it executes (the golden run reads the counts to know the range of n) and flips the one the
// countdown names.
//
// Host interface (exported mutable globals, see src/core/fault-core.ts):
//   __lockstep_result_countdown (i32)  n + 1 flips the n-th (0-based) value-producing instruction executed
//                                      from then on; 0 or negative: unarmed. A site decrements it only while
//                                      it is positive, so a long run can never wrap it back to positive.
//   __lockstep_branch_countdown (i32)  the same for branch decisions.
//   __lockstep_fault_mask (i64)        XOR mask of a result flip, initially 1 (for i32 and f32 results its two halves
//                                      XOR-ed together, so bit b flips bit b mod 32; floats are flipped
//                                      through their bit pattern, so bit 63 of an f64 negates it); bits 0-4
//                                      also name the bit a br_table index flip flips.
//   __lockstep_result_count (i32)      value-producing instructions executed since the host last zeroed it
//   __lockstep_branch_count (i32)      branch decisions executed since the host last zeroed it
//   __lockstep_fault_fired (i32)       the flipped site's id + 1 (0: nothing flipped since the host zeroed it;
//                                      the later one when a result and a branch flip both fire); ids are
//                                      listed in the pass report's `sites`.
// The counts wrap modulo 2^32; one function invocation must execute fewer than 2^31 sites of a kind (an
// instruction budget of count-instructions, itself an i32, guarantees it).
//
// What is a site:
//   - A value-producing instruction is a Unary, Binary, Load, Select, Call or CallIndirect (imports included:
//     a bus read is a value the core holds in a register), MemorySize, MemoryGrow or SIMDExtract whose
//     type is i32, i64, f32 or f64. Const, LocalGet and GlobalGet move values and do not compute them, nor
//     does local.tee (it is a move into a local as well): none is a site. v128 results and tuples are not
//     sites (the mask is 64 bits wide). The flip happens when the instruction completes, before its value
//     is used.
//   - A branch decision is the condition of an `if` or a `br_if`, the index of a `br_table`, and the
//     condition of a `select`: compilers turn short branches into selects (if-conversion) and back, so
//     counting selects keeps the fault space independent of that choice. A flip inverts a condition
//     (c becomes c == 0) and flips bit `mask & 31` of a br_table index (an index past the table goes to
//     the default target, as a corrupted index would). A select is both a branch site (its condition) and
//     a value site (its result).
//   - The lockstep instrumentation is not flight software and holds no sites. This pass runs after the
//     core passes (FAULT_HOOK_PASSES in index.ts), so that instruction counting and dirty tracking neither
//     count nor see the hooks — a hooked core charges exactly the instructions of a plain core, armed or
//     not, and its timing, watchdog and dirty blocks are the plain core's — and it recognises their code by
//     the `__lockstep_` prefix: functions so named are left alone; a global.set of a `__lockstep_` global
//     is instrumentation with all it contains; an instruction reading a `__lockstep_` global or calling a
//     `__lockstep_` function is instrumentation, and so is any instruction that takes one as an operand
//     (without crossing a block: a wrapper block around an operand of the flight software, as dirty
//     tracking puts around a computed store address, keeps the operand's sites). What the hardening
//     passes add to a program (its opaque zeros, the check import, EDDI's shadow base and grow function)
//     is named so too, but it is not instrumentation: a hardened build is the flight software, whose
//     shadows and checks run on the core and are struck by faults like the rest.
//
// Why two copies of every function: hooking every site costs a counter update and a countdown test per
// instruction, several times the flight software's own work (src/bench/fault-hooks-bench.ts measures it;
// docs/performance.md has the figures). But the countdown can only be armed by the host, between runs, and a site
// only matters while it is armed. So every function F is split in two:
//   - F_hooked (`__lockstep_hooked:F`, not exported): every site counted and checked, exactly as above.
//   - F itself: on entry, if either countdown is positive, it returns F_hooked(its arguments) — tail-
//     calling the hooked twin, so that an armed run executes hooked code from its first instruction to
//     its last, and the flips happen in execution order across calls. Otherwise it runs its original code
//     with counting only, charged per straight-line segment instead of per site: a local counter is
//     increased by a segment's number of sites where the segment starts, and the locals are added to the
//     count globals when the function returns. A segment starts at the function's entry, at each loop
//     iteration, at each if-arm, after a br_if (when it falls through), after a block that branches
//     target, and after an if both of whose paths continue; it ends before the next such point or at an
//     unconditional transfer (br, br_table, return, unreachable), after which code is dead until a join.
//     An if-arm that can only trap (no branch in it, never falls through: a bounds check, the watchdog
//     check) does not split its segment. Within a segment every site runs once and in order, so the count
//     is exact — the hooked twin counts site by site, and the tests check the two agree on random modules.
//   The calls F makes go to the functions themselves (they dispatch on entry), so once a flip has fired
//   and disarmed the countdown, execution returns to the unhooked code at the next call. A function with
//   no site gets no twin and no dispatch. Unarmed, what the hooked build costs over the plain one is
//   almost all the segment counting.
// Exactness holds for runs that complete (the golden run's): a run that traps or is stopped by the
// watchdog leaves the counts short (functions add their counts when they return) or over (a segment
// charged before the trap), which does not matter because its outcome is the trap. A hooked entry adds one
// frame to the call stack, so an armed run's stack overflows one level earlier in deep recursion.
import binaryen, { addLocal, globalName, i64Const, type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { scalarTypeName, type ValueTypeName } from './export-state.js';
import { childrenOf, definedFunctions, expressionKindName, isStructural, walkPostOrder } from './expressions.js';
import { CHECK_FUNCTION } from './checks.js';
import { EDDI_GROW_FUNCTION, SHADOW_BASE_GLOBAL } from './eddi.js';
import { OPAQUE_ZERO_GLOBALS } from './opaque-zero.js';
import { isLockstepName, type ModulePass } from './pass.js';
import { NO_PARENT, walkWithParents, wrapSlot, type Slot } from './rewrite.js';

const B = binaryen;

export const RESULT_COUNTDOWN_GLOBAL = '__lockstep_result_countdown';
export const BRANCH_COUNTDOWN_GLOBAL = '__lockstep_branch_countdown';
export const FAULT_MASK_GLOBAL = '__lockstep_fault_mask';
export const RESULT_COUNT_GLOBAL = '__lockstep_result_count';
export const BRANCH_COUNT_GLOBAL = '__lockstep_branch_count';
export const FAULT_FIRED_GLOBAL = '__lockstep_fault_fired';
/** The hooked twin of function F is named HOOKED_PREFIX + F. */
export const HOOKED_PREFIX = '__lockstep_hooked:';

export type ValueSiteType = ValueTypeName;

export interface FaultSite {
  /** What `__lockstep_fault_fired` holds, minus one, when this site flipped. */
  readonly id: number;
  readonly kind: 'value' | 'branch';
  /** The function it is in (Binaryen's name: the name section's, or the index). */
  readonly function: string;
  /** The instruction: Binary, Load, Call... for a value; If, Break (br_if), Switch (br_table), Select for a branch. */
  readonly instruction: string;
  /** The result type of a value site; 'condition' or 'index' (br_table) for a branch site. */
  readonly type: ValueSiteType | 'condition' | 'index';
}

export interface FaultHooksReport {
  readonly valueSites: number;
  readonly branchSites: number;
  readonly functionsInstrumented: number;
  /** Every site by id. */
  readonly sites: readonly FaultSite[];
}

const VALUE_KINDS: ReadonlySet<number> = new Set([
  B.UnaryId,
  B.BinaryId,
  B.LoadId,
  B.SelectId,
  B.CallId,
  B.CallIndirectId,
  B.MemorySizeId,
  B.MemoryGrowId,
  B.SIMDExtractId,
]);

const HARDENED_PROGRAM: ReadonlySet<string> = new Set([...OPAQUE_ZERO_GLOBALS, CHECK_FUNCTION, SHADOW_BASE_GLOBAL, EDDI_GROW_FUNCTION]);
/** Whether a global or function is the model's instrumentation (see the header), not flight software. */
const isInstrumentation = (name: string): boolean => isLockstepName(name) && !HARDENED_PROGRAM.has(name);

/** Guards the recursive segment walk against pathological nesting (as regions.ts does). */
const MAX_NESTING = 10_000;

/** What a function body holds, found before it is changed. */
interface Analysis {
  /** Instrumentation of the other passes: never a site. */
  readonly excluded: ReadonlySet<ExpressionRef>;
  /** Expressions that are or contain a br, br_if, br_table or return. */
  readonly transfers: ReadonlySet<ExpressionRef>;
  /** Labels some branch names. */
  readonly targeted: ReadonlySet<string>;
}

function analyze(body: ExpressionRef, functionName: string): Analysis {
  const tainted = new Set<ExpressionRef>();
  const transfers = new Set<ExpressionRef>();
  const targeted = new Set<string>();
  const instrumentationRoots: ExpressionRef[] = [];
  walkPostOrder(body, functionName, (expr) => {
    const id = B.getExpressionId(expr);
    const children = childrenOf(expr, functionName);
    if (id === B.BreakId) {
      targeted.add(B.Break.getName(expr));
      transfers.add(expr);
    } else if (id === B.SwitchId) {
      for (const name of B.Switch.getNames(expr) as string[]) targeted.add(name);
      targeted.add(B.Switch.getDefaultName(expr));
      transfers.add(expr);
    } else if (id === B.ReturnId) {
      transfers.add(expr);
    } else if (children.some((child) => transfers.has(child))) {
      transfers.add(expr);
    }
    if (id === B.GlobalGetId || id === B.GlobalSetId) {
      if (isInstrumentation(globalName(expr))) {
        tainted.add(expr);
        if (id === B.GlobalSetId) instrumentationRoots.push(expr);
      }
    } else if (id === B.CallId && isInstrumentation(B.Call.getTarget(expr))) {
      tainted.add(expr);
    }
    if (!tainted.has(expr) && !isStructural(expr) && children.some((child) => tainted.has(child))) tainted.add(expr);
  });
  const excluded = new Set(tainted);
  for (const root of instrumentationRoots) walkPostOrder(root, functionName, (expr) => excluded.add(expr));
  return { excluded, transfers, targeted };
}

/** The result type of `expr` when it is a value site, else null. */
function valueSiteType(expr: ExpressionRef, analysis: Analysis): ValueSiteType | null {
  if (!VALUE_KINDS.has(B.getExpressionId(expr)) || analysis.excluded.has(expr)) return null;
  return scalarTypeName(B.getExpressionType(expr));
}

/** The position of the decision among `expr`'s children when it is a branch site, else -1. */
function branchConditionIndex(expr: ExpressionRef, analysis: Analysis): number {
  const id = B.getExpressionId(expr);
  let condition: ExpressionRef = 0;
  let index = -1;
  if (id === B.IfId) {
    condition = B.If.getCondition(expr);
    index = 0;
  } else if (id === B.BreakId) {
    condition = B.Break.getCondition(expr);
    index = B.Break.getValue(expr) ? 1 : 0;
  } else if (id === B.SwitchId) {
    condition = B.Switch.getCondition(expr);
    index = B.Switch.getValue(expr) ? 1 : 0;
  } else if (id === B.SelectId) {
    condition = B.Select.getCondition(expr);
    index = 2;
  }
  if (!condition || analysis.excluded.has(condition) || analysis.excluded.has(expr)) return -1;
  return index;
}

/** Per-function scratch locals: one temporary per type, the two local counters. */
class Locals {
  private readonly temps = new Map<number, number>();
  private results = -1;
  private branches = -1;

  constructor(private readonly fn: FunctionRef) {}

  temp(type: number): number {
    let local = this.temps.get(type);
    if (local === undefined) {
      local = addLocal(this.fn, type);
      this.temps.set(type, local);
    }
    return local;
  }

  resultCounter(): number {
    if (this.results < 0) this.results = addLocal(this.fn, B.i32);
    return this.results;
  }

  branchCounter(): number {
    if (this.branches < 0) this.branches = addLocal(this.fn, B.i32);
    return this.branches;
  }

  /** Adds the local counters to the count globals (nothing when the function counted nothing). */
  flush(module: Module): ExpressionRef[] {
    const code: ExpressionRef[] = [];
    const add = (global: string, local: number) =>
      module.global.set(global, module.i32.add(module.global.get(global, B.i32), module.local.get(local, B.i32)));
    if (this.results >= 0) code.push(add(RESULT_COUNT_GLOBAL, this.results));
    if (this.branches >= 0) code.push(add(BRANCH_COUNT_GLOBAL, this.branches));
    return code;
  }
}

/** `local += amount` on an i32 local. */
function bump(module: Module, local: number, amount: number): ExpressionRef {
  return module.local.set(local, module.i32.add(module.local.get(local, B.i32), module.i32.const(amount)));
}

/** Code that runs `after` once `expr` has completed, yielding `expr`'s value. */
function followedBy(module: Module, locals: Locals, expr: ExpressionRef, after: ExpressionRef[]): ExpressionRef {
  const type = B.getExpressionType(expr);
  if (after.length === 0 || type === B.unreachable) return expr;
  if (type === B.none) return module.block(null, [expr, ...after], B.none);
  const temp = locals.temp(type);
  return module.block(null, [module.local.set(temp, expr), ...after, module.local.get(temp, type)], type);
}

/** Makes every exit of a function add its local counters to the globals: its returns and its end. */
function flushOnExit(module: Module, fn: FunctionRef, locals: Locals): void {
  const name = B.getFunctionInfo(fn).name;
  if (locals.flush(module).length === 0) return;
  const returns: Slot[] = [];
  walkWithParents(B.getFunctionInfo(fn).body, name, (expr, parent, index) => {
    if (B.getExpressionId(expr) === B.ReturnId) returns.push({ fn, parent, index });
  });
  for (const slot of returns) {
    wrapSlot(
      slot,
      (ret) => {
        const value = B.Return.getValue(ret);
        if (!value) return module.block(null, [...locals.flush(module), ret], B.auto);
        B.Return.setValue(ret, followedBy(module, locals, value, locals.flush(module)));
        return ret;
      },
      name,
    );
  }
  wrapSlot({ fn, parent: NO_PARENT, index: -1 }, (body) => followedBy(module, locals, body, locals.flush(module)), name);
}

// ---------------------------------------------------------------------------------------------------
// The hooked twin: every site counted and checked where it completes.

class HookBuilder {
  constructor(
    private readonly module: Module,
    private readonly locals: Locals,
  ) {}

  /** if (countdown > 0) { countdown -= 1; if (countdown == 0) { flip; fired = id + 1 } } */
  private check(countdown: string, flip: ExpressionRef, id: number): ExpressionRef {
    const m = this.module;
    const get = () => m.global.get(countdown, B.i32);
    return m.if(
      m.i32.gt_s(get(), m.i32.const(0)),
      m.block(null, [
        m.global.set(countdown, m.i32.sub(get(), m.i32.const(1))),
        m.if(m.i32.eqz(get()), m.block(null, [flip, m.global.set(FAULT_FIRED_GLOBAL, m.i32.const(id + 1))])),
      ]),
    );
  }

  private mask64(): ExpressionRef {
    return this.module.global.get(FAULT_MASK_GLOBAL, B.i64);
  }

  /**
   * A 32-bit result is flipped by the mask's two halves folded together, so that a campaign drawing one
   * bit out of 64 flips bit b of a 64-bit result and bit b mod 32 of a 32-bit one: every bit of every
   * result is equally likely, whatever its type (the host cannot know which type the n-th site has).
   */
  private mask32(): ExpressionRef {
    const m = this.module;
    return m.i32.xor(m.i32.wrap(this.mask64()), m.i32.wrap(m.i64.shr_u(this.mask64(), i64Const(m, 32n))));
  }

  /** The value hook around `expr`, a value site of `type`. */
  value(expr: ExpressionRef, type: ValueSiteType, id: number): ExpressionRef {
    const m = this.module;
    const wasmType = B.getExpressionType(expr);
    const temp = this.locals.temp(wasmType);
    const get = () => m.local.get(temp, wasmType);
    let flipped: ExpressionRef;
    switch (type) {
      case 'i32':
        flipped = m.i32.xor(get(), this.mask32());
        break;
      case 'i64':
        flipped = m.i64.xor(get(), this.mask64());
        break;
      case 'f32':
        flipped = m.f32.reinterpret(m.i32.xor(m.i32.reinterpret(get()), this.mask32()));
        break;
      case 'f64':
        flipped = m.f64.reinterpret(m.i64.xor(m.i64.reinterpret(get()), this.mask64()));
        break;
    }
    return m.block(
      null,
      [
        m.local.set(temp, expr),
        bump(m, this.locals.resultCounter(), 1),
        this.check(RESULT_COUNTDOWN_GLOBAL, m.local.set(temp, flipped), id),
        get(),
      ],
      wasmType,
    );
  }

  /** The branch hook around `condition`, the decision of a branch site (`table`: a br_table index). */
  branch(condition: ExpressionRef, table: boolean, id: number): ExpressionRef {
    const m = this.module;
    const temp = this.locals.temp(B.i32);
    const get = () => m.local.get(temp, B.i32);
    // i32.shl takes its count modulo 32: the bit flipped is bits 0-4 of the mask.
    const flipped = table ? m.i32.xor(get(), m.i32.shl(m.i32.const(1), m.i32.wrap(this.mask64()))) : m.i32.eqz(get());
    return m.block(
      null,
      [m.local.set(temp, condition), bump(m, this.locals.branchCounter(), 1), this.check(BRANCH_COUNTDOWN_GLOBAL, m.local.set(temp, flipped), id), get()],
      B.i32,
    );
  }
}

/**
 * The sites of a function body in the order the pass numbers them (evaluation order, a select's branch
 * site before its value site), without changing it: how src/source/ finds, in the flight software as
 * compiled, the instruction each site id of the hooked build stands for.
 */
export function sitesOf(body: ExpressionRef, functionName: string): Array<{ expr: ExpressionRef; kind: FaultSite['kind'] }> {
  const analysis = analyze(body, functionName);
  const sites: Array<{ expr: ExpressionRef; kind: FaultSite['kind'] }> = [];
  walkPostOrder(body, functionName, (expr) => {
    if (branchConditionIndex(expr, analysis) >= 0) sites.push({ expr, kind: 'branch' });
    if (valueSiteType(expr, analysis)) sites.push({ expr, kind: 'value' });
  });
  return sites;
}

function hookEverySite(module: Module, fn: FunctionRef, sites: FaultSite[]): void {
  const { name, body } = B.getFunctionInfo(fn);
  const analysis = analyze(body, name);
  const locals = new Locals(fn);
  const hooks = new HookBuilder(module, locals);
  // The function's own name in the report: the twin stands for the original.
  const reported = name.slice(HOOKED_PREFIX.length);
  walkWithParents(body, name, (expr, parent, index) => {
    const conditionIndex = branchConditionIndex(expr, analysis);
    if (conditionIndex >= 0) {
      const id = sites.length;
      const table = B.getExpressionId(expr) === B.SwitchId;
      sites.push({ id, kind: 'branch', function: reported, instruction: expressionKindName(expr), type: table ? 'index' : 'condition' });
      wrapSlot({ fn, parent: expr, index: conditionIndex }, (condition) => hooks.branch(condition, table, id), name);
    }
    const type = valueSiteType(expr, analysis);
    if (type) {
      const id = sites.length;
      sites.push({ id, kind: 'value', function: reported, instruction: expressionKindName(expr), type });
      wrapSlot({ fn, parent, index }, (current) => hooks.value(current, type, id), name);
    }
  });
  flushOnExit(module, fn, locals);
}

// ---------------------------------------------------------------------------------------------------
// The unhooked code: counting per straight-line segment.

interface Segment {
  results: number;
  branches: number;
  /** Where its charge goes: before or after what stands in a slot. */
  readonly slot: Slot;
  readonly after: boolean;
}

/** The segment of dead code (after an unconditional transfer): it is never charged. */
const DEAD: Segment = { results: 0, branches: 0, slot: { fn: 0, parent: NO_PARENT, index: -1 }, after: false };

function countBySegment(module: Module, fn: FunctionRef): { results: number; branches: number } {
  const { name, body } = B.getFunctionInfo(fn);
  const analysis = analyze(body, name);
  const segments: Segment[] = [];
  let current: Segment = DEAD;
  const start = (slot: Slot, after: boolean): Segment => {
    if (after && B.getExpressionType(childrenAt(slot)) === B.unreachable) return (current = DEAD);
    const segment: Segment = { results: 0, branches: 0, slot, after };
    segments.push(segment);
    return (current = segment);
  };
  const childrenAt = (slot: Slot): ExpressionRef => (slot.parent === NO_PARENT ? body : childrenOf(slot.parent, name)[slot.index]);
  /** Only traps leave it: it never falls through and holds no branch or return. */
  const trapsOnly = (arm: ExpressionRef) => B.getExpressionType(arm) === B.unreachable && !analysis.transfers.has(arm);
  let total = { results: 0, branches: 0 };
  const countBranch = (expr: ExpressionRef) => {
    if (branchConditionIndex(expr, analysis) >= 0 && current !== DEAD) current.branches++;
  };

  const visit = (expr: ExpressionRef, slot: Slot, depth: number): void => {
    if (depth > MAX_NESTING) throw new Error(`function ${name}: expressions nested deeper than ${MAX_NESTING}`);
    const id = B.getExpressionId(expr);
    const children = childrenOf(expr, name);
    const child = (index: number): Slot => ({ fn, parent: expr, index });
    switch (id) {
      case B.BlockId: {
        children.forEach((c, i) => visit(c, child(i), depth + 1));
        const label = B.Block.getName(expr);
        if (label && analysis.targeted.has(label)) start(slot, true);
        return;
      }
      case B.LoopId:
        start(child(0), false);
        visit(children[0], child(0), depth + 1);
        return; // what follows a loop continues the segment its body ended in (the only way out is through)
      case B.IfId: {
        visit(children[0], child(0), depth + 1);
        countBranch(expr);
        const entry = current;
        start(child(1), false);
        visit(children[1], child(1), depth + 1);
        const endTrue = current;
        if (children.length === 3) {
          start(child(2), false);
          visit(children[2], child(2), depth + 1);
          const endFalse = current;
          if (endTrue !== DEAD && endFalse !== DEAD) start(slot, true);
          else current = endTrue !== DEAD ? endTrue : endFalse;
        } else if (endTrue === DEAD && trapsOnly(children[1])) {
          current = entry;
        } else if (endTrue === DEAD && entry === DEAD) {
          current = DEAD;
        } else {
          start(slot, true);
        }
        return;
      }
      case B.BreakId:
        children.forEach((c, i) => visit(c, child(i), depth + 1));
        if (B.Break.getCondition(expr)) {
          countBranch(expr);
          start(slot, true);
        } else {
          current = DEAD;
        }
        return;
      case B.SwitchId:
        children.forEach((c, i) => visit(c, child(i), depth + 1));
        countBranch(expr);
        current = DEAD;
        return;
      case B.ReturnId:
        children.forEach((c, i) => visit(c, child(i), depth + 1));
        current = DEAD;
        return;
      case B.UnreachableId:
        current = DEAD;
        return;
      default:
        children.forEach((c, i) => visit(c, child(i), depth + 1));
        if (id === B.SelectId) countBranch(expr);
        if (valueSiteType(expr, analysis) && current !== DEAD) current.results++;
    }
  };
  const root: Slot = { fn, parent: NO_PARENT, index: -1 };
  start(root, false);
  visit(body, root, 0);

  const locals = new Locals(fn);
  for (const segment of segments) {
    if (segment.results === 0 && segment.branches === 0) continue;
    const charge: ExpressionRef[] = [];
    if (segment.results > 0) charge.push(bump(module, locals.resultCounter(), segment.results));
    if (segment.branches > 0) charge.push(bump(module, locals.branchCounter(), segment.branches));
    wrapSlot(
      segment.slot,
      (current) => (segment.after ? followedBy(module, locals, current, charge) : module.block(null, [...charge, current], B.getExpressionType(current))),
      name,
    );
    total = { results: total.results + segment.results, branches: total.branches + segment.branches };
  }
  flushOnExit(module, fn, locals);
  return total;
}

/** Makes `fn` run its hooked twin instead when a countdown is armed. */
function dispatchOnEntry(module: Module, fn: FunctionRef, twin: string): void {
  const info = B.getFunctionInfo(fn);
  const params = B.expandType(info.params) as number[];
  const call = module.call(twin, params.map((type, i) => module.local.get(i, type)), info.results);
  const armed = module.i32.or(
    module.i32.gt_s(module.global.get(RESULT_COUNTDOWN_GLOBAL, B.i32), module.i32.const(0)),
    module.i32.gt_s(module.global.get(BRANCH_COUNTDOWN_GLOBAL, B.i32), module.i32.const(0)),
  );
  const divert = info.results === B.none ? module.block(null, [call, module.return()]) : module.return(call);
  B.Function.setBody(fn, module.block(null, [module.if(armed, divert), info.body], B.getExpressionType(info.body)));
}

export const faultHooks: ModulePass = {
  name: 'fault-hooks',
  description: 'flip the result of the n-th value-producing instruction or the n-th branch decision, armed by the host',
  run(module: Module): FaultHooksReport {
    for (const global of [RESULT_COUNTDOWN_GLOBAL, BRANCH_COUNTDOWN_GLOBAL, FAULT_MASK_GLOBAL, RESULT_COUNT_GLOBAL, BRANCH_COUNT_GLOBAL, FAULT_FIRED_GLOBAL]) {
      if (module.getGlobal(global)) throw new Error(`the module already has a global ${global} (fault hooks applied twice?)`);
    }
    const functions = definedFunctions(module).filter((fn) => !isInstrumentation(B.getFunctionInfo(fn).name));
    for (const name of [RESULT_COUNTDOWN_GLOBAL, BRANCH_COUNTDOWN_GLOBAL, RESULT_COUNT_GLOBAL, BRANCH_COUNT_GLOBAL, FAULT_FIRED_GLOBAL]) {
      module.addGlobal(name, B.i32, true, module.i32.const(0));
      module.addGlobalExport(name, name);
    }
    module.addGlobal(FAULT_MASK_GLOBAL, B.i64, true, i64Const(module, 1n));
    module.addGlobalExport(FAULT_MASK_GLOBAL, FAULT_MASK_GLOBAL);

    const sites: FaultSite[] = [];
    const unhookedCounts = { results: 0, branches: 0 };
    let functionsInstrumented = 0;
    for (const fn of functions) {
      const info = B.getFunctionInfo(fn);
      const twinName = HOOKED_PREFIX + info.name;
      if (module.getFunction(twinName)) throw new Error(`the module already has a function ${twinName}`);
      const twin = module.addFunction(twinName, info.params, info.results, info.vars, module.copyExpression(info.body));
      const before = sites.length;
      hookEverySite(module, twin, sites);
      if (sites.length === before) {
        // Nothing to count or flip: the function runs as it is, armed or not (its callees dispatch themselves).
        module.removeFunction(twinName);
        continue;
      }
      const counted = countBySegment(module, fn);
      unhookedCounts.results += counted.results;
      unhookedCounts.branches += counted.branches;
      dispatchOnEntry(module, fn, twinName);
      functionsInstrumented++;
    }
    const valueSites = sites.filter((site) => site.kind === 'value').length;
    const branchSites = sites.length - valueSites;
    // Both copies must classify the same instructions as sites (the segments count the live ones only).
    if (unhookedCounts.results > valueSites || unhookedCounts.branches > branchSites) {
      throw new Error('fault-hooks: the unhooked copy counts more sites than the hooked one has');
    }
    return { valueSites, branchSites, functionsInstrumented, sites };
  },
};
