// track-read-memory: records which blocks of linear memory a core read, in an exported bitmap global
// (`__lockstep_read`). Only the golden run of a campaign uses it: an upset in a block the golden run
// neither reads nor writes until some cycle cannot change anything before that cycle, so an experiment
// can skip straight to it — most of a flight program's memory is never touched, and its upsets are
// classified without being simulated. The marking itself is memory-access-tracking.ts.
import type { Module } from './binaryen.js';
import { trackAccesses, type AccessTrackingReport } from './memory-access-tracking.js';
import type { ModulePass } from './pass.js';

export const READ_GLOBAL = '__lockstep_read';

export const trackReadMemory: ModulePass = {
  name: 'track-read-memory',
  description: 'mark the memory blocks each cycle reads (for the golden run of a campaign)',
  run(module: Module): AccessTrackingReport {
    return trackAccesses(module, 'reads', READ_GLOBAL);
  },
};
