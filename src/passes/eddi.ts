// eddi: EDDI (Error Detection by Duplicated Instructions, Oh, Shirvani and McCluskey, IEEE Trans.
// Reliability 2002) — SWIFT's duplication (duplicate.ts) plus duplicated memory, for machines whose
// memory is not protected by ECC: the shadow computation has its own copy of the data the program writes,
// loads from the shadow copy feed the shadow computation, and every store writes both copies. An upset in
// either copy of memory, in a register or in a functional unit then shows as a value that differs from
// its shadow, caught by the checks before stores and branches (and, by default, the other SWIFT families
// too — calls, returns, global writes — since a shadow is re-seeded from its value at a function
// boundary; `--checks stores,branches` gives the paper's set). Functions left alone still write shadow
// memory, so that it never goes stale.
//
// Layout: memory is doubled; the shadow copy lives in the lower half, [0, P pages), and the program's
// memory in the upper half, [P, 2P), so that the engine's own bounds check still stops the program at
// the end of its memory (an access past it is past the end of all memory and traps as it did). The
// program's accesses get the base of P pages added to their static offset — a constant, free, for a
// module that never grows memory — and the shadow accesses are the same accesses without it. Active data
// segments are placed in both halves. memory.size reports P; memory.grow(d) grows by 2d pages and moves
// the program's half up by d pages (the base then lives in the global `__lockstep_shadow_base`, added
// to addresses, saturating so that an address that wraps still traps). Consequences: a module needs
// twice its memory (a 1-page module becomes 2 pages; the host's default memoryLimitPages of 16 allows
// modules of up to 8), its declared maximum doubles, it can grow to at most half of the largest
// WebAssembly memory, and the host sees the program's data P pages higher than before.
import binaryen, { addLocal, memoryName, type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { DEFAULT_FAMILIES, failCode } from './checks.js';
import { duplicateInPlace, type DuplicationOptions, type HardeningReport, type MemoryTreatment, type Shadows } from './duplicate.js';
import { childrenOf, walkPostOrder } from './expressions.js';
import { OPAQUE_ZERO_GLOBAL } from './opaque-zero.js';
import { PassRefusal, type ModulePass } from './pass.js';
import { replaceChild, setSlot, walkWithParents } from './rewrite.js';

const B = binaryen;

/** The byte offset of the program's half of memory, for modules that grow their memory. */
export const SHADOW_BASE_GLOBAL = '__lockstep_shadow_base';
/** What memory.grow becomes: grows both halves and moves the program's up. */
export const EDDI_GROW_FUNCTION = '__lockstep_eddi_grow';

const PAGE = 65536;
const MAX_PAGES = 65536;

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

/** Where the program's half starts: a constant byte offset, or null when it lives in SHADOW_BASE_GLOBAL. */
interface Layout {
  readonly constantBase: number | null;
}

/** A write to memory: a store, a lane store, a bulk-memory write. */
function isMemoryWrite(expr: ExpressionRef): boolean {
  const id = B.getExpressionId(expr);
  return id === B.StoreId || id === B.MemoryFillId || id === B.MemoryCopyId || id === B.MemoryInitId || (id === B.SIMDLoadStoreLaneId && B.SIMDLoadStoreLane.isStore(expr));
}

/**
 * Doubles the memory, places every active data segment in both halves, and makes the program see only its
 * half: memory.size is halved, memory.grow goes through a function that grows both halves and moves the
 * program's half up (only when the module grows memory at all: otherwise the base is a constant folded
 * into every access's static offset, at no cost). The program's accesses are relocated afterwards
 * (EddiMemory.finish), once the shadow accesses exist and are known.
 */
function doubleMemory(module: Module, functions: readonly FunctionRef[]): Layout {
  const info = module.getMemoryInfo();
  if (info.module) throw new PassRefusal(`EDDI needs the module to define its memory; it imports it ("${info.module}"."${info.base}")`);
  if (info.shared) throw new PassRefusal('EDDI does not support shared memory');
  if (info.is64) throw new PassRefusal('EDDI does not support 64-bit memory');
  const pages = info.initial;
  if (2 * pages > MAX_PAGES) throw new PassRefusal(`EDDI doubles memory: ${pages} pages initially is more than half the largest memory (${MAX_PAGES} pages)`);
  const base = pages * PAGE;

  const api = module as unknown as SegmentApi;
  const count = api.getNumDataSegments();
  let hasImportedGlobal = false;
  for (let i = 0; i < module.getNumGlobals(); i++) if (B.getGlobalInfo(module.getGlobalByIndex(i)).module) hasImportedGlobal = true;
  if (hasImportedGlobal && count > 0) {
    // Binaryen aborts reading a segment offset that is not a constant: look at the text first.
    for (const match of module.emitText().matchAll(/^\s*\(data\s+(?:\$\S+\s+)?\((\S+)/gm)) {
      if (match[1] !== 'i32.const' && match[1] !== 'memory') throw new PassRefusal('EDDI needs every active data segment at a constant offset (one is placed at an imported global)');
    }
  }
  const segments: DataSegment[] = [];
  for (let i = 0; i < count; i++) {
    const segment = api.getDataSegmentInfo(api.getDataSegmentByIndex(i));
    const data = new Uint8Array(segment.data);
    if (!segment.passive && (segment.offset ?? 0) + data.length > base) {
      throw new PassRefusal(`data segment ${segment.name} lies outside the initial memory (the module cannot be instantiated)`);
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
  module.addFunction(EDDI_GROW_FUNCTION, B.i32, B.i32, [B.i32], growBody(module, null));
  return { constantBase: null };
}

/**
 * The body of EDDI's memory.grow helper (param 0: the pages d; local 1: the old size). With `site`
 * (eddi-cfc), its two decisions are checked as cfc.ts checks a program's: each is taken again from its
 * operand passed through the opaque zero (local 2; the grow's result is kept in local 3), and each edge
 * checks, on entry, that the shadow decision agrees — so an inverted decision is caught here too, also
 * when an optimizer inlines the helper into the program.
 */
function growBody(m: Module, site: ((instruction: ExpressionRef) => number) | null): ExpressionRef {
  const d = () => m.local.get(0, B.i32);
  const old = () => m.local.get(1, B.i32);
  const bytes = (pagesExpr: ExpressionRef) => m.i32.shl(pagesExpr, m.i32.const(16));
  const failed = () => m.return(m.i32.const(-1));
  // if (condition(value)) return -1, the decision checked when `site` is given.
  const decision = (value: ExpressionRef, condition: (operand: ExpressionRef) => ExpressionRef, local: number): ExpressionRef[] => {
    if (site === null) return [m.if(condition(value), failed())];
    const shadow = () => condition(m.i32.xor(m.local.get(local, B.i32), m.local.get(2, B.i32)));
    const branch = m.if(condition(m.local.get(local, B.i32)), m.block(null, [], B.none));
    B.If.setIfTrue(branch, m.block(null, [m.if(m.i32.eqz(shadow()), failCode(m, site(branch))), failed()], B.none));
    return [...(local === 0 ? [] : [m.local.set(local, value)]), branch, m.if(shadow(), failCode(m, site(branch)))];
  };
  return m.block(
    null,
    [
      ...(site === null ? [] : [m.local.set(2, m.global.get(OPAQUE_ZERO_GLOBAL, B.i32))]),
      // Both halves grow by d pages; 2d must stay within the largest memory.
      ...decision(d(), (operand) => m.i32.gt_u(operand, m.i32.const(MAX_PAGES / 2)), 0),
      m.local.set(1, m.i32.shr_u(m.memory.size(), m.i32.const(1))),
      ...decision(m.memory.grow(m.i32.shl(d(), m.i32.const(1))), (operand) => m.i32.eq(operand, m.i32.const(-1)), 3),
      // The program's half moves up by d pages; shadow memory's new pages are zero, as the program's
      // new pages (fresh from memory.grow) are.
      m.memory.copy(bytes(m.i32.add(old(), d())), bytes(old()), bytes(old())),
      m.memory.fill(bytes(old()), m.i32.const(0), bytes(d())),
      m.global.set(SHADOW_BASE_GLOBAL, bytes(m.i32.add(old(), d()))),
      old(),
    ],
    B.i32,
  );
}

/** EDDI's memory: a shadow copy in the lower half, which shadow loads read and every store also writes. */
export class EddiMemory implements MemoryTreatment {
  readonly mode = 'eddi';
  readonly loadShadows = 'shadow memory';
  private module: Module | null = null;
  private layout: Layout | null = null;
  private originalPages = 0;
  /** The shadow copies of memory accesses (at the bottom half: never relocated). */
  private readonly shadowAccesses = new Set<ExpressionRef>();

  prepare(module: Module, functions: readonly FunctionRef[]): void {
    this.module = module;
    if (!module.hasMemory()) return;
    this.originalPages = module.getMemoryInfo().initial;
    this.layout = doubleMemory(module, functions);
  }

  shadowAccess(access: ExpressionRef): ExpressionRef {
    this.shadowAccesses.add(access);
    return access;
  }

  /** A load's shadow reads shadow memory: the same load at the shadow address. */
  loadShadow(load: ExpressionRef, f: Shadows): ExpressionRef {
    if (B.getExpressionId(load) !== B.SIMDLoadStoreLaneId) return this.shadowAccess(f.mirrored(load).copy);
    // A lane load merges memory into a vector: the shadow merges shadow memory into the shadow vector.
    const copy = f.module.copyExpression(load);
    B.SIMDLoadStoreLane.setVec(copy, f.shadowOperand(B.SIMDLoadStoreLane.getVec(load)));
    B.SIMDLoadStoreLane.setPtr(copy, f.shadowOperand(B.SIMDLoadStoreLane.getPtr(load)));
    return this.shadowAccess(copy);
  }

  /** Every write is made again on shadow memory, with the shadow operands. */
  writeShadow(write: ExpressionRef, checked: boolean, f: Shadows): ExpressionRef | null {
    if (this.layout === null) return null;
    const m = f.module;
    const id = B.getExpressionId(write);
    const copy = m.copyExpression(write);
    if (id === B.StoreId) {
      B.Store.setPtr(copy, f.shadowOperand(B.Store.getPtr(write)));
      B.Store.setValue(copy, f.storedShadow(B.Store.getValue(write), checked));
    } else if (id === B.SIMDLoadStoreLaneId) {
      const vec = B.SIMDLoadStoreLane.getVec(write);
      B.SIMDLoadStoreLane.setPtr(copy, f.shadowOperand(B.SIMDLoadStoreLane.getPtr(write)));
      B.SIMDLoadStoreLane.setVec(copy, checked ? m.copyExpression(vec) : f.shadowOperand(vec));
    } else {
      childrenOf(write, f.name).forEach((operand, i) => replaceChild(copy, i, f.shadowOperand(operand)));
    }
    return this.shadowAccess(copy);
  }

  mirrorsWrite(write: ExpressionRef): boolean {
    return this.layout !== null && isMemoryWrite(write);
  }

  /** eddi-cfc: the memory.grow helper's decisions are checked too (growBody). */
  checkOwnEdges(module: Module, site: (functionName: string, instruction: ExpressionRef) => number): void {
    const fn = module.getFunction(EDDI_GROW_FUNCTION);
    if (!fn) return;
    addLocal(fn, B.i32);
    addLocal(fn, B.i32);
    B.Function.setBody(fn, growBody(module, (at) => site(EDDI_GROW_FUNCTION, at)));
  }

  /** Moves every memory access of the program (not the shadows', not the grow function's) to the top half. */
  finish(module: Module, functions: readonly FunctionRef[]): void {
    if (this.layout === null) return;
    for (const fn of functions) {
      const name = B.getFunctionInfo(fn).name;
      const accesses: Array<{ expr: ExpressionRef; parent: ExpressionRef; index: number }> = [];
      walkWithParents(B.Function.getBody(fn), name, (expr, parent, index) => {
        const id = B.getExpressionId(expr);
        if (
          (id === B.LoadId || id === B.StoreId || id === B.SIMDLoadId || id === B.SIMDLoadStoreLaneId || id === B.MemoryFillId || id === B.MemoryCopyId || id === B.MemoryInitId) &&
          !this.shadowAccesses.has(expr)
        ) {
          accesses.push({ expr, parent, index });
        }
      });
      for (const { expr, parent, index } of accesses) {
        const before = this.relocate(fn, expr);
        if (before.length > 0) setSlot({ fn, parent, index }, module.block(null, [...before, expr], B.getExpressionType(expr)));
      }
    }
  }

  report(): HardeningReport['memory'] {
    if (this.layout === null) return null;
    return { originalPages: this.originalPages, hardenedPages: 2 * this.originalPages, programOffset: this.layout.constantBase ?? 'dynamic' };
  }

  /** The byte offset of the program's memory: a constant, or the global when memory grows. */
  private base(): ExpressionRef {
    const m = this.module!;
    return this.layout!.constantBase !== null ? m.i32.const(this.layout!.constantBase) : m.global.get(SHADOW_BASE_GLOBAL, B.i32);
  }

  /**
   * `address + base`, saturating at 0xffffffff: an address so large that the sum wraps is out of the
   * program's bounds, and must still trap (`address` is read twice: a local.get or a constant).
   */
  private relocatedAddress(address: () => ExpressionRef): ExpressionRef {
    const m = this.module!;
    return m.select(m.i32.ge_u(address(), m.i32.sub(m.i32.const(0), this.base())), m.i32.const(-1), m.i32.add(address(), this.base()));
  }

  /**
   * Moves one of the program's memory accesses to the top half: a constant base goes into a load's or
   * store's static offset (free: the engine adds the offset without wrapping, so bounds are exactly the
   * program's), otherwise the address operands are relocated (through a fresh local of `fn` unless they
   * are a local.get or a constant). Returns what must run before the access.
   */
  private relocate(fn: FunctionRef, access: ExpressionRef): ExpressionRef[] {
    const m = this.module!;
    const id = B.getExpressionId(access);
    const base = this.layout!.constantBase;
    const before: ExpressionRef[] = [];
    const relocateOperand = (get: (e: ExpressionRef) => ExpressionRef, set: (e: ExpressionRef, v: ExpressionRef) => void) => {
      const operand = get(access);
      const kind = B.getExpressionId(operand);
      if (kind === B.LocalGetId || kind === B.ConstId) {
        set(access, this.relocatedAddress(() => m.copyExpression(operand)));
      } else {
        const temp = addLocal(fn, B.i32);
        before.push(m.local.set(temp, operand));
        set(access, this.relocatedAddress(() => m.local.get(temp, B.i32)));
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
}

/** Hardens `module` in place with EDDI. */
export function hardenEddi(module: Module, options: DuplicationOptions): HardeningReport {
  return duplicateInPlace(module, options, new EddiMemory());
}

export const eddi: ModulePass = {
  name: 'eddi',
  description: 'EDDI: SWIFT plus duplicated memory (a shadow copy every store also writes and shadow loads read)',
  run(module: Module): HardeningReport {
    return hardenEddi(module, { families: new Set(DEFAULT_FAMILIES), hardens: () => true });
  },
};

export const eddiCfc: ModulePass = {
  name: 'eddi-cfc',
  description: "EDDI with control-flow checking (cfc.ts): every conditional branch's edge checked against its shadow condition on entry",
  run(module: Module): HardeningReport {
    return hardenEddi(module, { families: new Set([...DEFAULT_FAMILIES, 'edges']), hardens: () => true });
  },
};
