// The fault space: every bit an upset can strike, grouped into domains (the memory of core A of the
// primary, the globals of core B of the spare, the checkpoint's memory image, ...). Random upsets are
// spread uniformly over the bits of the selected domains, as particles strike bits, not variables.
import { BITS_OF_TYPE } from '../core/global-slots.js';
import type { ValueTypeName } from '../passes/export-state.js';
import type { CheckpointRegion, CoreName, ProcessorRole, UpsetTarget } from './upset.js';

export interface FaultDomain {
  readonly target: UpsetTarget;
  readonly processor?: ProcessorRole;
  readonly core?: CoreName;
  readonly region?: CheckpointRegion;
  /** Bits in the domain. */
  readonly bits: number;
  /** memory domains: bytes; global domains: the bit width of each global, in order. */
  readonly memoryBytes?: number;
  readonly globalBits?: readonly number[];
}

export interface FaultSpaceShape {
  /** Bytes of linear memory of one core (and of the checkpoint's image). */
  readonly memoryBytes: number;
  readonly globalTypes: readonly ValueTypeName[];
}

export const UPSET_TARGETS: readonly UpsetTarget[] = ['memory', 'global', 'checkpoint'];

export function faultDomains(shape: FaultSpaceShape, targets: readonly UpsetTarget[]): FaultDomain[] {
  const globalBits = shape.globalTypes.map((type) => BITS_OF_TYPE[type]);
  const globalTotal = globalBits.reduce((sum, bits) => sum + bits, 0);
  const memoryBits = shape.memoryBytes * 8;
  const domains: FaultDomain[] = [];
  for (const processor of ['primary', 'spare'] as const) {
    for (const core of ['A', 'B'] as const) {
      if (targets.includes('memory')) domains.push({ target: 'memory', processor, core, bits: memoryBits, memoryBytes: shape.memoryBytes });
      if (targets.includes('global') && globalTotal > 0) domains.push({ target: 'global', processor, core, bits: globalTotal, globalBits });
    }
  }
  if (targets.includes('checkpoint')) {
    domains.push({ target: 'checkpoint', region: 'memory', bits: memoryBits, memoryBytes: shape.memoryBytes });
    if (globalTotal > 0) domains.push({ target: 'checkpoint', region: 'global', bits: globalTotal, globalBits });
  }
  return domains;
}

export function totalBits(domains: readonly FaultDomain[]): number {
  return domains.reduce((sum, domain) => sum + domain.bits, 0);
}
