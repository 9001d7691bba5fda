// track-dirty-memory: records which blocks of linear memory a cycle wrote, in an exported bitmap global
// (`__lockstep_dirty`, 32 blocks, accumulated until the host clears it at a commit), so that the
// comparator compares and the checkpoint copies only what changed instead of the whole memory — the difference between a pair that costs twice a
// bare core and one that costs three times. Block size is the module's initial memory divided in 32
// (at least 64 bytes). Stores to constant addresses are folded at build time into one mask OR-ed at the
// entry of their region (regions.ts); a store to a computed address marks its block just before it
// runs; bulk operations (memory.fill, memory.copy, memory.init) mark their whole destination range.
// What the bitmap cannot name — memory grown beyond the initial size — the host treats as always
// dirty. A store may straddle into the next block: the host extends each block by MAX_STORE_BYTES.
import binaryen, { addLocal, type ExpressionRef, type Module } from './binaryen.js';
import { definedFunctions } from './expressions.js';
import type { ModulePass } from './pass.js';
import { prependToRegion, regionsOf } from './regions.js';

export const DIRTY_GLOBAL = '__lockstep_dirty';
export const DIRTY_BLOCKS = 32;
/** Widest store (v128): how far a store at the end of one block may reach into the next. */
export const MAX_STORE_BYTES = 16;
const MARK_RANGE_FUNCTION = '__lockstep_mark_range';

export interface DirtyMemoryReport {
  /** log2 of the block size in bytes. */
  readonly blockShift: number;
  /** Bytes of memory the 32 blocks cover (the module's initial memory). */
  readonly trackedBytes: number;
  readonly constantStores: number;
  readonly computedStores: number;
  readonly bulkOperations: number;
}

export function blockShiftFor(initialBytes: number): number {
  return Math.max(6, Math.ceil(Math.log2(Math.max(initialBytes, 1) / DIRTY_BLOCKS)));
}

export const trackDirtyMemory: ModulePass = {
  name: 'track-dirty-memory',
  description: 'mark the memory blocks each cycle writes, so comparison and checkpoints touch only those',
  run(module: Module): DirtyMemoryReport {
    const initialBytes = module.hasMemory() ? module.getMemoryInfo().initial * 65536 : 0;
    const shift = blockShiftFor(initialBytes);
    const report = { blockShift: shift, trackedBytes: DIRTY_BLOCKS << shift, constantStores: 0, computedStores: 0, bulkOperations: 0 };
    const functions = definedFunctions(module);
    module.addGlobal(DIRTY_GLOBAL, binaryen.i32, true, module.i32.const(0));
    module.addGlobalExport(DIRTY_GLOBAL, DIRTY_GLOBAL);

    const dirty = () => module.global.get(DIRTY_GLOBAL, binaryen.i32);
    const orMask = (mask: ExpressionRef) => module.global.set(DIRTY_GLOBAL, module.i32.or(dirty(), mask));
    const blockBit = (address: ExpressionRef) =>
      // i32.shl takes its count modulo 32: blocks past the tracked range wrap onto low bits, which only
      // over-marks; the host compares grown memory in full anyway.
      module.i32.shl(module.i32.const(1), module.i32.shr_u(address, module.i32.const(shift)));
    const staticBlock = (address: number) => Math.min(DIRTY_BLOCKS - 1, Math.floor(address / 2 ** shift));

    // __lockstep_mark_range(dest, size): marks blocks first..last of [dest, dest + size).
    {
      const dest = () => module.local.get(0, binaryen.i32);
      const size = () => module.local.get(1, binaryen.i32);
      const span = () => module.local.get(2, binaryen.i32);
      module.addFunction(
        MARK_RANGE_FUNCTION,
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
                module.i32.shr_u(module.i32.sub(module.i32.add(dest(), size()), module.i32.const(1)), module.i32.const(shift)),
                module.i32.shr_u(dest(), module.i32.const(shift)),
              ),
            ),
            orMask(
              module.select(
                module.i32.const(-1),
                module.i32.rotl(
                  module.i32.sub(module.i32.shl(module.i32.const(2), span()), module.i32.const(1)),
                  module.i32.shr_u(dest(), module.i32.const(shift)),
                ),
                module.i32.ge_u(span(), module.i32.const(DIRTY_BLOCKS - 1)),
              ),
            ),
          ]),
        ),
      );
    }

    for (const fn of functions) {
      let scratch = -1;
      const scratchLocal = () => {
        if (scratch < 0) scratch = addLocal(fn, binaryen.i32);
        return scratch;
      };
      for (const region of regionsOf(fn)) {
        let staticMask = 0;
        for (const member of region.members) {
          const id = binaryen.getExpressionId(member);
          if (id === binaryen.StoreId || (id === binaryen.SIMDLoadStoreLaneId && binaryen.SIMDLoadStoreLane.isStore(member))) {
            const accessor = id === binaryen.StoreId ? binaryen.Store : binaryen.SIMDLoadStoreLane;
            const ptr = accessor.getPtr(member);
            const offset = accessor.getOffset(member) as number;
            if (binaryen.getExpressionId(ptr) === binaryen.ConstId) {
              const address = ((binaryen.getExpressionInfo(ptr) as { value: number } & ReturnType<typeof binaryen.getExpressionInfo>).value >>> 0) + offset;
              for (let block = staticBlock(address); block <= staticBlock(address + MAX_STORE_BYTES - 1); block++) staticMask |= 1 << block;
              report.constantStores++;
              continue;
            }
            // ptr' = { p = ptr; mark(p + offset); p } — evaluated where ptr was, so evaluation order holds.
            const p = scratchLocal();
            const address = offset === 0 ? module.local.get(p, binaryen.i32) : module.i32.add(module.local.get(p, binaryen.i32), module.i32.const(offset));
            accessor.setPtr(member, module.block(null, [module.local.set(p, ptr), orMask(blockBit(address)), module.local.get(p, binaryen.i32)], binaryen.i32));
            report.computedStores++;
          } else if (id === binaryen.MemoryFillId || id === binaryen.MemoryCopyId || id === binaryen.MemoryInitId) {
            // dest is evaluated first and size last: keep dest, and mark the range when size is known.
            const accessor = id === binaryen.MemoryFillId ? binaryen.MemoryFill : id === binaryen.MemoryCopyId ? binaryen.MemoryCopy : binaryen.MemoryInit;
            const destLocal = addLocal(fn, binaryen.i32);
            const sizeLocal = addLocal(fn, binaryen.i32);
            accessor.setDest(member, module.local.tee(destLocal, accessor.getDest(member), binaryen.i32));
            accessor.setSize(
              member,
              module.block(null, [
                module.local.set(sizeLocal, accessor.getSize(member)),
                module.call(MARK_RANGE_FUNCTION, [module.local.get(destLocal, binaryen.i32), module.local.get(sizeLocal, binaryen.i32)], binaryen.none),
                module.local.get(sizeLocal, binaryen.i32),
              ], binaryen.i32),
            );
            report.bulkOperations++;
          }
        }
        if (staticMask !== 0) prependToRegion(module, region, [orMask(module.i32.const(staticMask | 0))]);
      }
    }
    return report;
  },
};
