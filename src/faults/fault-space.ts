// The fault space: every place a fault can strike, grouped into domains (the memory of core A of the
// primary, the globals of core B of the spare, the checkpoint's memory image, the persistent store's
// replica, the instruction results core A executes, the byte slots of the cross-strap link in a period,
// ...), each with its size in bits. The one computation of it: `fly` draws random
// upsets over it, a campaign draws its experiments from it, and the summaries report its size. Faults
// are spread uniformly over the bits of the domains drawn from, as particles strike bits, not variables.
import { BITS_OF_TYPE, type ValueTypeName } from '../passes/export-state.js';
import { FAULT_TARGETS, type CheckpointRegion, type CoreName, type FaultTarget, type ProcessorRef } from './fault.js';


/** A half-open byte range [start, end) of linear memory. */
export type ByteRange = readonly [start: number, end: number];

export interface FaultDomain {
  readonly target: FaultTarget;
  readonly processor?: ProcessorRef;
  readonly core?: CoreName;
  readonly region?: CheckpointRegion;
  /** Bits a fault can strike here in any cycle (result, branch: see `sites`, this is 0). */
  readonly bits: number;
  /** memory domains: the byte ranges struck, ascending and disjoint. */
  readonly ranges?: readonly ByteRange[];
  /** global domains: the bit width of each state global, in order. */
  readonly globalBits?: readonly number[];
  /** result, branch: sites the cycle executes (value-producing instructions, branch decisions). */
  readonly sites?: Int32Array;
}

/** A result fault picks one of 64 bits of the result; a branch fault inverts one decision. */
export const BITS_PER_SITE: Readonly<Record<'result' | 'branch', number>> = { result: 64, branch: 1 };

/** The bits of a domain in one cycle. */
export function bitsAt(domain: FaultDomain, cycle: number): number {
  return domain.sites ? domain.sites[cycle] * BITS_PER_SITE[domain.target as 'result' | 'branch'] : domain.bits;
}

export interface FaultSpaceShape {
  /** Bytes of linear memory of one core (and of the checkpoint's image). */
  readonly memoryBytes: number;
  /** The memory faults strike, when not all of it (a campaign's `--memory-range used`). */
  readonly memoryRanges?: readonly ByteRange[];
  readonly globalTypes: readonly ValueTypeName[];
  /** Bytes of the persistent store's replica (region and checksum), when the module declares a region. */
  readonly replicaBytes?: number;
  /** Sites executed per cycle, from a fault-hook build's golden run: needed for result and branch faults. */
  readonly resultSites?: Int32Array;
  readonly branchSites?: Int32Array;
  /** Bytes the cross-strap link can carry in a control period: where a link fault strikes. */
  readonly linkBytesPerCycle?: number;
}

export interface CoreRef {
  /** By role, or by identity (TMR's voting cores are processors P1, P2, P3 of one core each). */
  readonly processor: ProcessorRef;
  readonly core: CoreName;
}

/** Every core of the flight computer: both of the primary, both of the spare. */
export const ALL_CORES: readonly CoreRef[] = [
  { processor: 'primary', core: 'A' },
  { processor: 'primary', core: 'B' },
  { processor: 'spare', core: 'A' },
  { processor: 'spare', core: 'B' },
];

export function rangeBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((sum, [start, end]) => sum + (end - start), 0);
}

/** The cores of a TMR computer: its three voting cores, and the spare's when it has one. */
export const TMR_CORES: readonly CoreRef[] = [
  { processor: 'P1', core: 'A' },
  { processor: 'P2', core: 'A' },
  { processor: 'P3', core: 'A' },
  { processor: 'P4', core: 'A' },
];

/** The domains of `targets` over `cores` (the checkpoint once), in a fixed order. */
export function faultDomains(shape: FaultSpaceShape, targets: readonly FaultTarget[], cores: readonly CoreRef[] = ALL_CORES): FaultDomain[] {
  const ranges: readonly ByteRange[] = shape.memoryRanges ?? (shape.memoryBytes > 0 ? [[0, shape.memoryBytes]] : []);
  const memoryBits = rangeBytes(ranges) * 8;
  const globalBits = shape.globalTypes.map((type) => BITS_OF_TYPE[type]);
  const globalTotal = globalBits.reduce((sum, bits) => sum + bits, 0);
  const domains: FaultDomain[] = [];
  for (const { processor, core } of cores) {
    for (const target of FAULT_TARGETS) {
      if (!targets.includes(target)) continue;
      if (target === 'memory' && memoryBits > 0) domains.push({ target, processor, core, bits: memoryBits, ranges });
      else if (target === 'global' && globalTotal > 0) domains.push({ target, processor, core, bits: globalTotal, globalBits });
      else if (target === 'result' || target === 'branch') {
        const sites = target === 'result' ? shape.resultSites : shape.branchSites;
        if (!sites) throw new Error(`the ${target} target needs the executed sites of each cycle (a fault-hook build's golden run)`);
        domains.push({ target, processor, core, bits: 0, sites });
      }
    }
  }
  if (targets.includes('link')) {
    // The link's byte slots of a period, used or idle: a fault in an idle slot strikes nothing.
    const bytes = shape.linkBytesPerCycle ?? 0;
    if (bytes > 0) domains.push({ target: 'link', bits: bytes * 8, ranges: [[0, bytes]] });
  }
  if (targets.includes('checkpoint')) {
    if (memoryBits > 0) domains.push({ target: 'checkpoint', region: 'memory', bits: memoryBits, ranges });
    if (globalTotal > 0) domains.push({ target: 'checkpoint', region: 'global', bits: globalTotal, globalBits });
  }
  // The replica exists only for a module with a persistent region: without one the target offers no bits.
  if (targets.includes('replica') && shape.replicaBytes) {
    domains.push({ target: 'replica', bits: shape.replicaBytes * 8, ranges: [[0, shape.replicaBytes]] });
  }
  return domains;
}

/** Bits of storage a fault can strike per cycle, summed over the domains (instruction domains have none). */
export function totalBits(domains: readonly FaultDomain[]): number {
  return domains.reduce((sum, domain) => sum + domain.bits, 0);
}

/** Bits of storage per target, summed over the domains: what a rate per bit per day strikes. */
export function storageBitsByTarget(domains: readonly FaultDomain[]): Partial<Record<FaultTarget, number>> {
  const bits: Partial<Record<FaultTarget, number>> = {};
  for (const domain of domains) if (!domain.sites) bits[domain.target] = (bits[domain.target] ?? 0) + domain.bits;
  return bits;
}
