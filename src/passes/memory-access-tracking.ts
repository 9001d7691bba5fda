// Memory-access tracking, shared by two passes: which of 32 blocks of linear memory a core wrote
// (track-dirty-memory) or read (track-read-memory) since the host last cleared a bitmap global. Block
// size is the module's initial memory divided in 32 (at least 64 bytes). Accesses to constant addresses
// are folded at build time into one mask OR-ed at the entry of their region (regions.ts); an access to a
// computed address marks its block just before it happens; bulk operations mark their whole range.
// Memory grown beyond the initial size has no bits of its own: the host treats it as always touched.
// An access may straddle into the next block: the host extends each block by MAX_STORE_BYTES.
import binaryen, { addLocal, type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { definedFunctions } from './expressions.js';
import { prependToRegion, regionsOf } from './regions.js';

export const ACCESS_BLOCKS = 32;
/** Widest access (v128): how far one at the end of a block may reach into the next. */
export const MAX_ACCESS_BYTES = 16;

export interface AccessTrackingReport {
  /** log2 of the block size in bytes. */
  readonly blockShift: number;
  /** Bytes of memory the 32 blocks cover (the module's initial memory). */
  readonly trackedBytes: number;
  readonly constantAccesses: number;
  readonly computedAccesses: number;
  readonly bulkOperations: number;
}

export function blockShiftFor(initialBytes: number): number {
  return Math.max(6, Math.ceil(Math.log2(Math.max(initialBytes, 1) / ACCESS_BLOCKS)));
}

type Accessor = { getPtr(e: ExpressionRef): ExpressionRef; setPtr(e: ExpressionRef, p: ExpressionRef): void; getOffset(e: ExpressionRef): number };
type RangeAccessor = { getSize(e: ExpressionRef): ExpressionRef; setSize(e: ExpressionRef, v: ExpressionRef): void };

interface Access {
  /** A single access through a pointer: loads, or stores. */
  pointer(member: ExpressionRef): Accessor | null;
  /** A bulk operation's touched range: its start (evaluated before the size) as getter/setter, or null. */
  range(member: ExpressionRef): { getStart(e: ExpressionRef): ExpressionRef; setStart(e: ExpressionRef, v: ExpressionRef): void; sizes: RangeAccessor } | null;
}

const WRITES: Access = {
  pointer(member) {
    const id = binaryen.getExpressionId(member);
    if (id === binaryen.StoreId) return binaryen.Store as unknown as Accessor;
    if (id === binaryen.SIMDLoadStoreLaneId && binaryen.SIMDLoadStoreLane.isStore(member)) return binaryen.SIMDLoadStoreLane as unknown as Accessor;
    return null;
  },
  range(member) {
    const id = binaryen.getExpressionId(member);
    const accessor = id === binaryen.MemoryFillId ? binaryen.MemoryFill : id === binaryen.MemoryCopyId ? binaryen.MemoryCopy : id === binaryen.MemoryInitId ? binaryen.MemoryInit : null;
    return accessor ? { getStart: accessor.getDest, setStart: accessor.setDest, sizes: accessor as unknown as RangeAccessor } : null;
  },
};

const READS: Access = {
  pointer(member) {
    const id = binaryen.getExpressionId(member);
    if (id === binaryen.LoadId) return binaryen.Load as unknown as Accessor;
    if (id === binaryen.SIMDLoadId) return binaryen.SIMDLoad as unknown as Accessor;
    if (id === binaryen.SIMDLoadStoreLaneId && !binaryen.SIMDLoadStoreLane.isStore(member)) return binaryen.SIMDLoadStoreLane as unknown as Accessor;
    return null;
  },
  range(member) {
    if (binaryen.getExpressionId(member) !== binaryen.MemoryCopyId) return null;
    return { getStart: binaryen.MemoryCopy.getSource, setStart: binaryen.MemoryCopy.setSource, sizes: binaryen.MemoryCopy as unknown as RangeAccessor };
  },
};

/** Instruments every write (or read) of the module to mark its block in the bitmap global `bitmap`. */
export function trackAccesses(module: Module, kind: 'writes' | 'reads', bitmap: string): AccessTrackingReport {
  const access = kind === 'writes' ? WRITES : READS;
  const markRange = `${bitmap}_mark_range`;
  const initialBytes = module.hasMemory() ? module.getMemoryInfo().initial * 65536 : 0;
  const shift = blockShiftFor(initialBytes);
  const report = { blockShift: shift, trackedBytes: ACCESS_BLOCKS << shift, constantAccesses: 0, computedAccesses: 0, bulkOperations: 0 };
  const functions = definedFunctions(module);
  module.addGlobal(bitmap, binaryen.i32, true, module.i32.const(0));
  module.addGlobalExport(bitmap, bitmap);

  const current = () => module.global.get(bitmap, binaryen.i32);
  const orMask = (mask: ExpressionRef) => module.global.set(bitmap, module.i32.or(current(), mask));
  const blockBit = (address: ExpressionRef) =>
    // i32.shl takes its count modulo 32: blocks past the tracked range wrap onto low bits, which only
    // over-marks; the host handles grown memory in full anyway.
    module.i32.shl(module.i32.const(1), module.i32.shr_u(address, module.i32.const(shift)));
  const staticBlock = (address: number) => Math.min(ACCESS_BLOCKS - 1, Math.floor(address / 2 ** shift));

  // <bitmap>_mark_range(start, size): marks blocks first..last of [start, start + size).
  {
    const start = () => module.local.get(0, binaryen.i32);
    const size = () => module.local.get(1, binaryen.i32);
    const span = () => module.local.get(2, binaryen.i32);
    module.addFunction(
      markRange,
      binaryen.createType([binaryen.i32, binaryen.i32]),
      binaryen.none,
      [binaryen.i32],
      module.if(
        size(),
        module.block(null, [
          // span = last block - first block
          module.local.set(
            2,
            module.i32.sub(
              module.i32.shr_u(module.i32.sub(module.i32.add(start(), size()), module.i32.const(1)), module.i32.const(shift)),
              module.i32.shr_u(start(), module.i32.const(shift)),
            ),
          ),
          orMask(
            module.select(
              module.i32.const(-1),
              module.i32.rotl(module.i32.sub(module.i32.shl(module.i32.const(2), span()), module.i32.const(1)), module.i32.shr_u(start(), module.i32.const(shift))),
              module.i32.ge_u(span(), module.i32.const(ACCESS_BLOCKS - 1)),
            ),
          ),
        ]),
      ),
    );
  }

  for (const fn of functions) instrumentFunction(module, fn, access, { orMask, blockBit, staticBlock, markRange }, report);
  return report;
}

interface Marking {
  orMask(mask: ExpressionRef): ExpressionRef;
  blockBit(address: ExpressionRef): ExpressionRef;
  staticBlock(address: number): number;
  markRange: string;
}

function instrumentFunction(module: Module, fn: FunctionRef, access: Access, marking: Marking, report: { constantAccesses: number; computedAccesses: number; bulkOperations: number }): void {
  let scratch = -1;
  const scratchLocal = () => {
    if (scratch < 0) scratch = addLocal(fn, binaryen.i32);
    return scratch;
  };
  for (const region of regionsOf(fn)) {
    let staticMask = 0;
    for (const member of region.members) {
      const accessor = access.pointer(member);
      if (accessor) {
        const ptr = accessor.getPtr(member);
        const offset = accessor.getOffset(member);
        if (binaryen.getExpressionId(ptr) === binaryen.ConstId) {
          const address = ((binaryen.getExpressionInfo(ptr) as { value: number } & ReturnType<typeof binaryen.getExpressionInfo>).value >>> 0) + offset;
          for (let block = marking.staticBlock(address); block <= marking.staticBlock(address + MAX_ACCESS_BYTES - 1); block++) staticMask |= 1 << block;
          report.constantAccesses++;
          continue;
        }
        // ptr' = { p = ptr; mark(p + offset); p } — evaluated where ptr was, so evaluation order holds.
        const p = scratchLocal();
        const address = offset === 0 ? module.local.get(p, binaryen.i32) : module.i32.add(module.local.get(p, binaryen.i32), module.i32.const(offset));
        accessor.setPtr(member, module.block(null, [module.local.set(p, ptr), marking.orMask(marking.blockBit(address)), module.local.get(p, binaryen.i32)], binaryen.i32));
        report.computedAccesses++;
        continue;
      }
      const range = access.range(member);
      if (range) {
        // The range's start is evaluated before its size: keep the start, mark when the size is known.
        const startLocal = addLocal(fn, binaryen.i32);
        const sizeLocal = addLocal(fn, binaryen.i32);
        range.setStart(member, module.local.tee(startLocal, range.getStart(member), binaryen.i32));
        range.sizes.setSize(
          member,
          module.block(null, [
            module.local.set(sizeLocal, range.sizes.getSize(member)),
            module.call(marking.markRange, [module.local.get(startLocal, binaryen.i32), module.local.get(sizeLocal, binaryen.i32)], binaryen.none),
            module.local.get(sizeLocal, binaryen.i32),
          ], binaryen.i32),
        );
        report.bulkOperations++;
      }
    }
    if (staticMask !== 0) prependToRegion(module, region, [marking.orMask(module.i32.const(staticMask | 0))]);
  }
}
