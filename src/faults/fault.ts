// What a fault is: `width` adjacent bits flipped in one place at one cycle. The one vocabulary of faults,
// whether scripted in an upset file, drawn by `fly` or drawn by a campaign. Storage faults (memory,
// globals, the checkpoint) strike at the start of their cycle, before the cores run — the same as at the
// end of the previous one: between cycles is where state lives. Instruction faults (the result of the
// n-th value-producing instruction, the n-th branch decision) strike during their cycle, and need the
// fault-hook build of the flight software. A replica fault flips bits of the persistent store's replica
// (src/spare/persistent-store.ts): the region's bytes as the other processor holds them, or their CRC-32.
// A link fault flips bits of what crosses the cross-strap link in its cycle — a commit's stream on its way
// to the spare — and strikes nothing when the link is idle there. (A flip in a write of the persistent
// region in transit lands in the replica, under its CRC-32: what a replica fault models.)
// Most faults are transient flips (`kind` absent or `flip`). Lasting faults stay with the hardware from
// their cycle on, whatever role its processor has since: `stuck` holds bits of a core's memory or global
// at 0 or 1, `dead` halts a core (it presents no outputs: the watchdog fires), `babbling` garbles a core's
// outputs. They name the processor by its identity (P1, P2, P3) as readily as by its role.

export const FAULT_TARGETS = ['memory', 'global', 'result', 'branch', 'checkpoint', 'replica', 'link'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];
/** Targets that are bits of storage: what a rate per bit per day can strike. */
export const STORAGE_TARGETS = ['memory', 'global', 'checkpoint', 'replica'] as const satisfies readonly FaultTarget[];
export type StorageTarget = (typeof STORAGE_TARGETS)[number];
/** Targets `fly` draws random upsets over: storage, and the bits the link carries. */
export const RANDOM_TARGETS = ['memory', 'global', 'checkpoint', 'replica', 'link'] as const satisfies readonly FaultTarget[];
export type RandomTarget = (typeof RANDOM_TARGETS)[number];

export type ProcessorRole = 'primary' | 'spare';
/** The physical processors, whatever their role: P3 exists only with TMR (one core per processor there). */
export const PROCESSOR_NAMES = ['P1', 'P2', 'P3', 'P4'] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];
/** A processor by its role at the time of the fault, or by its identity. */
export type ProcessorRef = ProcessorRole | ProcessorName;

export const FAULT_KINDS = ['flip', 'stuck', 'dead', 'babbling'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Kinds that last from their cycle on. */
export const LASTING_KINDS = ['stuck', 'dead', 'babbling'] as const satisfies readonly FaultKind[];
export type LastingKind = (typeof LASTING_KINDS)[number];
export type CoreName = 'A' | 'B';
export type CheckpointRegion = 'memory' | 'global';

export interface Fault {
  /** The cycle at whose start (storage) or during which (result, branch) the bits flip. */
  readonly cycle: number;
  readonly target: FaultTarget;
  /**
   * flip (absent: a flip) or a lasting fault. A `stuck` fault is a memory or global fault whose bits hold
   * `stuckAt`; `dead` and `babbling` strike the whole core (its target and location are where it was
   * drawn, and mean nothing more).
   */
  readonly kind?: FaultKind;
  /** stuck: the value the bits hold. */
  readonly stuckAt?: 0 | 1;
  /** memory, global, result, branch: which processor, by its role at the time of the fault or by name. */
  readonly processor?: ProcessorRef;
  /** memory, global, result, branch: which core of that processor. */
  readonly core?: CoreName;
  /** checkpoint: its memory image or its global slots. */
  readonly region?: CheckpointRegion;
  /**
   * link: the byte of the cycle's traffic on the link (from the start of its commit's stream).
   * memory (and checkpoint memory): byte address; replica: byte of the replica (the region's bytes, then
   * the 4 bytes of their CRC-32); global (and checkpoint global): index into the module's
   * state globals; result, branch: the n-th (0-based) value-producing instruction or branch decision the
   * core executes in the cycle (-1: the cycle executes none, so there is nothing to strike).
   */
  readonly location: number;
  /** First flipped bit: within the byte (may run into the following bytes), the global or the result. */
  readonly bit: number;
  /** Adjacent bits flipped, 1 for a single-bit upset. */
  readonly width: number;
}

export class FaultError extends Error {}

/** Whether a fault strikes during its cycle through the fault hooks rather than in storage. */
export function isInstructionFault(fault: Pick<Fault, 'target'>): boolean {
  return fault.target === 'result' || fault.target === 'branch';
}

/** Whether a fault lasts from its cycle on (stuck, dead, babbling) rather than flipping bits once. */
export function isLasting(fault: Pick<Fault, 'kind'>): fault is Fault & { kind: LastingKind } {
  return fault.kind !== undefined && fault.kind !== 'flip';
}

/** Whether a fault strikes a global (of a core, or the checkpoint's slots) rather than bytes. */
export function strikesGlobal(fault: Pick<Fault, 'target' | 'region'>): boolean {
  return fault.target === 'global' || (fault.target === 'checkpoint' && fault.region === 'global');
}

/** Flips `width` bits starting at bit `bit` of byte `address` (bits may run into following bytes). */
export function flipBits(bytes: Uint8Array, address: number, bit: number, width: number): void {
  const first = address * 8 + bit;
  const end = first + width;
  if (address < 0 || end > bytes.length * 8) {
    throw new FaultError(`bits ${first}..${end - 1} lie outside the ${bytes.length} bytes of the target`);
  }
  for (let b = first; b < end; b++) bytes[b >> 3] ^= 1 << (b & 7);
}

/**
 * Holds `width` bits from bit `bit` of byte `address` at `value` (a stuck cell); returns whether any
 * changed.
 */
export function holdBits(bytes: Uint8Array, address: number, bit: number, width: number, value: 0 | 1): boolean {
  const first = address * 8 + bit;
  const end = first + width;
  if (address < 0 || end > bytes.length * 8) {
    throw new FaultError(`bits ${first}..${end - 1} lie outside the ${bytes.length} bytes of the target`);
  }
  let changed = false;
  for (let b = first; b < end; b++) {
    const before = bytes[b >> 3];
    const after = value ? before | (1 << (b & 7)) : before & ~(1 << (b & 7));
    if (after !== before) {
      bytes[b >> 3] = after;
      changed = true;
    }
  }
  return changed;
}

/** The XOR mask a result fault applies to a 64-bit result: `width` bits from `bit`, cut at bit 63. */
export function resultMask(fault: Pick<Fault, 'bit' | 'width'>): bigint {
  const bits = Math.min(fault.width, 64 - fault.bit);
  return ((1n << BigInt(bits)) - 1n) << BigInt(fault.bit);
}
