// eddi: EDDI (Error Detection by Duplicated Instructions, Oh, Shirvani and McCluskey, IEEE Trans.
// Reliability 2002) — SWIFT's duplication (swift.ts) plus duplicated memory, for machines whose memory is
// not protected by ECC: the shadow computation has its own copy of the data the program writes, loads
// from the shadow copy feed the shadow computation, and every store writes both copies. An upset in
// either copy of memory, in a register or in a functional unit then shows as a value that differs from
// its shadow, caught by the checks before stores and branches (and, by default, the other SWIFT families
// too — calls, returns, global writes — since a shadow is re-seeded from its value at a function
// boundary; `--checks stores,branches` gives the paper's set).
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
import type { Module } from './binaryen.js';
import { DEFAULT_FAMILIES, hardenInPlace, type HardeningReport } from './hardening-common.js';
import type { ModulePass } from './pass.js';

export const eddi: ModulePass = {
  name: 'eddi',
  description: 'EDDI: SWIFT plus duplicated memory (a shadow copy every store also writes and shadow loads read)',
  run(module: Module): HardeningReport {
    return hardenInPlace(module, { mode: 'eddi', families: new Set(DEFAULT_FAMILIES), hardens: () => true });
  },
};
