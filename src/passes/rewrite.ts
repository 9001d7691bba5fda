// In-place rewriting of Binaryen expression trees for our passes: replace the child of any expression
// by position, and walk a function with each expression's parent and position, in evaluation order.
// A position is an index into `childrenOf(parent)` (expressions.ts), which lists children in the order
// they are evaluated and leaves out absent optional children (an `if` without else, a `br` without a
// value or condition, a `return` without a value), so that "the i-th child" means the same thing to
// the walker, to `childrenOf` and to `replaceChild`. Passes that wrap instructions (fault hooks, later
// EDDI and SWIFT) replace a child by a block that evaluates it and does more, which keeps evaluation
// order as long as the wrapper evaluates the child where the child stood.
//
// Binaryen's setters do not recompute types: a replacement must have the type of the child it replaces
// (a block of the same type wrapping the child is the usual replacement), or the caller must refinalize.
import binaryen, { type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { childrenOf, expressionKindName, MAX_EXPRESSIONS_PER_FUNCTION } from './expressions.js';

const B = binaryen;

type ChildWriter = (parent: ExpressionRef, index: number, replacement: ExpressionRef) => boolean;

/** Writes slot `index` among the slots listed (in evaluation order), skipping absent optional ones. */
function optionalSlots(...slots: Array<[get: (e: ExpressionRef) => ExpressionRef, set: (e: ExpressionRef, r: ExpressionRef) => void]>): ChildWriter {
  return (parent, index, replacement) => {
    let position = 0;
    for (const [get, set] of slots) {
      if (get(parent) === 0) continue;
      if (position++ === index) {
        set(parent, replacement);
        return true;
      }
    }
    return false;
  };
}

/** Writes slot `index` among fixed slots. */
function fixedSlots(...setters: Array<(e: ExpressionRef, r: ExpressionRef) => void>): ChildWriter {
  return (parent, index, replacement) => {
    const set = setters[index];
    if (!set) return false;
    set(parent, replacement);
    return true;
  };
}

/** Writes operand `index` of a list-of-operands expression. */
function operandSlots(count: (e: ExpressionRef) => number, setAt: (e: ExpressionRef, i: number, r: ExpressionRef) => void): ChildWriter {
  return (parent, index, replacement) => {
    if (index >= count(parent)) return false;
    setAt(parent, index, replacement);
    return true;
  };
}

const none: ChildWriter = () => false;

/** The writer of every kind in expressions.ts's CHILDREN table, slot for slot in the same order. */
const WRITERS = new Map<number, ChildWriter>([
  [B.BlockId, operandSlots((e) => B.Block.getNumChildren(e), (e, i, r) => B.Block.setChildAt(e, i, r))],
  [B.IfId, optionalSlots([B.If.getCondition, B.If.setCondition], [B.If.getIfTrue, B.If.setIfTrue], [B.If.getIfFalse, B.If.setIfFalse])],
  [B.LoopId, fixedSlots(B.Loop.setBody)],
  [B.BreakId, optionalSlots([B.Break.getValue, B.Break.setValue], [B.Break.getCondition, B.Break.setCondition])],
  [B.SwitchId, optionalSlots([B.Switch.getValue, B.Switch.setValue], [B.Switch.getCondition, B.Switch.setCondition])],
  [B.CallId, operandSlots((e) => B.Call.getNumOperands(e), (e, i, r) => B.Call.setOperandAt(e, i, r))],
  [
    B.CallIndirectId,
    (parent, index, replacement) => {
      const operands = B.CallIndirect.getNumOperands(parent) as number;
      if (index < operands) B.CallIndirect.setOperandAt(parent, index, replacement);
      else if (index === operands) B.CallIndirect.setTarget(parent, replacement);
      else return false;
      return true;
    },
  ],
  [B.LocalGetId, none],
  [B.LocalSetId, fixedSlots(B.LocalSet.setValue)],
  [B.GlobalGetId, none],
  [B.GlobalSetId, fixedSlots(B.GlobalSet.setValue)],
  [B.LoadId, fixedSlots(B.Load.setPtr)],
  [B.StoreId, fixedSlots(B.Store.setPtr, B.Store.setValue)],
  [B.ConstId, none],
  [B.UnaryId, fixedSlots(B.Unary.setValue)],
  [B.BinaryId, fixedSlots(B.Binary.setLeft, B.Binary.setRight)],
  [B.SelectId, fixedSlots(B.Select.setIfTrue, B.Select.setIfFalse, B.Select.setCondition)],
  [B.DropId, fixedSlots(B.Drop.setValue)],
  [B.ReturnId, optionalSlots([B.Return.getValue, B.Return.setValue])],
  [B.MemorySizeId, none],
  [B.MemoryGrowId, fixedSlots(B.MemoryGrow.setDelta)],
  [B.NopId, none],
  [B.UnreachableId, none],
  [B.SIMDExtractId, fixedSlots(B.SIMDExtract.setVec)],
  [B.SIMDReplaceId, fixedSlots(B.SIMDReplace.setVec, B.SIMDReplace.setValue)],
  [B.SIMDShuffleId, fixedSlots(B.SIMDShuffle.setLeft, B.SIMDShuffle.setRight)],
  [B.SIMDTernaryId, fixedSlots(B.SIMDTernary.setA, B.SIMDTernary.setB, B.SIMDTernary.setC)],
  [B.SIMDShiftId, fixedSlots(B.SIMDShift.setVec, B.SIMDShift.setShift)],
  [B.SIMDLoadId, fixedSlots(B.SIMDLoad.setPtr)],
  [B.SIMDLoadStoreLaneId, fixedSlots(B.SIMDLoadStoreLane.setPtr, B.SIMDLoadStoreLane.setVec)],
  [B.MemoryInitId, fixedSlots(B.MemoryInit.setDest, B.MemoryInit.setOffset, B.MemoryInit.setSize)],
  [B.DataDropId, none],
  [B.MemoryCopyId, fixedSlots(B.MemoryCopy.setDest, B.MemoryCopy.setSource, B.MemoryCopy.setSize)],
  [B.MemoryFillId, fixedSlots(B.MemoryFill.setDest, B.MemoryFill.setValue, B.MemoryFill.setSize)],
  [B.TupleMakeId, operandSlots((e) => B.TupleMake.getNumOperands(e), (e, i, r) => B.TupleMake.setOperandAt(e, i, r))],
  [B.TupleExtractId, fixedSlots(B.TupleExtract.setTuple)],
]);

/** The expression kinds `replaceChild` knows: the same as `childrenOf`'s. */
export const REWRITABLE_KINDS: ReadonlySet<number> = new Set(WRITERS.keys());

/**
 * Replaces the child at `index` of `parent` (its position in `childrenOf(parent)`, evaluation order) by
 * `replacement`. Throws a RangeError for a position the expression does not have, and an Error for a
 * kind lockstep's passes do not support.
 */
export function replaceChild(parent: ExpressionRef, index: number, replacement: ExpressionRef): void {
  const writer = WRITERS.get(B.getExpressionId(parent));
  if (!writer) throw new Error(`replaceChild: the ${expressionKindName(parent)} instruction is not supported by lockstep's module passes`);
  if (!Number.isInteger(index) || index < 0 || !writer(parent, index, replacement)) {
    throw new RangeError(`replaceChild: ${expressionKindName(parent)} has no child at position ${index}`);
  }
}

/** The root of a function body has no parent: this stands for it, with position -1. */
export const NO_PARENT = 0;

/**
 * A place an expression stands in a function: a child position of a parent, or the function's body.
 * Reading it gives what stands there now, which may be a wrapper put in place since the walk.
 */
export interface Slot {
  readonly fn: FunctionRef;
  readonly parent: ExpressionRef;
  readonly index: number;
}

export function slotContent(slot: Slot, functionName = ''): ExpressionRef {
  if (slot.parent === NO_PARENT) return B.getFunctionInfo(slot.fn).body;
  const children = childrenOf(slot.parent, functionName);
  if (slot.index < 0 || slot.index >= children.length) throw new RangeError(`${expressionKindName(slot.parent)} has no child at position ${slot.index}`);
  return children[slot.index];
}

export function setSlot(slot: Slot, replacement: ExpressionRef): void {
  if (slot.parent === NO_PARENT) B.Function.setBody(slot.fn, replacement);
  else replaceChild(slot.parent, slot.index, replacement);
}

/**
 * Replaces what stands in `slot` by `wrap(it)`: the way to put code around an expression that earlier
 * rewrites may already have wrapped.
 */
export function wrapSlot(slot: Slot, wrap: (current: ExpressionRef) => ExpressionRef, functionName = ''): void {
  setSlot(slot, wrap(slotContent(slot, functionName)));
}

/**
 * Visits every expression under `root` in evaluation order (children before parent, post-order) with
 * its parent and its position among the parent's children (`NO_PARENT` and -1 for the root), with an
 * explicit stack and the same bound as walkPostOrder. The children of an expression are read before
 * the first of them is visited, so `visit` may replace the expression it is given in its parent
 * (`replaceChild(parent, index, wrapper)`); it must not change expressions not yet visited.
 */
export function walkWithParents(
  root: ExpressionRef,
  functionName: string,
  visit: (expr: ExpressionRef, parent: ExpressionRef, index: number) => void,
): void {
  const stack: Array<{ expr: ExpressionRef; parent: ExpressionRef; index: number; children: ExpressionRef[] | null; next: number }> = [
    { expr: root, parent: NO_PARENT, index: -1, children: null, next: 0 },
  ];
  let visited = 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.children === null) top.children = childrenOf(top.expr, functionName);
    if (top.next < top.children.length) {
      const index = top.next++;
      stack.push({ expr: top.children[index], parent: top.expr, index, children: null, next: 0 });
      continue;
    }
    stack.pop();
    visit(top.expr, top.parent, top.index);
    if (++visited > MAX_EXPRESSIONS_PER_FUNCTION) {
      throw new Error(`function ${functionName}: more than ${MAX_EXPRESSIONS_PER_FUNCTION} expressions`);
    }
  }
}

/**
 * A block that evaluates `expr` where it stood and yields its value: the identity rewrite, and the
 * shape of every wrapper (`before` runs first, then `expr`).
 */
export function blockAround(module: Module, expr: ExpressionRef, before: ExpressionRef[] = []): ExpressionRef {
  return module.block(null, [...before, expr], B.getExpressionType(expr));
}
