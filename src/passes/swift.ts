// swift: SWIFT (Software Implemented Fault Tolerance, Reis et al., CGO 2005) — hardens a module against
// transient faults in registers and functional units without hardware help. Every value computation is
// duplicated into shadow locals (each local has a shadow, each computed value a shadow computation from
// shadow operands); memory is assumed protected by ECC, so it is not duplicated. Mutable globals are
// duplicated (a shadow global updated alongside). Values and shadows are compared where an error would
// leave the duplicated domain — before stores (address and value), before global.set, on branch
// conditions (if, br_if, br_table, select), on call arguments and call_indirect's table index (host
// imports included), and on return values — and a difference calls the import
// `lockstep.check_failed(site)` and then traps (`unreachable`): the core stops the cycle and reports the
// detection. Why: a lock-step pair catches an error only when outputs or state differ at a comparison; a
// hardened core catches it by itself, at the instruction, and a lone processor so hardened detects errors
// it would otherwise release.
//
// Loads: the paper copies a loaded value into its shadow. That leaves a window as wide as the loads: a
// fault in a load's result (or address) reaches value and shadow alike, and loads are a large share of
// what a program computes. So by default the shadow is loaded again through the shadow address — memory still
// not duplicated, one more load instead of a copy; `swiftLoads: 'copy'` (the CLI's --copy-loads, the
// campaign configuration `swift-copy`) is the paper's SWIFT. Measured with single-bit flips of
// instruction results (5,000 per module, a lone core): silent corruption 0.10% on the reference flight
// software and at most 0.02% on the four kernels when reloading, 6–26% when copying; 1.58–1.61× and
// 1.49× the plain build's time (README, "Software hardening"). What remains are call results, copied:
// an import named pure (`pureImports`, the latched bus inputs) is called again instead.
//
// The engine (flattening, opaque shadows that survive optimizers, checks, functions left alone) is shared
// with EDDI: hardening-common.ts. Registered with the default check families and reloaded loads;
// `hardenModule` (src/harden.ts) takes options.
import type { Module } from './binaryen.js';
import { DEFAULT_FAMILIES, hardenInPlace, type HardeningReport } from './hardening-common.js';
import type { ModulePass } from './pass.js';

export const swift: ModulePass = {
  name: 'swift',
  description: 'SWIFT: duplicate every value computation into shadows (loads loaded again), check before stores, branches, calls, returns and global writes',
  run(module: Module): HardeningReport {
    return hardenInPlace(module, { mode: 'swift', families: new Set(DEFAULT_FAMILIES), hardens: () => true });
  },
};
