// swift: SWIFT (Software Implemented Fault Tolerance, Reis et al., CGO 2005) — hardens a module against
// transient faults in registers and functional units without hardware help. Every value computation is
// duplicated into shadow locals (each local has a shadow, each computed value a shadow computation from
// shadow operands); memory is assumed protected by ECC, so it is not duplicated. Mutable globals are
// duplicated (a shadow global updated alongside). Values and shadows are compared where an error would
// leave the duplicated domain — before stores (address and value), before global.set, on branch
// decisions (an if's or br_if's in the successor taken, branch-direction.ts; a br_table's index and a
// select's condition before them), on call arguments and call_indirect's table index (host imports
// included), and on return values — and a difference calls the import
// `lockstep.check_failed(site)` and then traps (checks.ts): the core stops the cycle and reports the
// detection. Why: a lock-step pair catches an error only when outputs or state differ at a comparison; a
// hardened core catches it by itself, at the instruction, and a lone processor so hardened detects errors
// it would otherwise release.
//
// Loads, the part of SWIFT that is SWIFT's own (the rest is the duplication engine, duplicate.ts, shared
// with EDDI): the paper copies a loaded value into its shadow. That leaves a window as wide as the loads:
// a fault in a load's result (or address) reaches value and shadow alike, and loads are a large share of
// what a program computes. So by default the shadow is loaded again through the shadow address — memory
// still not duplicated, one more load instead of a copy; `swiftLoads: 'copy'` (the CLI's --copy-loads,
// the named hardening `swift-copy`) is the paper's SWIFT. The coverage and cost of both are measured in
// docs/hardening.md. What remains are call results, copied: an import named pure
// (`pureImports`, the latched bus inputs) is called again instead.
//
// Registered with the default check families and reloaded loads; `hardenModule` (src/harden.ts) takes
// options.
import binaryen, { type ExpressionRef, type Module } from './binaryen.js';
import { DEFAULT_FAMILIES } from './checks.js';
import { duplicateInPlace, type DuplicationOptions, type HardeningReport, type MemoryTreatment, type Shadows } from './duplicate.js';
import { childrenOf } from './expressions.js';
import type { ModulePass } from './pass.js';

const B = binaryen;

export const SWIFT_LOADS = ['reload', 'copy'] as const;
/**
 * Where a loaded value's shadow comes from: loaded again through the shadow address ('reload', the
 * default), or copied from the main one ('copy', as the SWIFT paper does: cheaper, but a fault in the
 * load's result or address reaches both).
 */
export type SwiftLoads = (typeof SWIFT_LOADS)[number];

/** SWIFT's memory: not duplicated; a load's shadow is loaded again or copied. */
export class SwiftMemory implements MemoryTreatment {
  readonly mode = 'swift';

  constructor(private readonly loads: SwiftLoads = 'reload') {}

  get loadShadows(): HardeningReport['loadShadows'] {
    return this.loads === 'copy' ? 'copied' : 'reloaded';
  }

  prepare(): void {}

  loadShadow(load: ExpressionRef, f: Shadows): ExpressionRef | null {
    const m = f.module;
    const id = B.getExpressionId(load);
    if (id === B.SIMDLoadStoreLaneId) {
      // A lane load merges memory into a vector: the shadow merges the same memory (the main copy,
      // unchanged since) into the shadow vector, through the shadow address unless copying.
      const copy = m.copyExpression(load);
      B.SIMDLoadStoreLane.setVec(copy, f.shadowOperand(B.SIMDLoadStoreLane.getVec(load)));
      if (this.loads !== 'copy') {
        const ptr = B.SIMDLoadStoreLane.getPtr(load);
        B.SIMDLoadStoreLane.setPtr(copy, B.getExpressionId(ptr) === B.ConstId ? f.opaque(B.i32, m.copyExpression(ptr)) : f.shadowOperand(ptr));
      }
      return copy;
    }
    if (this.loads === 'copy') return null;
    // The shadow loads again, from the shadow address (the same memory), so that a fault in the main
    // load's result or address shows. A constant address goes through the opaque zero, or both loads
    // would be one to the optimizers.
    const { copy } = f.mirrored(load);
    const ptr = childrenOf(copy, f.name)[0];
    if (B.getExpressionId(ptr) === B.ConstId) {
      // load offset=o (i32.const c) → load offset=o+c (zero): the same address, not the same load.
      const accessor = id === B.LoadId ? B.Load : B.SIMDLoad;
      const address = (accessor.getOffset(copy) as number) + ((B.getExpressionInfo(ptr) as unknown as { value: number }).value >>> 0);
      if (address <= 0xffffffff) {
        accessor.setOffset(copy, address);
        accessor.setPtr(copy, f.zero(B.i32));
      } else {
        accessor.setPtr(copy, f.opaque(B.i32, m.copyExpression(ptr)));
      }
    }
    return copy;
  }

  /** Memory has no shadow: a store is checked, not repeated. */
  writeShadow(): null {
    return null;
  }

  mirrorsWrite(): boolean {
    return false;
  }

  shadowAccess(copy: ExpressionRef): ExpressionRef {
    return copy;
  }

  finish(): void {}

  report(): null {
    return null;
  }
}

/** Hardens `module` in place with SWIFT. */
export function hardenSwift(module: Module, options: DuplicationOptions & { readonly swiftLoads?: SwiftLoads }): HardeningReport {
  return duplicateInPlace(module, options, new SwiftMemory(options.swiftLoads));
}

export const swiftCfc: ModulePass = {
  name: 'swift-cfc',
  description: "SWIFT with control-flow checking (cfc.ts): every conditional branch's edge checked against its shadow condition on entry",
  run(module: Module): HardeningReport {
    return hardenSwift(module, { families: new Set([...DEFAULT_FAMILIES, 'edges']), hardens: () => true });
  },
};

export const swift: ModulePass = {
  name: 'swift',
  description: 'SWIFT: duplicate every value computation into shadows (loads loaded again), check before stores, branches, calls, returns and global writes',
  run(module: Module): HardeningReport {
    return hardenSwift(module, { families: new Set(DEFAULT_FAMILIES), hardens: () => true });
  },
};
