// swift: SWIFT (Software Implemented Fault Tolerance, Reis et al., CGO 2005) — hardens a module against
// transient faults in registers and functional units without hardware help. Every value computation is
// duplicated into shadow locals (each local has a shadow, each computed value a shadow computation from
// shadow operands); memory is assumed protected by ECC, so it is not duplicated: a loaded value is copied
// into its shadow. Mutable globals are duplicated (a shadow global updated alongside). Values and shadows
// are compared where an error would leave the duplicated domain — before stores (address and value),
// before global.set, on branch conditions (if, br_if, br_table, select), on call arguments and
// call_indirect's table index (host imports included), and on return values — and a difference calls
// the import `lockstep.check_failed(site)` and then traps (`unreachable`): the core stops the cycle and
// reports the detection. Why: a lock-step pair catches an error only when outputs or state differ at a
// comparison; a hardened core catches it by itself, at the instruction, and a lone processor so hardened
// detects errors it would otherwise release.
//
// Copying a loaded value leaves a window: a fault in the load's result (or address, unless the `loads`
// check family is on) reaches value and shadow alike. `hardenModule(..., { reloads: true })` (the CLI's
// --reload-loads) closes it by loading the shadow again through the shadow address — memory still not
// duplicated. Measured on the reference flight software with single-bit flips of instruction results: SDC
// 7.1% of flips with copies, 0.07% with reloads (EDDI: 0.13%), for 1.49× and 1.60× the plain build's time.
//
// The engine (flattening, opaque shadows that survive optimizers, checks, functions left alone) is shared
// with EDDI: hardening-common.ts. Registered with the default check families and copies; `hardenModule`
// (src/harden.ts) takes options.
import type { Module } from './binaryen.js';
import { DEFAULT_FAMILIES, hardenInPlace, type HardeningReport } from './hardening-common.js';
import type { ModulePass } from './pass.js';

export const swift: ModulePass = {
  name: 'swift',
  description: 'SWIFT: duplicate every value computation into shadows, check before stores, branches, calls, returns and global writes',
  run(module: Module): HardeningReport {
    return hardenInPlace(module, { mode: 'swift', families: new Set(DEFAULT_FAMILIES), hardens: () => true });
  },
};
