// Drawing faults from a seeded random stream. `drawFault` places one fault in a given cycle, uniformly
// over the bits of the domains it is given: `fly` calls it for each of its random upsets (spread over the
// mission by count, or as a Poisson process at a rate per bit per day), a campaign for each experiment
// (over the domains of the experiment's target). Each caller owns its stream, so the same seed gives the
// same faults and the plant's noise is not disturbed by them.
import { SeededRandom } from '../random.js';
import { bitsAt, totalBits, type FaultDomain } from './fault-space.js';
import type { Fault, FaultKind } from './fault.js';

export const SECONDS_PER_DAY = 86_400;
/** Upper bound on upsets in one run: a mistyped rate must not exhaust memory. */
export const MAX_UPSETS = 1_000_000;

/** Picks a domain with probability proportional to its bits in `cycle`; uniformly when none has any. */
function pickDomain(domains: readonly FaultDomain[], cycle: number, random: SeededRandom): FaultDomain {
  let total = 0;
  for (let i = 0; i < domains.length; i++) total += bitsAt(domains[i], cycle);
  if (total === 0) return domains[random.int(0, domains.length - 1)];
  let point = random.int(0, total - 1);
  for (let i = 0; i < domains.length; i++) {
    const bits = bitsAt(domains[i], cycle);
    if (point < bits) return domains[i];
    point -= bits;
  }
  throw new Error('pickDomain: point beyond the fault space');
}

/** The byte address of bit `offset` of the concatenated ranges. */
function addressOf(ranges: NonNullable<FaultDomain['ranges']>, offset: number): number {
  let byte = offset >> 3;
  for (const [start, end] of ranges) {
    if (byte < end - start) return start + byte;
    byte -= end - start;
  }
  throw new Error('addressOf: offset beyond the ranges');
}

/** Where in its domain a fault of `width` bits lands: the location, first bit and width. */
function place(domain: FaultDomain, cycle: number, width: number, random: SeededRandom): [location: number, bit: number, width: number] {
  if (domain.ranges) {
    // Start bit so that all `width` bits stay inside the struck bits.
    const start = random.int(0, Math.max(0, domain.bits - width));
    return [addressOf(domain.ranges, start - (start & 7)), start & 7, width];
  }
  if (domain.globalBits) {
    const globalBits = domain.globalBits;
    let offset = random.int(0, domain.bits - 1);
    let index = 0;
    while (offset >= globalBits[index]) offset -= globalBits[index++];
    // A fault cannot flip more bits than the global has: a wider one flips the whole global.
    const bitsHere = Math.min(width, globalBits[index]);
    return [index, Math.min(offset, globalBits[index] - bitsHere), bitsHere];
  }
  const executed = domain.sites![cycle];
  const location = executed > 0 ? random.int(0, executed - 1) : -1;
  return [location, random.int(0, domain.target === 'result' ? 63 : 31), width];
}

/** One fault of `width` adjacent bits in `cycle`, uniform over the bits of `domains`. */
export function drawFault(random: SeededRandom, domains: readonly FaultDomain[], cycle: number, width: number): Fault {
  if (domains.length === 0) throw new Error('drawFault: no domain to strike');
  const domain = pickDomain(domains, cycle, random);
  const [location, bit, placedWidth] = place(domain, cycle, width, random);
  // Only the fields the target has: a record of it is what a results file and a replay show.
  if (domain.target === 'checkpoint') return { cycle, target: domain.target, region: domain.region, location, bit, width: placedWidth };
  if (domain.target === 'replica' || domain.target === 'link') return { cycle, target: domain.target, location, bit, width: placedWidth };
  return { cycle, target: domain.target, processor: domain.processor, core: domain.core, location, bit, width: placedWidth };
}

export interface RandomFaultPlan {
  readonly seed: number;
  readonly cycles: number;
  readonly controlPeriod: number;
  /** Exactly this many faults... */
  readonly count?: number;
  /** ...or a Poisson process at this rate per bit per day. */
  readonly ratePerBitPerDay?: number;
  /** Adjacent bits per fault (1: single-bit upsets). */
  readonly width: number;
  /** What a fault in a core does, drawn uniformly among these (absent: flips only). */
  readonly kinds?: readonly FaultKind[];
}

/**
 * The kind of a fault drawn in a core, from its own stream (so that placing the faults draws the same
 * numbers whatever the kinds): other targets, and a plan of flips only, stay flips.
 */
export function withKind(fault: Fault, kinds: readonly FaultKind[] | undefined, random: SeededRandom): Fault {
  if (!kinds || (kinds.length === 1 && kinds[0] === 'flip') || fault.processor === undefined) return fault;
  const kind = kinds[random.int(0, kinds.length - 1)];
  const stuckAt = random.int(0, 1) as 0 | 1;
  if (kind === 'flip') return fault;
  if (kind === 'stuck') return fault.target === 'memory' || fault.target === 'global' ? { ...fault, kind, stuckAt } : fault;
  return { ...fault, kind };
}

/** `fly`'s random upsets: cycles by count or by rate, each placed by drawFault, sorted by cycle. */
export function randomFaults(domains: readonly FaultDomain[], plan: RandomFaultPlan): Fault[] {
  const bits = totalBits(domains);
  if (bits === 0 || plan.cycles === 0) return [];
  const random = new SeededRandom(plan.seed, 'upsets');
  const cycles: number[] = [];
  if (plan.count !== undefined) {
    if (plan.count > MAX_UPSETS) throw new RangeError(`at most ${MAX_UPSETS} upsets per run`);
    for (let i = 0; i < plan.count; i++) cycles.push(random.int(0, plan.cycles - 1));
  } else if (plan.ratePerBitPerDay !== undefined && plan.ratePerBitPerDay > 0) {
    const perSecond = (plan.ratePerBitPerDay * bits) / SECONDS_PER_DAY;
    const duration = plan.cycles * plan.controlPeriod;
    if (perSecond * duration > MAX_UPSETS) {
      throw new RangeError(`rate ${plan.ratePerBitPerDay}/bit/day gives about ${Math.round(perSecond * duration)} upsets; at most ${MAX_UPSETS} per run`);
    }
    for (let t = -Math.log(1 - random.uniform()) / perSecond; t < duration; t += -Math.log(1 - random.uniform()) / perSecond) {
      cycles.push(Math.floor(t / plan.controlPeriod));
    }
  }
  cycles.sort((a, b) => a - b);
  const kindRandom = new SeededRandom(plan.seed, 'upset kinds');
  return cycles.map((cycle) => withKind(drawFault(random, domains, cycle, plan.width), plan.kinds, kindRandom));
}
