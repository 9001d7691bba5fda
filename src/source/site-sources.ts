// Which function, file and line each fault-hook site stands for: what lets a campaign say which function
// of the flight software is vulnerable, and replay name the line a flip struck.
//
// A site id of the hooked build (fault-hooks.ts) names the k-th site of a function in the pass's order.
// The same function of the module as compiled has the same sites in the same order (the instrumentation
// before the hooks adds none: they are excluded by name), so `sitesOf` on the unchanged module finds
// the expression. Its byte offset in the binary — what DWARF and source maps are keyed by — is not
// something Binaryen's JavaScript API tells, so the function's body is walked in the order a binary
// lists instructions (operands first; an `if` after its condition, before its arms) and paired, class by
// class, with the instructions decoded from the body (wasm-binary.ts). A function where the two
// disagree in number gets no lines rather than wrong ones.
import binaryen, { type ExpressionRef } from '../passes/binaryen.js';
import { childrenOf, definedFunctions } from '../passes/expressions.js';
import { sitesOf, type FaultSite } from '../passes/fault-hooks.js';
import { readModule } from '../passes/index.js';
import { sourceLinesOf, type SourceLine, type SourceLines } from './source-lines.js';
import { classifiedInstructions, codeSectionOf, type InstructionClass } from '../passes/wasm-binary.js';

const B = binaryen;

export interface SiteSource {
  /** The function the site is in (the name section's name, or Binaryen's index name). */
  readonly function: string;
  /** The source file and line of the instruction, when the module carries them. */
  readonly file?: string;
  readonly line?: number;
}

const SIMD_IDS: ReadonlySet<number> = new Set([
  B.SIMDExtractId, B.SIMDReplaceId, B.SIMDShuffleId, B.SIMDTernaryId, B.SIMDShiftId, B.SIMDLoadId, B.SIMDLoadStoreLaneId,
]);

/** The class an expression's own instruction has in the binary, or null for one no site can be. */
function classOf(expr: ExpressionRef, functionName: string): InstructionClass | null {
  const id = B.getExpressionId(expr);
  if (SIMD_IDS.has(id)) return 'simd';
  const v128 = () => B.getExpressionType(expr) === B.v128 || childrenOf(expr, functionName).some((child) => B.getExpressionType(child) === B.v128);
  switch (id) {
    case B.IfId: return 'if';
    case B.BreakId: return B.Break.getCondition(expr) ? 'br_if' : null;
    case B.SwitchId: return 'br_table';
    case B.SelectId: return 'select';
    case B.CallId:
    case B.CallIndirectId: return 'call';
    case B.LoadId: return v128() ? 'simd' : 'load';
    case B.StoreId: return v128() ? 'simd' : null;
    case B.UnaryId:
    case B.BinaryId: return v128() ? 'simd' : 'op';
    case B.MemorySizeId: return 'memory.size';
    case B.MemoryGrowId: return 'memory.grow';
    default: return null;
  }
}

/** The classed expressions of a body in the order of the binary: operands first, an `if` before its arms. */
function inBinaryOrder(body: ExpressionRef, functionName: string): Array<{ expr: ExpressionRef; kind: InstructionClass }> {
  const order: Array<{ expr: ExpressionRef; kind: InstructionClass }> = [];
  type Item = { expr: ExpressionRef; emit: boolean };
  const stack: Item[] = [{ expr: body, emit: false }];
  // Bounded: each expression is expanded once and emitted once.
  while (stack.length > 0) {
    const { expr, emit } = stack.pop()!;
    const kind = classOf(expr, functionName);
    if (emit) {
      if (kind) order.push({ expr, kind });
      continue;
    }
    const children = childrenOf(expr, functionName);
    const items: Item[] =
      B.getExpressionId(expr) === B.IfId
        ? [{ expr: children[0], emit: false }, { expr, emit: true }, ...children.slice(1).map((child) => ({ expr: child, emit: false }))]
        : [...children.map((child) => ({ expr: child, emit: false })), { expr, emit: true }];
    for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]);
  }
  return order;
}

/** The byte offset of each site expression of `fn`, by its position in `sitesOf`; null when the pairing fails. */
function siteOffsets(fn: number, instructions: ReturnType<typeof classifiedInstructions>): Array<number | null> {
  const { name, body } = B.getFunctionInfo(fn);
  const sites = sitesOf(body, name);
  const ordered = inBinaryOrder(body, name);
  if (ordered.length !== instructions.length) return sites.map(() => null);
  const offsets = new Map<ExpressionRef, number>();
  for (let i = 0; i < ordered.length; i++) {
    if (ordered[i].kind !== instructions[i].kind) return sites.map(() => null);
    offsets.set(ordered[i].expr, instructions[i].offset);
  }
  return sites.map((site) => offsets.get(site.expr) ?? null);
}

/**
 * The function and, where the module has line information, the source line of each site of a hooked
 * build of `bytes` (`sites`, the fault-hooks report of that build), by site id. `path` is where the module
 * was read from: a source map is looked for beside it.
 */
export function siteSourcesOf(
  bytes: Uint8Array,
  path: string | null,
  sites: readonly FaultSite[],
): { sites: SiteSource[]; lines: SourceLines['kind'] | null; functions: Map<string, SourceLine> } {
  const lines = sourceLinesOf(bytes, path);
  const names = { sites: sites.map((site) => ({ function: site.function })), lines: null, functions: new Map<string, SourceLine>() };
  if (!lines) return names;
  const code = codeSectionOf(bytes);
  if (!code) return names;
  const module = readModule(bytes, path ?? 'module');
  try {
    const functions = definedFunctions(module);
    if (functions.length !== code.bodies.length) return names;
    const byName = new Map<string, Array<number | null>>();
    // Where each function begins: the first line of its body (its declaration's, for clang's prologue).
    const places = new Map<string, SourceLine>();
    functions.forEach((fn, i) => {
      const { name } = B.getFunctionInfo(fn);
      byName.set(name, siteOffsets(fn, classifiedInstructions(bytes, code.bodies[i])));
      const place = lines.firstIn(code.bodies[i].start, code.bodies[i].end);
      if (place) places.set(name, place);
    });
    return { sites: sourcesBySite(sites, byName, lines), lines: lines.kind, functions: places };
  } finally {
    module.dispose();
  }
}

function sourcesBySite(sites: readonly FaultSite[], offsetsByFunction: ReadonlyMap<string, Array<number | null>>, lines: SourceLines): SiteSource[] {
  const seen = new Map<string, number>();
  return sites.map((site) => {
    const ordinal = seen.get(site.function) ?? 0;
    seen.set(site.function, ordinal + 1);
    const offset = offsetsByFunction.get(site.function)?.[ordinal];
    const line = offset === null || offset === undefined ? null : lines.lookup(offset);
    // Line 0 is DWARF's "no source line" (code the compiler made up).
    return line && line.line > 0 ? { function: site.function, file: line.file, line: line.line } : { function: site.function };
  });
}
