// What an upset is and how it lands. An upset flips `width` adjacent bits (1 for a single-event upset,
// more for a multi-bit upset) in one place: the linear memory or a global of one core of the primary or
// the spare, or the checkpoint in shared memory. It strikes at the start of a cycle, before the cores
// run, which is the same as striking at the end of the previous one: between cycles is where state lives.
import type { Core } from '../core/core.js';
import { BITS_OF_TYPE, GlobalSlots } from '../core/global-slots.js';
import type { FlightComputer } from '../computer/flight-computer.js';

export type UpsetTarget = 'memory' | 'global' | 'checkpoint';
export type ProcessorRole = 'primary' | 'spare';
export type CoreName = 'A' | 'B';
export type CheckpointRegion = 'memory' | 'global';

export interface Upset {
  /** The cycle at whose start the bits flip. */
  readonly cycle: number;
  readonly target: UpsetTarget;
  /** memory/global: which processor, by its role at the time of the upset. */
  readonly processor?: ProcessorRole;
  /** memory/global: which core of that processor. */
  readonly core?: CoreName;
  /** checkpoint: its memory image or its global slots. */
  readonly region?: CheckpointRegion;
  /** memory: byte address; global: index into the module's state globals. */
  readonly location: number;
  /** First flipped bit: within the byte at `location` (may run into the following bytes) or the global. */
  readonly bit: number;
  /** Adjacent bits flipped, 1 for a single-bit upset. */
  readonly width: number;
}

export class UpsetError extends Error {}

/** Flips `width` bits starting at bit `bit` of byte `address` (bits may run into following bytes). */
export function flipBits(bytes: Uint8Array, address: number, bit: number, width: number): void {
  const first = address * 8 + bit;
  const end = first + width;
  if (address < 0 || end > bytes.length * 8) {
    throw new UpsetError(`bits ${first}..${end - 1} lie outside the ${bytes.length} bytes of the target`);
  }
  for (let b = first; b < end; b++) bytes[b >> 3] ^= 1 << (b & 7);
}

const scratchCache = new WeakMap<Core, GlobalSlots>();

/** Checks that bits `bit`..`bit + width - 1` of global `index` exist; the slots' own check is a RangeError. */
function checkGlobalBits(slots: GlobalSlots, index: number, bit: number, width: number): void {
  const count = slots.types.length;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new UpsetError(`global index ${index} outside the ${count} state globals of the module`);
  }
  const bits = BITS_OF_TYPE[slots.types[index]];
  if (bit < 0 || width < 1 || bit + width > bits) {
    throw new UpsetError(`bits ${bit}..${bit + width - 1} outside global ${index}, a ${slots.types[index]} of ${bits} bits`);
  }
}

function flipCoreGlobal(core: Core, index: number, bit: number, width: number): void {
  const types = core.flightModule.stateGlobals.map((global) => global.type);
  let scratch = scratchCache.get(core);
  if (!scratch) {
    scratch = new GlobalSlots(types);
    scratchCache.set(core, scratch);
  }
  checkGlobalBits(scratch, index, bit, width);
  scratch.store(index, core.globals[index].value as number | bigint);
  scratch.flip(index, bit, width);
  core.globals[index].value = scratch.load(index);
}

export function applyUpset(computer: FlightComputer, upset: Upset): void {
  if (upset.target === 'checkpoint') {
    const checkpoint = computer.checkpoint;
    if (upset.region === 'global') {
      checkGlobalBits(checkpoint.globals, upset.location, upset.bit, upset.width);
      checkpoint.globals.flip(upset.location, upset.bit, upset.width);
    } else flipBits(checkpoint.memory.subarray(0, checkpoint.memoryLength), upset.location, upset.bit, upset.width);
    return;
  }
  const processor = upset.processor === 'spare' ? computer.spare : computer.primary;
  const core = processor.cores[upset.core === 'B' ? 1 : 0];
  if (upset.target === 'memory') flipBits(core.memoryBytes(), upset.location, upset.bit, upset.width);
  else flipCoreGlobal(core, upset.location, upset.bit, upset.width);
}

/** A one-line human description, with the global's name where the module has one. */
export function describeUpset(upset: Upset, globalNames: readonly string[]): string {
  const bits = upset.width === 1 ? `bit ${upset.bit}` : `bits ${upset.bit}..${upset.bit + upset.width - 1}`;
  const place =
    upset.target === 'checkpoint'
      ? `checkpoint ${upset.region ?? 'memory'}`
      : `${upset.processor ?? 'primary'} core ${upset.core ?? 'A'} ${upset.target}`;
  const where =
    (upset.target === 'global' || upset.region === 'global')
      ? `global ${globalNames[upset.location] ?? `#${upset.location}`}`
      : `address 0x${upset.location.toString(16)}`;
  return `cycle ${upset.cycle}: ${place}, ${where}, ${bits}`;
}

