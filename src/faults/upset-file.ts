// Scripted upsets: a JSON file listing faults by cycle, for a user reproducing one event or writing a
// test scenario. `{ "upsets": [ { "cycle": 120, "target": "memory", "address": 1024, "bit": 3 } ] }`;
// the location is named by what it is: `address` (memory), `global` (an index of the state globals),
// `instruction` (result and branch: the n-th executed in the cycle), `byte` (link: the byte of the cycle's
// traffic on the cross-strap link); a `replica` upset names a byte of the persistent store's replica by
// `address`.
// An entry with a `kind` is a lasting fault: `{ "cycle": 900, "kind": "stuck", "target": "memory",
// "address": 1024, "bit": 3, "value": 1 }` holds a bit from then on; `{ "cycle": 1000, "kind": "dead",
// "processor": "P1" }` halts P1's cores (or the one `core` names), `babbling` garbles their outputs.
// Processors are named by role (primary, spare) or by identity (P1, P2; P3 and P4 with TMR).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeZodIssue } from '../input-errors.js';
import { FAULT_KINDS, FAULT_TARGETS, PROCESSOR_NAMES, type Fault, type ProcessorName } from './fault.js';

const upsetSchema = z
  .object({
    cycle: z.number().int().min(0),
    kind: z.enum(FAULT_KINDS).optional(),
    target: z.enum(FAULT_TARGETS).optional(),
    processor: z.enum(['primary', 'spare', ...PROCESSOR_NAMES]).optional(),
    value: z.union([z.literal(0), z.literal(1)]).optional(),
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
    if (value.kind === 'dead' || value.kind === 'babbling') {
      // The whole core (or every core of the processor) is struck: no place in it to name.
      for (const name of ['target', 'region', 'address', 'global', 'instruction', 'byte', 'bit', 'value'] as const) {
        if (value[name] !== undefined) context.addIssue({ code: 'custom', path: [name], message: `not a field of a ${value.kind} upset (it strikes a whole core: name processor, and core if only one)` });
      }
      if (value.width !== 1) context.addIssue({ code: 'custom', path: ['width'], message: `not a field of a ${value.kind} upset` });
      return;
    }
    if (value.target === undefined) {
      context.addIssue({ code: 'custom', path: ['target'], message: `required: where the bits ${value.kind === 'stuck' ? 'stick' : 'flip'} (${FAULT_TARGETS.join(', ')})` });
      return;
    }
    if (value.kind === 'stuck') {
      if (value.target !== 'memory' && value.target !== 'global') context.addIssue({ code: 'custom', path: ['target'], message: `a stuck upset holds bits of a core's memory or global, not of the ${value.target}` });
      if (value.value === undefined) context.addIssue({ code: 'custom', path: ['value'], message: 'required for a stuck upset: the value its bits hold, 0 or 1' });
    } else if (value.value !== undefined) context.addIssue({ code: 'custom', path: ['value'], message: 'only a stuck upset holds a value (give "kind": "stuck")' });
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

function locationField(value: { target?: Fault['target']; region?: 'memory' | 'global' }): keyof typeof LOCATION_MEANING {
  if (value.target === 'result' || value.target === 'branch') return 'instruction';
  if (value.target === 'link') return 'byte';
  return value.target === 'global' || (value.target === 'checkpoint' && value.region === 'global') ? 'global' : 'address';
}

export const upsetFileSchema = z.object({ upsets: z.array(upsetSchema) }).strict();

export class UpsetFileError extends Error {}

/** The processors a flight computer has, to check the names an upset file gives (and say why one is missing). */
export interface UpsetFileMachine {
  readonly processors: readonly ProcessorName[];
  /** What the computer is, for the message naming a processor it lacks: "a pair with a hot spare". */
  readonly description: string;
}

/**
 * Reads a scripted upset file into faults, sorted by cycle. With the mission's `cycles`, an upset after its
 * last cycle is refused, named by its place in the file: it would never strike. With the `machine`, an
 * upset naming a processor the computer does not have is refused too.
 */
export function readUpsetFile(path: string, cycles = Number.POSITIVE_INFINITY, machine?: UpsetFileMachine): Fault[] {
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
  if (machine) {
    const stranger = parsed.data.upsets.findIndex((entry) => entry.processor?.startsWith('P') && !machine.processors.includes(entry.processor as ProcessorName));
    if (stranger >= 0) {
      throw new UpsetFileError(`${path}: upsets[${stranger}].processor: ${parsed.data.upsets[stranger].processor} is not a processor of ${machine.description} (it has ${machine.processors.join(', ')})`);
    }
  }
  return parsed.data.upsets
    .map((entry): Fault => {
      if (entry.kind === 'dead' || entry.kind === 'babbling') {
        // A whole core, or every core of the processor when `core` is not given.
        return { cycle: entry.cycle, kind: entry.kind, target: 'memory', processor: entry.processor ?? 'primary', ...(entry.core ? { core: entry.core } : {}), location: 0, bit: 0, width: 1 };
      }
      const target = entry.target!;
      const inCheckpoint = target === 'checkpoint';
      const where = inCheckpoint ? { region: entry.region ?? 'memory' } : target === 'replica' || target === 'link' ? {} : { processor: entry.processor ?? 'primary', core: entry.core ?? 'A' };
      return {
        cycle: entry.cycle,
        ...(entry.kind === 'stuck' ? { kind: 'stuck' as const, stuckAt: entry.value! } : {}),
        target,
        ...where,
        location: entry[locationField(entry)]!,
        bit: entry.bit ?? 0,
        width: entry.width,
      };
    })
    .sort((a, b) => a.cycle - b.cycle);
}
