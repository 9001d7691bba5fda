// Where upsets come from: a scripted file listing them, or a seeded random draw — a given count spread
// uniformly over the mission, or a physical rate (upsets per bit per day, as quoted for radiation
// environments) turned into a Poisson process over the mission's bits and time. The draw has its own
// random stream, so the same seed gives the same upsets and the plant's noise is not disturbed by them.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeZodIssue } from '../input-errors.js';
import { SeededRandom } from '../random.js';
import { faultDomains, totalBits, type FaultDomain, type FaultSpaceShape } from './fault-space.js';
import type { Upset, UpsetTarget } from './upset.js';

export const SECONDS_PER_DAY = 86_400;
/** Upper bound on upsets in one run: a mistyped rate must not exhaust memory. */
export const MAX_UPSETS = 1_000_000;

export interface RandomUpsetPlan {
  readonly seed: number;
  readonly cycles: number;
  readonly controlPeriod: number;
  readonly targets: readonly UpsetTarget[];
  /** Exactly this many upsets... */
  readonly count?: number;
  /** ...or a Poisson process at this rate per bit per day. */
  readonly ratePerBitPerDay?: number;
  /** Adjacent bits per upset (1: single-bit upsets). */
  readonly width: number;
}

function placeUpset(domain: FaultDomain, cycle: number, width: number, random: SeededRandom): Upset {
  const common = { cycle, target: domain.target, processor: domain.processor, core: domain.core, region: domain.region, width };
  if (domain.memoryBytes !== undefined) {
    // Start bit so that all `width` bits stay inside the domain.
    const start = random.int(0, domain.bits - width);
    return { ...common, location: start >> 3, bit: start & 7 };
  }
  const globalBits = domain.globalBits!;
  let offset = random.int(0, domain.bits - 1);
  let index = 0;
  while (offset >= globalBits[index]) offset -= globalBits[index++];
  // An upset cannot flip more bits than the global has: a wider one flips the whole global.
  const bitsHere = Math.min(width, globalBits[index]);
  return { ...common, width: bitsHere, location: index, bit: Math.min(offset, globalBits[index] - bitsHere) };
}

function pickDomain(domains: readonly FaultDomain[], total: number, random: SeededRandom): FaultDomain {
  let point = random.int(0, total - 1);
  for (const domain of domains) {
    if (point < domain.bits) return domain;
    point -= domain.bits;
  }
  throw new Error('pickDomain: point beyond the fault space');
}

export function randomUpsets(shape: FaultSpaceShape, plan: RandomUpsetPlan): Upset[] {
  const domains = faultDomains(shape, plan.targets);
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
  return cycles.map((cycle) => placeUpset(pickDomain(domains, bits, random), cycle, plan.width, random));
}

const upsetSchema = z
  .object({
    cycle: z.number().int().min(0),
    target: z.enum(['memory', 'global', 'checkpoint']),
    processor: z.enum(['primary', 'spare']).default('primary'),
    core: z.enum(['A', 'B']).default('A'),
    region: z.enum(['memory', 'global']).default('memory'),
    address: z.number().int().min(0).optional(),
    global: z.number().int().min(0).optional(),
    bit: z.number().int().min(0).max(63),
    width: z.number().int().min(1).max(64).default(1),
  })
  .strict()
  .superRefine((value, context) => {
    const wantsGlobal = value.target === 'global' || (value.target === 'checkpoint' && value.region === 'global');
    if (wantsGlobal && value.global === undefined) {
      context.addIssue({ code: 'custom', path: ['global'], message: 'required for an upset in a global (the index of the state global)' });
    }
    if (!wantsGlobal && value.address === undefined) {
      context.addIssue({ code: 'custom', path: ['address'], message: 'required for an upset in memory (a byte address)' });
    }
  });

export const upsetFileSchema = z.object({ upsets: z.array(upsetSchema) }).strict();

export class UpsetFileError extends Error {}

/** Reads a scripted upset file: `{ "upsets": [ { "cycle": 120, "target": "memory", "address": 1024, "bit": 3 } ] }`. */
export function readUpsetFile(path: string): Upset[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UpsetFileError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UpsetFileError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = upsetFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new UpsetFileError(describeZodIssue(path, parsed.error.issues[0]));
  }
  return parsed.data.upsets
    .map((entry) => ({
      cycle: entry.cycle,
      target: entry.target,
      processor: entry.processor,
      core: entry.core,
      region: entry.region,
      location: (entry.target === 'global' || (entry.target === 'checkpoint' && entry.region === 'global') ? entry.global : entry.address)!,
      bit: entry.bit,
      width: entry.width,
    }))
    .sort((a, b) => a.cycle - b.cycle);
}
