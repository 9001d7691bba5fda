// counted-loops: a cheaper control-flow check for counted loops, for functions checked by the `edges`
// family alone (selective hardening's first level; cfc.ts calls it). The head decision of a loop
//
//   loop $L { c = i < n; if (c) { body; i = i + 1; br $L } }      (AssemblyScript's and Binaryen's `for`)
//
// would be checked by its direction on every iteration (branch-direction.ts), which needs the shadow
// of the induction variable and of the condition computed on every iteration, and a test. Instead, the
// loop's exit checks the count once: the value of i on entry (e) is kept, and the exit arm checks
// i = max(e, n) — the only value i can have when the loop leaves by its condition, since i grows by
// exactly one per iteration from e. An inverted head decision shows as a wrong count: leaving early
// exits with i < max(e, n); going round once more runs the body with i = max(e, n) (no call, no return,
// no branch out of the body, so nothing leaves the cycle from it), then leaves with i one too many. Both
// are caught at the exit, before anything after the loop runs; a count that wraps around runs until
// the watchdog stops it. Nothing is computed per iteration, and the shadows of i and c go unread (the
// duplication engine then drops them).
//
// What a counted loop is, checked on the flat IR before instrumentation (every operand a local or a
// constant): the loop's body is local.sets without control flow or calls, then an `if` without else
// whose condition is i32.lt_s or i32.lt_u of i and a constant or a local the loop never writes (through
// copies of locals); the if's arm ends in `br $L` after the one write of i in the arm, i + 1 (through
// copies), and nothing else in the arm writes i, calls, grows memory, returns or branches to a label
// outside itself. Anything else keeps the direction check.
//
// Why it survives the optimizers: e is i passed through the opaque zero (opaque-zero.ts), so neither
// Binaryen nor V8 can know the expected count even where they know i's range (V8 types a loop's
// induction variable, and could otherwise prove i = n at the exit and delete the check).
//
// Only where no data is checked: with the data families on, i's shadow is computed anyway (addresses
// are checked), the direction check costs one test, and it also catches a corrupted i that the count
// misses (a count set back runs again to the same exit value).
import binaryen, { localGetIndex, type ExpressionRef, type Module } from './binaryen.js';
import { failCode } from './checks.js';
import { childrenOf, walkPostOrder } from './expressions.js';

const B = binaryen;

/** A counted loop found in a flat body: its head `if`, the loop, the induction variable and the bound. */
export interface CountedLoop {
  readonly head: ExpressionRef;
  readonly loop: ExpressionRef;
  /** The induction variable's local. */
  readonly local: number;
  /** The bound: a constant, or a local the loop never writes. */
  readonly bound: { readonly constant: number } | { readonly local: number };
  readonly unsigned: boolean;
}

/** Statements of a flat sequence: an unnamed block's children without trailing `unreachable`s, unwrapped while one block is left. */
function statements(expr: ExpressionRef): ExpressionRef[] {
  let list = [expr];
  for (;;) {
    if (list.length !== 1) return list;
    const only = list[0];
    if (B.getExpressionId(only) !== B.BlockId || B.Block.getName(only)) return list;
    list = childrenOf(only, '');
    while (list.length > 0 && B.getExpressionId(list[list.length - 1]) === B.UnreachableId) list.pop();
  }
}

const isLocalGet = (expr: ExpressionRef) => B.getExpressionId(expr) === B.LocalGetId;

/** The statement of `list` before `at` that last wrote `local`, if a local.set of it at the top level; null if one nested deeper did; 'none' if none did. */
function definition(list: readonly ExpressionRef[], at: number, local: number): { index: number; value: ExpressionRef } | 'none' | null {
  for (let k = at - 1; k >= 0; k--) {
    const statement = list[k];
    if (!writes(statement, local)) continue;
    if (B.getExpressionId(statement) === B.LocalSetId && (B.LocalSet.getIndex(statement) as number) === local) return { index: k, value: B.LocalSet.getValue(statement) };
    return null;
  }
  return 'none';
}

/**
 * What a flat operand holds just before statement `at` of `list`, through copies of locals: a value
 * computed in the list (and where), or a local as it was when the list began (not written before).
 */
type Resolved = { value: ExpressionRef; index: number } | { local: number } | null;
function resolve(list: readonly ExpressionRef[], at: number, operand: ExpressionRef): Resolved {
  let expr = operand;
  let point = at;
  while (isLocalGet(expr)) {
    const local = localGetIndex(expr);
    const def = definition(list, point, local);
    if (def === null) return null;
    if (def === 'none') return { local };
    expr = def.value;
    point = def.index;
  }
  return { value: expr, index: point };
}

/** Whether `expr` writes `local` anywhere within it. */
function writes(expr: ExpressionRef, local: number): boolean {
  let found = false;
  walkPostOrder(expr, '', (inner) => {
    if (B.getExpressionId(inner) === B.LocalSetId && (B.LocalSet.getIndex(inner) as number) === local) found = true;
  });
  return found;
}

/**
 * Whether `expr` stays within itself: no call, memory.grow or return, and every branch to a label it
 * defines. An `unreachable` (a trap) is allowed: the cycle stops.
 */
function selfContained(expr: ExpressionRef): boolean {
  const labels = new Set<string>();
  let contained = true;
  walkPostOrder(expr, '', (inner) => {
    const id = B.getExpressionId(inner);
    if (id === B.BlockId || id === B.LoopId) {
      const name = (B.getExpressionInfo(inner) as unknown as { name: string | null }).name;
      if (name) labels.add(name);
    }
  });
  walkPostOrder(expr, '', (inner) => {
    const id = B.getExpressionId(inner);
    if (id === B.CallId || id === B.CallIndirectId || id === B.ReturnId || id === B.MemoryGrowId) contained = false;
    else if (id === B.BreakId && !labels.has(B.Break.getName(inner))) contained = false;
    else if (id === B.SwitchId && [...(B.Switch.getNames(inner) as string[]), B.Switch.getDefaultName(inner) as string].some((label) => !labels.has(label))) contained = false;
    else if (id === B.TryId || id === B.ThrowId || id === B.RethrowId) contained = false;
  });
  return contained;
}

/** Whether `value` (flat) is free of control flow and calls: what a local.set of the loop's head may compute. */
function plainValue(value: ExpressionRef): boolean {
  let plain = true;
  walkPostOrder(value, '', (inner) => {
    const id = B.getExpressionId(inner);
    if (id === B.BlockId || id === B.LoopId || id === B.IfId || id === B.BreakId || id === B.SwitchId || id === B.CallId || id === B.CallIndirectId || id === B.ReturnId || id === B.MemoryGrowId || id === B.UnreachableId) plain = false;
  });
  return plain;
}

/** The counted loop whose head is `loop`'s last statement, or null. */
function countedLoop(loop: ExpressionRef): CountedLoop | null {
  const label = B.Loop.getName(loop);
  if (!label) return null;
  const head = statements(B.Loop.getBody(loop));
  const at = head.length - 1;
  const branch = head[at];
  if (!branch || B.getExpressionId(branch) !== B.IfId || B.If.getIfFalse(branch) || !isLocalGet(B.If.getCondition(branch))) return null;
  const before = head.slice(0, at);
  if (!before.every((statement) => B.getExpressionId(statement) === B.LocalSetId && plainValue(B.LocalSet.getValue(statement)))) return null;
  const condition = resolve(head, at, B.If.getCondition(branch));
  if (!condition || !('value' in condition) || B.getExpressionId(condition.value) !== B.BinaryId) return null;
  const op = B.Binary.getOp(condition.value);
  if (op !== B.LtSInt32 && op !== B.LtUInt32) return null;
  const left = B.Binary.getLeft(condition.value);
  const induction = isLocalGet(left) ? resolve(head, condition.index, left) : null;
  if (!induction || !('local' in induction)) return null;
  const i = induction.local;
  // Nothing before the branch writes i: the condition tested i as the loop's iteration found it.
  if (before.some((statement) => writes(statement, i))) return null;
  const right = B.Binary.getRight(condition.value);
  let bound: CountedLoop['bound'];
  if (B.getExpressionId(right) === B.ConstId) bound = { constant: (B.getExpressionInfo(right) as unknown as { value: number }).value | 0 };
  else {
    const n = isLocalGet(right) ? resolve(head, condition.index, right) : null;
    if (!n || !('local' in n) || n.local === i || writes(loop, n.local)) return null;
    bound = { local: n.local };
  }

  // The arm: self-contained statements, the one write of i (i + 1, through copies), then `br $L`.
  const arm = statements(B.If.getIfTrue(branch));
  const last = arm[arm.length - 1];
  if (!last || B.getExpressionId(last) !== B.BreakId || B.Break.getName(last) !== label || B.Break.getCondition(last) || B.Break.getValue(last)) return null;
  const body = arm.slice(0, -1);
  const increments = body.flatMap((statement, k) => (writes(statement, i) ? [k] : []));
  if (increments.length !== 1) return null;
  const k = increments[0];
  const step = body[k];
  if (B.getExpressionId(step) !== B.LocalSetId || (B.LocalSet.getIndex(step) as number) !== i) return null;
  const sum = resolve(body, k, B.LocalSet.getValue(step));
  if (!sum || !('value' in sum) || B.getExpressionId(sum.value) !== B.BinaryId || B.Binary.getOp(sum.value) !== B.AddInt32) return null;
  const one = B.Binary.getRight(sum.value);
  if (B.getExpressionId(one) !== B.ConstId || (B.getExpressionInfo(one) as unknown as { value: number }).value !== 1) return null;
  const addend = B.Binary.getLeft(sum.value);
  const from = isLocalGet(addend) ? resolve(body, sum.index, addend) : null;
  // i + 1 of i as the iteration began (i is written in the arm only by this step, after it).
  if (!from || !('local' in from) || from.local !== i) return null;
  if (!body.every(selfContained)) return null;
  return { head: branch, loop, local: i, bound, unsigned: op === B.LtUInt32 };
}

/** The counted loops of a flat body (before instrumentation), by their head `if`. */
export function countedLoops(body: ExpressionRef, name: string): Map<ExpressionRef, CountedLoop> {
  const found = new Map<ExpressionRef, CountedLoop>();
  walkPostOrder(body, name, (expr) => {
    if (B.getExpressionId(expr) !== B.LoopId || B.getExpressionType(expr) === B.unreachable) return;
    const counted = countedLoop(expr);
    if (counted) found.set(counted.head, counted);
  });
  return found;
}

export interface CountContext {
  readonly module: Module;
  /** `expr` (an i32) through the opaque zero. */
  opaque(expr: ExpressionRef): ExpressionRef;
  /** A new i32 local of the function. */
  addLocal(): number;
  /** A new check site (family `edges`) at `instruction`: its id. */
  site(instruction: ExpressionRef): number;
  /** Replaces the loop in its parent (a block keeping it in place). */
  replaceLoop(loop: ExpressionRef, replacement: ExpressionRef): void;
}

/** Checks a counted loop's head decision by its count at the exit (see the header). */
export function checkCount(context: CountContext, counted: CountedLoop): void {
  const m = context.module;
  const entry = context.addLocal();
  const i = () => m.local.get(counted.local, B.i32);
  const e = () => m.local.get(entry, B.i32);
  const bound = () => ('constant' in counted.bound ? m.i32.const(counted.bound.constant) : m.local.get(counted.bound.local, B.i32));
  const past = counted.unsigned ? m.i32.ge_u(e(), bound()) : m.i32.ge_s(e(), bound());
  // binaryen.js: select(condition, ifTrue, ifFalse).
  const expected = m.select(past, e(), bound());
  B.If.setIfFalse(counted.head, m.if(m.i32.ne(i(), expected), failCode(m, context.site(counted.head))));
  context.replaceLoop(counted.loop, m.block(null, [m.local.set(entry, context.opaque(i())), counted.loop], B.getExpressionType(counted.loop)));
}
