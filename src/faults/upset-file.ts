// Scripted upsets: a JSON file listing faults by cycle, for a user reproducing one event or writing a
// test scenario. `{ "upsets": [ { "cycle": 120, "target": "memory", "address": 1024, "bit": 3 } ] }`;
// the location is named by what it is: `address` (memory), `global` (an index of the state globals),
// `instruction` (result and branch: the n-th executed in the cycle), `byte` (link: the byte of the cycle's
// traffic on the cross-strap link); a `replica` upset names a byte of the persistent store's replica by
// `address`.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeZodIssue } from '../input-errors.js';
import { FAULT_TARGETS, type Fault } from './fault.js';

const upsetSchema = z
  .object({
    cycle: z.number().int().min(0),
    target: z.enum(FAULT_TARGETS),
    processor: z.enum(['primary', 'spare']).optional(),
    core: z.enum(['A', 'B']).optional(),
    region: z.enum(['memory', 'global']).optional(),
    address: z.number().int().min(0).optional(),
    global: z.number().int().min(0).optional(),
    instruction: z.number().int().min(0).optional(),
    byte: z.number().int().min(0).optional(),
    bit: z.number().int().min(0).max(63).optional(),
    width: z.number().int().min(1).max(64).default(1),
  })
  .strict()
  .superRefine((value, context) => {
    if (value.bit === undefined && value.target !== 'branch') context.addIssue({ code: 'custom', path: ['bit'], message: 'required: the first flipped bit' });
    // A field that does not apply to the target would be ignored: refused, so that no upset flies other than written.
    const inCheckpoint = value.target === 'checkpoint';
    const inReplica = value.target === 'replica';
    const onLink = value.target === 'link';
    const notFields = inCheckpoint ? (['processor', 'core'] as const) : inReplica || onLink ? (['processor', 'core', 'region'] as const) : (['region'] as const);
    for (const name of notFields) {
      const why = name === 'region' ? 'only a checkpoint upset has a region' : inCheckpoint ? 'the checkpoint belongs to no processor' : inReplica ? "the replica belongs to no processor's cores" : 'the link is between the processors';
      if (value[name] !== undefined) context.addIssue({ code: 'custom', path: [name], message: `not a field of a ${value.target} upset (${why})` });
    }
    const field = locationField(value);
    if (value[field] === undefined) context.addIssue({ code: 'custom', path: [field], message: `required for an upset in ${LOCATION_MEANING[field]}` });
    for (const name of ['address', 'global', 'instruction', 'byte'] as const) {
      if (name !== field && value[name] !== undefined) context.addIssue({ code: 'custom', path: [name], message: `not a field of a ${value.target} upset${value.target === 'checkpoint' ? ` in the checkpoint's ${value.region ?? 'memory'}` : ''} (give ${field})` });
    }
  });

const LOCATION_MEANING = {
  address: 'memory (a byte address; in the replica, a byte of the region, then of its CRC-32)',
  global: 'a global (the index of the state global)',
  instruction: 'an instruction (the n-th executed in the cycle, from 0)',
  byte: 'the link (the byte of the cycle\'s traffic, from 0)',
} as const;

function locationField(value: { target: Fault['target']; region?: 'memory' | 'global' }): keyof typeof LOCATION_MEANING {
  if (value.target === 'result' || value.target === 'branch') return 'instruction';
  if (value.target === 'link') return 'byte';
  return value.target === 'global' || (value.target === 'checkpoint' && value.region === 'global') ? 'global' : 'address';
}

export const upsetFileSchema = z.object({ upsets: z.array(upsetSchema) }).strict();

export class UpsetFileError extends Error {}

/**
 * Reads a scripted upset file into faults, sorted by cycle. With the mission's `cycles`, an upset after its
 * last cycle is refused, named by its place in the file: it would never strike.
 */
export function readUpsetFile(path: string, cycles = Number.POSITIVE_INFINITY): Fault[] {
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
  if (!parsed.success) throw new UpsetFileError(describeZodIssue(path, parsed.error.issues[0]));
  const late = parsed.data.upsets.findIndex((entry) => entry.cycle >= cycles);
  if (late >= 0) {
    throw new UpsetFileError(`${path}: upsets[${late}].cycle: ${parsed.data.upsets[late].cycle} is after the mission's last cycle, ${cycles - 1} (${cycles} cycles: duration / controlPeriod)`);
  }
  return parsed.data.upsets
    .map((entry): Fault => {
      const inCheckpoint = entry.target === 'checkpoint';
      const where = inCheckpoint ? { region: entry.region ?? 'memory' } : entry.target === 'replica' || entry.target === 'link' ? {} : { processor: entry.processor ?? 'primary', core: entry.core ?? 'A' };
      return {
        cycle: entry.cycle,
        target: entry.target,
        ...where,
        location: entry[locationField(entry)]!,
        bit: entry.bit ?? 0,
        width: entry.width,
      };
    })
    .sort((a, b) => a.cycle - b.cycle);
}
