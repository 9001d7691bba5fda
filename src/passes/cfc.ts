// cfc: control-flow checking for the hardening passes (the `edges` check family; the named hardenings
// swift-cfc and eddi-cfc). Duplication (duplicate.ts) checks a branch's condition against its shadow
// before the branch, but the decision itself is not duplicated: an upset that inverts it (a flipped flag,
// a corrupted branch unit) takes the other edge with a correct condition, and SWIFT and EDDI never see
// it. SWIFT's paper pairs duplication with control-flow checking for this; this pass is lockstep's.
//
// The scheme: signatures on the edges of conditional branches, condition-aware, checked on entry.
// WebAssembly's control flow is structured and validated, so the only wrong edge a fault can produce is
// the other successor of a conditional branch (an `if`, a `br_if`, a `br_table`); a jump into the middle
// of a block (what CFCSS was designed for) cannot happen. Classic CFCSS assigns signatures from the
// graph alone, so both successors of a branch accept the signature it leaves: it cannot see an inverted
// decision at all. Here every destination D of a conditional branch (an if-arm, the code after a
// `br_if`, the target of a `br_if` or `br_table`: after a block's end or at a loop's top) has a static
// signature s(D), and a signature local G is set on every edge into D: before a conditional branch from
// the *shadow* condition (G = c' ? s(taken) : s(not taken); a br_table's by its shadow index), before an
// unconditional edge into D (a fall-through, a `br`) to s(D). On entry D checks G = s(D). An inverted
// decision enters the successor the shadow condition did not choose, and the check fails there, before
// any instruction of the wrong path runs.
//
// On entry, an `if`'s or a `br_if`'s edges need no signature: the successor tests the shadow condition
// itself (branch-direction.ts: `if (c) { if (!c') fail; A } else { if (c') fail; B }`), which catches
// exactly the inverted decisions a signature catches, at the same place, for a test-and-jump instead of
// a select, a local write and a compare on every execution — in loops, on every iteration. Signatures
// stay for what has no such test: a `br_table` (a flipped index may land on any target, so the target
// checks which one the shadow index chose), a branch on a constant, and the 'exit' placement, which
// accumulates signatures. docs/hardening.md has the measured cost of both forms. In a function checked
// by this family alone, a counted loop's head is checked cheaper still, by its count at the exit
// (counted-loops.ts).
//
// Placement (`EdgePlacement`): 'entry' checks on entry (the default, as above); 'exit' instead folds
// G xor s(D) into an error accumulator on entry, without a branch, and checks the accumulator where
// values leave the function (stores, global writes, calls, returns, the end of the body) — where SWIFT
// checks data, and as YACCA and ECCA defer their checks. Both catch the same wrong edges (an effect of
// the wrong path must pass an exit); 'entry' catches them soonest; docs/hardening.md has the measured
// cost and coverage of both.
//
// Why the checks survive the optimizers: the shadow condition is computed from shadows seeded through
// the opaque zeros (opaque-zero.ts), so neither Binaryen nor V8 can relate it to the condition the
// branch tests: inside the taken arm of `if (c)` nothing is known about c', and the check stays.
//
// EDDI's memory.grow helper, which the hardening adds rather than duplicates, has its two decisions
// checked the same way, written out by hand (eddi.ts, growBody): Binaryen -O3 inlines it into the program.
//
// Works on the flat IR of a hardened function (after duplicate.ts has instrumented it, before its
// clean-up), where every condition is a local (or a constant) with a shadow local.
import binaryen, { addLocal, type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { checkDirection, hasDirection } from './branch-direction.js';
import { checkCount, type CountedLoop } from './counted-loops.js';
import { failCode } from './checks.js';
import { walkPostOrder } from './expressions.js';
import { walkWithParents, setSlot } from './rewrite.js';

const B = binaryen;

export const EDGE_PLACEMENTS = ['entry', 'exit'] as const;
/** Where the signature is checked: on entry of each destination (soonest), or at the function's exits. */
export type EdgePlacement = (typeof EDGE_PLACEMENTS)[number];

/** What the pass needs of the hardening run: shadows of conditions, and check sites. */
export interface EdgeContext {
  readonly module: Module;
  readonly fn: FunctionRef;
  readonly name: string;
  /** The shadow of a flat operand (a local.get's shadow local; a constant itself). */
  shadowOperand(operand: ExpressionRef): ExpressionRef;
  /** A new check site of family `edges` at `instruction`: its id. */
  site(instruction: ExpressionRef): number;
  /** An i32 through the opaque zero (for counted loops' checks). */
  opaque(expr: ExpressionRef): ExpressionRef;
}

/** The original code of a flat body, found before instrumentation: its conditional branches and its exits. */
export interface EdgeTargets {
  readonly branches: ReadonlySet<ExpressionRef>;
  readonly exits: ReadonlySet<ExpressionRef>;
}

const isFlatOperand = (expr: ExpressionRef): boolean => {
  const id = B.getExpressionId(expr);
  return id === B.LocalGetId || id === B.ConstId;
};

/** Finds the conditional branches (condition a local or constant) and the exits of a flat body. */
export function edgeTargets(body: ExpressionRef, name: string): EdgeTargets {
  const branches = new Set<ExpressionRef>();
  const exits = new Set<ExpressionRef>();
  walkPostOrder(body, name, (expr) => {
    const id = B.getExpressionId(expr);
    // Code of unreachable type never runs, except what is so typed because it transfers control: a return,
    // and a br_table (always of unreachable type; in flat IR its index is a local or a constant).
    if (B.getExpressionType(expr) === B.unreachable && id !== B.ReturnId && !(id === B.SwitchId && isFlatOperand(B.Switch.getCondition(expr)))) return;
    if (id === B.IfId && isFlatOperand(B.If.getCondition(expr))) branches.add(expr);
    else if (id === B.BreakId && B.Break.getCondition(expr) && !B.Break.getValue(expr) && isFlatOperand(B.Break.getCondition(expr))) branches.add(expr);
    else if (id === B.SwitchId && !B.Switch.getValue(expr) && isFlatOperand(B.Switch.getCondition(expr))) branches.add(expr);
    const isStore = id === B.StoreId || id === B.MemoryFillId || id === B.MemoryCopyId || id === B.MemoryInitId || (id === B.SIMDLoadStoreLaneId && B.SIMDLoadStoreLane.isStore(expr));
    if (isStore || id === B.GlobalSetId || id === B.CallId || id === B.CallIndirectId || id === B.ReturnId) exits.add(expr);
  });
  return { branches, exits };
}

/** A bijection of 32-bit integers (murmur3's finalizer): distinct counters give distinct signatures. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/** Adds the signatures and checks to a hardened flat function; returns the number of destinations. */
export function checkEdges(context: EdgeContext, targets: EdgeTargets, placement: EdgePlacement, counted: ReadonlyMap<ExpressionRef, CountedLoop> = new Map()): number {
  const { module: m, fn, name } = context;
  // On entry, an if's and a br_if's edges are checked by their direction (see the header), a counted
  // loop's head by its count at the exit (counted-loops.ts, where the caller found them); the rest by signatures.
  const byCount = new Set(placement === 'entry' ? [...targets.branches].filter((branch) => counted.has(branch)) : []);
  const byDirection = new Set(placement === 'entry' ? [...targets.branches].filter((branch) => !byCount.has(branch) && B.getExpressionId(branch) !== B.SwitchId && hasDirection(branch)) : []);
  const signed = new Set([...targets.branches].filter((branch) => !byDirection.has(branch) && !byCount.has(branch)));
  if (byDirection.size > 0 || byCount.size > 0) {
    const loops = new Map([...byCount].map((head) => [counted.get(head)!.loop, counted.get(head)!]));
    const countContext = { module: m, opaque: context.opaque, addLocal: () => addLocal(fn, B.i32), site: context.site };
    walkWithParents(B.Function.getBody(fn), name, (expr, parent, index) => {
      if (byDirection.has(expr)) checkDirection(context, expr, parent, index);
      const loop = loops.get(expr);
      if (loop) checkCount({ ...countContext, replaceLoop: (_, replacement) => setSlot({ fn, parent, index }, replacement) }, loop);
    });
  }
  const body = B.Function.getBody(fn);
  // Labels a signed conditional branch can take: their blocks' ends and loops' tops are destinations.
  const destinations = new Set<string>();
  for (const branch of signed) {
    const id = B.getExpressionId(branch);
    if (id === B.BreakId) destinations.add(B.Break.getName(branch));
    if (id === B.SwitchId) for (const label of [...(B.Switch.getNames(branch) as string[]), B.Switch.getDefaultName(branch) as string]) destinations.add(label);
  }
  if (signed.size === 0) return 2 * byDirection.size + byCount.size;

  let counter = 0;
  const fresh = () => mix32(++counter) || mix32(++counter);
  const labelSignature = new Map<string, number>();
  for (const label of destinations) labelSignature.set(label, fresh());

  const G = addLocal(fn, B.i32);
  const E = placement === 'exit' ? addLocal(fn, B.i32) : -1;
  const getG = () => m.local.get(G, B.i32);
  const setG = (value: ExpressionRef) => m.local.set(G, value);
  const constant = (value: number) => m.i32.const(value);
  let count = 2 * byDirection.size + byCount.size;
  /** What runs on entry of a destination of signature `s`. */
  const onEntry = (s: number, at: ExpressionRef): ExpressionRef => {
    count++;
    if (placement === 'exit') return m.local.set(E, m.i32.or(m.local.get(E, B.i32), m.i32.xor(getG(), constant(s))));
    return m.if(m.i32.ne(getG(), constant(s)), failCode(m, context.site(at)));
  };
  const wrapped = (parent: ExpressionRef, index: number, before: ExpressionRef[], expr: ExpressionRef, after: ExpressionRef[]) =>
    setSlot({ fn, parent, index }, m.block(null, [...before, expr, ...after], B.auto));

  walkWithParents(body, name, (expr, parent, index) => {
    const id = B.getExpressionId(expr);
    if (signed.has(expr)) {
      if (id === B.IfId) {
        const [sTrue, sFalse] = [fresh(), fresh()];
        B.If.setIfTrue(expr, m.block(null, [onEntry(sTrue, expr), B.If.getIfTrue(expr)], B.auto));
        const ifFalse = B.If.getIfFalse(expr);
        B.If.setIfFalse(expr, m.block(null, ifFalse ? [onEntry(sFalse, expr), ifFalse] : [onEntry(sFalse, expr)], B.auto));
        // binaryen.js: select(condition, ifTrue, ifFalse).
        wrapped(parent, index, [setG(m.select(context.shadowOperand(B.If.getCondition(expr)), constant(sTrue), constant(sFalse)))], expr, []);
      } else if (id === B.BreakId) {
        const sFall = fresh();
        const sTaken = labelSignature.get(B.Break.getName(expr))!;
        wrapped(parent, index, [setG(m.select(context.shadowOperand(B.Break.getCondition(expr)), constant(sTaken), constant(sFall)))], expr, [onEntry(sFall, expr)]);
      } else {
        // br_table: the signature of the target the shadow index chooses (indices past the table: the default).
        const index_ = context.shadowOperand(B.Switch.getCondition(expr));
        const names = B.Switch.getNames(expr) as string[];
        let signature = constant(labelSignature.get(B.Switch.getDefaultName(expr))!);
        names.forEach((label, i) => {
          signature = m.select(m.i32.eq(m.copyExpression(index_), constant(i)), constant(labelSignature.get(label)!), signature);
        });
        wrapped(parent, index, [setG(signature)], expr, []);
      }
      return;
    }
    if (id === B.BreakId && destinations.has(B.Break.getName(expr)) && !B.Break.getCondition(expr)) {
      wrapped(parent, index, [setG(constant(labelSignature.get(B.Break.getName(expr))!))], expr, []);
      return;
    }
    if (id === B.BreakId && destinations.has(B.Break.getName(expr))) {
      // A br_if to a destination that is not an original conditional branch (its condition unreachable).
      return;
    }
    if (id === B.SwitchId) {
      // A br_table left out (its index unreachable) never runs; an original one was handled above.
      return;
    }
    const label = (id === B.BlockId || id === B.LoopId) ? (B.getExpressionInfo(expr) as unknown as { name: string | null }).name : null;
    if (label && destinations.has(label)) {
      const s = labelSignature.get(label)!;
      if (id === B.LoopId) {
        B.Loop.setBody(expr, m.block(null, [onEntry(s, expr), B.Loop.getBody(expr)], B.auto));
        wrapped(parent, index, [setG(constant(s))], expr, []);
      } else {
        // The fall-through out of the block is an edge into its end too.
        (B.Block as unknown as { appendChild(block: ExpressionRef, child: ExpressionRef): number }).appendChild(expr, setG(constant(s)));
        wrapped(parent, index, [], expr, [onEntry(s, expr)]);
      }
    }
  });

  if (placement === 'exit') {
    const check = (at: ExpressionRef) => m.if(m.local.get(E, B.i32), failCode(m, context.site(at)));
    walkWithParents(B.Function.getBody(fn), name, (expr, parent, index) => {
      if (!targets.exits.has(expr)) return;
      setSlot({ fn, parent, index }, m.block(null, [check(expr), expr], B.getExpressionType(expr)));
    });
    const final = B.Function.getBody(fn);
    const type = B.getExpressionType(final);
    if (type === B.none) B.Function.setBody(fn, m.block(null, [final, check(final)], B.none));
    else if (type !== B.unreachable) {
      const result = addLocal(fn, type);
      B.Function.setBody(fn, m.block(null, [m.local.set(result, final), check(final), m.local.get(result, type)], type));
    }
  }
  return count;
}

