// branch-direction: how the hardening passes (duplicate.ts) check the decision of an `if` or a `br_if`
// (the `branches` family): in the successor the branch took, against the way the shadow condition goes,
// instead of comparing the condition with its shadow before the branch.
//
//   if (c) A else B   →  if (c) { if (!c') fail; A } else { if (c') fail; B }
//   br_if L (c)       →  if (c) { if (!c') fail; br L } else { if (c') fail }
//
// Why: what a branch's check must catch is a wrong decision, and a decision depends only on whether its
// condition is zero. A condition that differs from its shadow but goes the same way (2 against 3) changes
// nothing the branch does, and every other use of the value has a check of its own. The check in each arm
// tests the shadow alone, a test-and-jump the compiler fuses, where comparing c with c' needs both as
// values (each a materialized comparison result in the typical `c = x < y`) and a compare of the two on
// every execution, in the hottest place of most programs: a loop's back edge. docs/hardening.md has the
// measured cost of both forms.
//
// It also catches more: a fault that inverts the decision itself (the branch target of the fault model)
// enters the arm the shadow condition did not choose, and fails there, before any instruction of the
// wrong path. Control-flow checking (cfc.ts) checks the `if`s and `br_if`s of the `edges` family with
// this same transformation, its sites counted as edges; where that family is on in a function, the
// `branches` family leaves them to it (duplicate.ts).
//
// Works on flat IR: the condition is a local with a shadow local (a constant one needs no check).
import binaryen, { type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { failCode } from './checks.js';
import { setSlot } from './rewrite.js';

const B = binaryen;

export interface DirectionContext {
  readonly module: Module;
  readonly fn: FunctionRef;
  /** The shadow of a flat operand. */
  shadowOperand(operand: ExpressionRef): ExpressionRef;
  /** A new check site (family `branches`) at `instruction`: its id. */
  site(instruction: ExpressionRef): number;
}

/** Whether `expr` is an `if` or a value-less `br_if` that runs and whose condition is a local. */
export function hasDirection(expr: ExpressionRef): boolean {
  if (B.getExpressionType(expr) === B.unreachable) return false;
  const id = B.getExpressionId(expr);
  let condition: ExpressionRef = 0;
  if (id === B.IfId) condition = B.If.getCondition(expr);
  else if (id === B.BreakId && !B.Break.getValue(expr)) condition = B.Break.getCondition(expr);
  return !!condition && B.getExpressionId(condition) === B.LocalGetId;
}

/** Checks the decision of `expr` (hasDirection) in its successors; `parent`/`index`: its slot. */
export function checkDirection(context: DirectionContext, expr: ExpressionRef, parent: ExpressionRef, index: number): void {
  const m = context.module;
  const isIf = B.getExpressionId(expr) === B.IfId;
  const condition = isIf ? B.If.getCondition(expr) : B.Break.getCondition(expr);
  const site = context.site(expr);
  const taken = () => m.if(m.i32.eqz(context.shadowOperand(condition)), failCode(m, site));
  const notTaken = () => m.if(context.shadowOperand(condition), failCode(m, site));
  if (isIf) {
    B.If.setIfTrue(expr, m.block(null, [taken(), B.If.getIfTrue(expr)], B.auto));
    const ifFalse = B.If.getIfFalse(expr);
    B.If.setIfFalse(expr, m.block(null, ifFalse ? [notTaken(), ifFalse] : [notTaken()], B.auto));
    return;
  }
  const br = m.br(B.Break.getName(expr));
  setSlot({ fn: context.fn, parent, index }, m.if(m.copyExpression(condition), m.block(null, [taken(), br], B.auto), notTaken()));
}
