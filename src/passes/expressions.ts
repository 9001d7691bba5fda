// Structural access to Binaryen expressions for our passes: the children of any expression in
// evaluation order, and a bounded depth-first walk. Binaryen's C++ walkers are not exposed to
// JavaScript, so this table is what lets a pass written here visit every instruction of a function.
// An expression kind missing from the table is a feature the passes do not support: walking it
// fails with an error naming the function and the kind, rather than silently skipping code.
import binaryen, { type ExpressionRef } from './binaryen.js';

const B = binaryen;

type ChildReader = (expr: ExpressionRef) => ExpressionRef[];

const nonNull = (refs: ExpressionRef[]): ExpressionRef[] => refs.filter((ref) => ref !== 0);

const CHILDREN = new Map<number, ChildReader>([
  [B.BlockId, (e) => B.Block.getChildren(e)],
  [B.IfId, (e) => nonNull([B.If.getCondition(e), B.If.getIfTrue(e), B.If.getIfFalse(e)])],
  [B.LoopId, (e) => [B.Loop.getBody(e)]],
  [B.BreakId, (e) => nonNull([B.Break.getValue(e), B.Break.getCondition(e)])],
  [B.SwitchId, (e) => nonNull([B.Switch.getValue(e), B.Switch.getCondition(e)])],
  [B.CallId, (e) => B.Call.getOperands(e)],
  [B.CallIndirectId, (e) => [...B.CallIndirect.getOperands(e), B.CallIndirect.getTarget(e)]],
  [B.LocalGetId, () => []],
  [B.LocalSetId, (e) => [B.LocalSet.getValue(e)]],
  [B.GlobalGetId, () => []],
  [B.GlobalSetId, (e) => [B.GlobalSet.getValue(e)]],
  [B.LoadId, (e) => [B.Load.getPtr(e)]],
  [B.StoreId, (e) => [B.Store.getPtr(e), B.Store.getValue(e)]],
  [B.ConstId, () => []],
  [B.UnaryId, (e) => [B.Unary.getValue(e)]],
  [B.BinaryId, (e) => [B.Binary.getLeft(e), B.Binary.getRight(e)]],
  [B.SelectId, (e) => [B.Select.getIfTrue(e), B.Select.getIfFalse(e), B.Select.getCondition(e)]],
  [B.DropId, (e) => [B.Drop.getValue(e)]],
  [B.ReturnId, (e) => nonNull([B.Return.getValue(e)])],
  [B.MemorySizeId, () => []],
  [B.MemoryGrowId, (e) => [B.MemoryGrow.getDelta(e)]],
  [B.NopId, () => []],
  [B.UnreachableId, () => []],
  [B.SIMDExtractId, (e) => [B.SIMDExtract.getVec(e)]],
  [B.SIMDReplaceId, (e) => [B.SIMDReplace.getVec(e), B.SIMDReplace.getValue(e)]],
  [B.SIMDShuffleId, (e) => [B.SIMDShuffle.getLeft(e), B.SIMDShuffle.getRight(e)]],
  [B.SIMDTernaryId, (e) => [B.SIMDTernary.getA(e), B.SIMDTernary.getB(e), B.SIMDTernary.getC(e)]],
  [B.SIMDShiftId, (e) => [B.SIMDShift.getVec(e), B.SIMDShift.getShift(e)]],
  [B.SIMDLoadId, (e) => [B.SIMDLoad.getPtr(e)]],
  [B.SIMDLoadStoreLaneId, (e) => [B.SIMDLoadStoreLane.getPtr(e), B.SIMDLoadStoreLane.getVec(e)]],
  [B.MemoryInitId, (e) => [B.MemoryInit.getDest(e), B.MemoryInit.getOffset(e), B.MemoryInit.getSize(e)]],
  [B.DataDropId, () => []],
  [B.MemoryCopyId, (e) => [B.MemoryCopy.getDest(e), B.MemoryCopy.getSource(e), B.MemoryCopy.getSize(e)]],
  [B.MemoryFillId, (e) => [B.MemoryFill.getDest(e), B.MemoryFill.getValue(e), B.MemoryFill.getSize(e)]],
  [B.TupleMakeId, (e) => B.TupleMake.getOperands(e)],
  [B.TupleExtractId, (e) => [B.TupleExtract.getTuple(e)]],
]);

/** Names of expression ids, for error messages. */
const ID_NAMES = new Map<number, string>(
  Object.entries(B)
    .filter(([key, value]) => key.endsWith('Id') && typeof value === 'number' && key !== 'InvalidId')
    .map(([key, value]) => [value as number, key.slice(0, -2)]),
);

export function expressionKindName(expr: ExpressionRef): string {
  return ID_NAMES.get(B.getExpressionId(expr)) ?? `expression #${B.getExpressionId(expr)}`;
}

export class UnsupportedExpressionError extends Error {
  constructor(
    readonly functionName: string,
    readonly kind: string,
  ) {
    super(`function ${functionName}: the ${kind} instruction is not supported by lockstep's module passes`);
  }
}

export function childrenOf(expr: ExpressionRef, functionName: string): ExpressionRef[] {
  const reader = CHILDREN.get(B.getExpressionId(expr));
  if (!reader) throw new UnsupportedExpressionError(functionName, expressionKindName(expr));
  return reader(expr);
}

/** Structured control flow: the constructs that delimit regions rather than execute as instructions. */
export function isStructural(expr: ExpressionRef): boolean {
  const id = B.getExpressionId(expr);
  return id === B.BlockId || id === B.LoopId || id === B.IfId;
}

/** Bound on expression-tree size walked per function: a guard against a cyclic (corrupted) IR. */
export const MAX_EXPRESSIONS_PER_FUNCTION = 50_000_000;

/**
 * Visits every expression under `root` in evaluation order (children before parent, post-order), with an
 * explicit stack so that deep trees cannot overflow the JavaScript stack.
 */
export function walkPostOrder(root: ExpressionRef, functionName: string, visit: (expr: ExpressionRef) => void): void {
  const stack: Array<{ expr: ExpressionRef; children: ExpressionRef[] | null; next: number }> = [
    { expr: root, children: null, next: 0 },
  ];
  let visited = 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.children === null) top.children = childrenOf(top.expr, functionName);
    if (top.next < top.children.length) {
      stack.push({ expr: top.children[top.next++], children: null, next: 0 });
      continue;
    }
    stack.pop();
    visit(top.expr);
    if (++visited > MAX_EXPRESSIONS_PER_FUNCTION) {
      throw new Error(`function ${functionName}: more than ${MAX_EXPRESSIONS_PER_FUNCTION} expressions`);
    }
  }
}

/** Every function of the module that has a body (imports have none). */
export function definedFunctions(module: InstanceType<typeof binaryen.Module>): number[] {
  const result: number[] = [];
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const fn = module.getFunctionByIndex(i);
    if (!B.getFunctionInfo(fn).module) result.push(fn);
  }
  return result;
}
