// How a fault lands. Storage faults flip bits in a core's memory or globals, or in the checkpoint, at
// once; instruction faults arm the fault hooks of a core built with them, to flip the n-th result or
// invert the n-th branch decision of the cycle about to run. The flight computer (FlightComputer.strike)
// and the campaign runner (its faulty core) both strike through `strikeCore` — the same code. A link fault
// flips bits of a commit's stream as it crosses the link (`strikeInTransit`), for both of them too.
// A lasting fault (stuck, dead, babbling) becomes an affliction of the core, which acts around every run
// from then on (Core.afflict): the same for the flight computer and the campaign runner.
import type { Affliction, Core } from '../core/core.js';
import { armBranchFlip, armResultFlip, hasFaultHooks } from '../core/fault-core.js';
import { BITS_OF_TYPE, GlobalSlots } from '../core/global-slots.js';
import type { Checkpoint } from '../spare/checkpoint.js';
import type { PersistentStore } from '../spare/persistent-store.js';
import { FaultError, flipBits, holdBits, isLasting, resultMask, type Fault } from '../faults/fault.js';

const scratchCache = new WeakMap<Core, GlobalSlots>();

/** Checks that bits `bit`..`bit + width - 1` of global `index` exist; the slots' own check is a RangeError. */
function checkGlobalBits(slots: GlobalSlots, index: number, bit: number, width: number): void {
  const count = slots.types.length;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new FaultError(`global index ${index} outside the ${count} state globals of the module`);
  }
  const bits = BITS_OF_TYPE[slots.types[index]];
  if (bit < 0 || width < 1 || bit + width > bits) {
    throw new FaultError(`bits ${bit}..${bit + width - 1} outside global ${index}, a ${slots.types[index]} of ${bits} bits`);
  }
}

function scratchOf(core: Core): GlobalSlots {
  let scratch = scratchCache.get(core);
  if (!scratch) {
    scratch = new GlobalSlots(core.flightModule.stateGlobals.map((global) => global.type));
    scratchCache.set(core, scratch);
  }
  return scratch;
}

function flipCoreGlobal(core: Core, index: number, bit: number, width: number): void {
  const scratch = scratchOf(core);
  checkGlobalBits(scratch, index, bit, width);
  scratch.store(index, core.globals[index].value as number | bigint);
  scratch.flip(index, bit, width);
  core.globals[index].value = scratch.load(index);
}

/**
 * Strikes one core: flips its memory or a global now, or arms its fault hooks for the cycle it runs
 * next (a location of -1, a cycle that executes no such instruction, arms nothing). Returns whether
 * hooks were armed: the caller disarms them after the cycle.
 */
export function strikeCore(core: Core, fault: Fault, salt = 0): boolean {
  if (isLasting(fault)) {
    core.afflict(afflictionOf(core, fault, salt));
    return false;
  }
  switch (fault.target) {
    case 'memory':
      flipBits(core.memoryBytes(), fault.location, fault.bit, fault.width);
      return false;
    case 'global':
      flipCoreGlobal(core, fault.location, fault.bit, fault.width);
      return false;
    case 'result':
    case 'branch':
      if (!hasFaultHooks(core)) throw new FaultError(`a ${fault.target} fault needs the fault-hook build of the flight software`);
      if (fault.location < 0) return false;
      if (fault.target === 'result') armResultFlip(core, fault.location, resultMask(fault));
      else armBranchFlip(core, fault.location, fault.bit % 32);
      return true;
    case 'checkpoint':
      throw new FaultError('a checkpoint fault strikes the checkpoint, not a core');
    case 'replica':
      throw new FaultError('a replica fault strikes the persistent store\'s replica, not a core');
    case 'link':
      throw new FaultError('a link fault strikes a commit in transit, not a core');
  }
}

/** Flips bits of the persistent store's replica: the region's bytes, or the CRC-32 after them. */
export function strikeReplica(store: PersistentStore | null, fault: Fault): void {
  if (!store) throw new FaultError('a replica fault needs flight software that declares a persistent region, flown with a spare and replication on');
  flipBits(store.replica, fault.location, fault.bit, fault.width);
}

/** Flips bits of the checkpoint's memory image or global slots. */
export function strikeCheckpoint(checkpoint: Checkpoint, fault: Fault): void {
  if (fault.region === 'global') {
    checkGlobalBits(checkpoint.globals, fault.location, fault.bit, fault.width);
    checkpoint.globals.flip(fault.location, fault.bit, fault.width);
  } else flipBits(checkpoint.memory.subarray(0, checkpoint.memoryLength), fault.location, fault.bit, fault.width);
}

/**
 * Flips the bits of a link fault in the first `length` bytes that crossed the link in its cycle (the
 * commit's stream): location is the byte of the period's traffic, so a fault beyond what was sent struck
 * an idle link. Returns whether it flipped anything.
 */
export function strikeInTransit(bytes: Uint8Array, length: number, fault: Fault): boolean {
  const last = fault.location + ((fault.bit + fault.width - 1) >> 3);
  if (fault.location < 0 || last >= length) return false;
  flipBits(bytes.subarray(0, length), fault.location, fault.bit, fault.width);
  return true;
}

/** A core that stopped for good: it never runs again, and presents no outputs. */
const DEAD: Affliction = { dead: true, apply: () => {} };

/**
 * The affliction a lasting fault gives a core: its bits held (checked now, so that a stuck fault outside
 * the core's memory or globals is refused at its strike), the core dead, or its outputs garbled — with
 * garbage of its own per `salt` (the core's index, when one fault strikes every core of a processor: two
 * cores babbling alike would agree).
 */
export function afflictionOf(core: Core, fault: Fault, salt = 0): Affliction {
  switch (fault.kind) {
    case 'dead':
      return DEAD;
    case 'babbling':
      return babbling(fault, salt);
    case 'stuck': {
      if (fault.stuckAt === undefined) throw new FaultError('a stuck fault needs the value its bits hold (0 or 1)');
      const value = fault.stuckAt;
      const { location, bit, width } = fault;
      if (fault.target === 'memory') {
        holdBits(core.memoryBytes(), location, bit, width, value);
        return { dead: false, apply: (struck) => void holdBits(struck.memoryBytes(), location, bit, width, value) };
      }
      if (fault.target === 'global') {
        checkGlobalBits(scratchOf(core), location, bit, width);
        return { dead: false, apply: (struck) => holdGlobalBits(struck, location, bit, width, value) };
      }
      throw new FaultError(`a stuck fault holds bits of a core's memory or global, not of the ${fault.target} target`);
    }
    default:
      throw new FaultError(`a ${fault.kind ?? 'flip'} fault is not a lasting one`);
  }
}

function holdGlobalBits(core: Core, index: number, bit: number, width: number, value: 0 | 1): void {
  const scratch = scratchOf(core);
  scratch.store(index, core.globals[index].value as number | bigint);
  if (holdBits(scratch.bytes.subarray(index * 8, index * 8 + 8), 0, bit, width, value)) core.globals[index].value = scratch.load(index);
}

/**
 * Garbage on every output channel after each run, from a stream of its own (xorshift32 seeded by the
 * fault's cycle and place): deterministic, and nothing like what a working core would send.
 */
function babbling(fault: Fault, salt: number): Affliction {
  let state = (Math.imul(fault.cycle + 1, 0x9e3779b1) ^ Math.imul(fault.location + 7, 0x85ebca6b) ^ Math.imul(salt + 1, 0x5bd1e995)) | 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  return {
    dead: false,
    apply: (core, afterRun) => {
      if (!afterRun) return;
      const outputs = core.outputs;
      outputs.writes = 0;
      outputs.writtenMask = 0;
      for (const output of core.flightModule.outputs) {
        outputs.bits[2 * output.channel] = next();
        outputs.bits[2 * output.channel + 1] = next();
        outputs.writtenMask |= 1 << output.channel;
        outputs.writes++;
      }
    },
  };
}
