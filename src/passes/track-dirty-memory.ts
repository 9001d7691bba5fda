// track-dirty-memory: records which blocks of linear memory a core wrote, in an exported bitmap global
// (`__lockstep_dirty`, 32 blocks, accumulated until the host clears it at a commit), so that the
// comparator compares and the checkpoint copies only what changed instead of the whole memory every
// cycle, whose cost would dwarf the flight software's (docs/performance.md has figures).
// The marking itself is memory-access-tracking.ts, shared with track-read-memory.
import type { Module } from './binaryen.js';
import { ACCESS_BLOCKS, MAX_ACCESS_BYTES, trackAccesses, type AccessTrackingReport } from './memory-access-tracking.js';
import type { ModulePass } from './pass.js';

export const DIRTY_GLOBAL = '__lockstep_dirty';
export const DIRTY_BLOCKS = ACCESS_BLOCKS;
/** Widest store (v128): how far a store at the end of one block may reach into the next. */
export const MAX_STORE_BYTES = MAX_ACCESS_BYTES;
export type DirtyMemoryReport = AccessTrackingReport;
export { blockShiftFor } from './memory-access-tracking.js';

export const trackDirtyMemory: ModulePass = {
  name: 'track-dirty-memory',
  description: 'mark the memory blocks each cycle writes, so comparison and checkpoints touch only those',
  run(module: Module): DirtyMemoryReport {
    return trackAccesses(module, 'writes', DIRTY_GLOBAL);
  },
};
