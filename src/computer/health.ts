// Health management: which processors the flight computer may still trust. Like Pacemaker's fail counts
// and migration threshold, every detection is counted against the processor it caught, and a processor
// with `failThreshold` detections within `failWindowCycles` is declared failed: never reintegrated, the
// computer flies on without it. Like a cluster's heartbeat, a hot spare answers every `heartbeatCycles`
// cycles, so that a spare that died quietly is noticed within that bound rather than at the failover
// that needed it. And the scrub reaches the spare: at each epoch's end the spare's copy of the scrubbed
// blocks is refreshed from the checkpoint and read back, which repairs a transient flip there and finds a
// stuck bit. The decisions are the controller table's (src/spare/controller.ts: check-spare,
// resync-failed-processor); this module keeps the counts and the evidence, and reports them.
import type { Core } from '../core/core.js';
import { memoryRanges, RANGES } from '../core/state.js';
import type { Processor } from '../processor/processor.js';
import type { Checkpoint } from '../spare/checkpoint.js';

export interface HealthPolicy {
  /** Detections within the window that declare a processor failed; 0: never (no policy). */
  readonly failThreshold: number;
  /** The window of the fail count, cycles. */
  readonly failWindowCycles: number;
  /** A hot spare answers a heartbeat every this many cycles: a silent one is noticed within this bound. */
  readonly heartbeatCycles: number;
}

export const NO_HEALTH_POLICY: HealthPolicy = { failThreshold: 0, failWindowCycles: 1, heartbeatCycles: 10 };

/** What `fly --json` reports of health management (names from issue 14). */
export interface HealthSummary {
  /** Processors declared failed, in the order they were. */
  failedProcessors: string[];
  /** The cycle the computer degraded to simplex (a processor declared failed), or null. */
  degradedAtCycle: number | null;
  /** Spare failures found while it stood by: a silent heartbeat, a fault its scrub found. */
  spareFailuresDetected: number;
  /** Most cycles from a spare's death to its heartbeat going missing (0: none died). */
  heartbeatLatencyCyclesMax: number;
}

/** The spare's verdict: fine, faulty (a fault its scrub found) or failed (silent, or over the threshold). */
export type SpareCheck = 'fine' | 'faulty' | 'failed';

export class HealthMonitor {
  /** Cycles of the detections counted against each processor, oldest first (pruned to the window). */
  private readonly failures = new Map<string, number[]>();
  /** When each processor's core died, as the model knows it: to measure the heartbeat's latency. */
  private readonly deaths = new Map<string, number>();
  readonly summary: HealthSummary = { failedProcessors: [], degradedAtCycle: null, spareFailuresDetected: 0, heartbeatLatencyCyclesMax: 0 };

  constructor(readonly policy: HealthPolicy) {
    if (!Number.isInteger(policy.heartbeatCycles) || policy.heartbeatCycles < 1) throw new RangeError(`heartbeatCycles must be a whole number ≥ 1, not ${policy.heartbeatCycles}`);
  }

  /** A detection against `processor` in `cycle`. */
  noteFailure(processor: string, cycle: number): void {
    if (this.policy.failThreshold === 0) return;
    let cycles = this.failures.get(processor);
    if (!cycles) this.failures.set(processor, (cycles = []));
    cycles.push(cycle);
    // Bounded: only the window's detections are kept.
    while (cycles.length > 0 && cycles[0] <= cycle - this.policy.failWindowCycles) cycles.shift();
  }

  /** Whether `processor` has reached its threshold of detections within the window ending at `cycle`. */
  overThreshold(processor: string, cycle: number): boolean {
    const threshold = this.policy.failThreshold;
    if (threshold === 0) return false;
    const cycles = this.failures.get(processor) ?? [];
    let recent = 0;
    for (const at of cycles) if (at > cycle - this.policy.failWindowCycles) recent++;
    return recent >= threshold;
  }

  /** The model's record of a core's death (a lasting `dead` fault), for the latency; not a decision input. */
  noteDeath(processor: string, cycle: number): void {
    if (!this.deaths.has(processor)) this.deaths.set(processor, cycle);
  }

  /** Whether `cycle` ends with a heartbeat exchange. */
  heartbeatAt(cycle: number): boolean {
    return (cycle + 1) % this.policy.heartbeatCycles === 0;
  }

  /** A spare's heartbeat missing at the end of `cycle`: counted, and the latency since its death measured. */
  noteSilence(processor: string, cycle: number): void {
    this.summary.spareFailuresDetected++;
    const died = this.deaths.get(processor);
    if (died !== undefined) this.summary.heartbeatLatencyCyclesMax = Math.max(this.summary.heartbeatLatencyCyclesMax, cycle + 1 - died);
  }

  /** A fault the spare's scrub found at the end of `cycle`. */
  noteSpareFault(processor: string, cycle: number): void {
    this.summary.spareFailuresDetected++;
    this.noteFailure(processor, cycle);
  }

  /**
   * `processor` declared failed at `cycle`: the computer flies on without it — degraded (to simplex, or
   * TMR to a pair) unless a spare took its place.
   */
  retire(processor: string, cycle: number, degrades = true): void {
    if (this.summary.failedProcessors.includes(processor)) return;
    this.summary.failedProcessors.push(processor);
    if (degrades) this.summary.degradedAtCycle ??= cycle;
  }

  isRetired(processor: string): boolean {
    return this.summary.failedProcessors.includes(processor);
  }
}

/** Whether a processor answers a heartbeat: every core alive (a dead core answers nothing). */
export function answersHeartbeat(processor: Processor): boolean {
  return processor.cores.every((core) => !core.dead);
}

/**
 * The spare's scrub: its copy of the checkpoint's `blocks` (and the globals) is refreshed and read back.
 * A transient flip there is repaired; a bit that reads back other than written — stuck — is found.
 * Returns whether every core read back what the checkpoint holds.
 */
export function scrubSpare(spare: Processor, checkpoint: Checkpoint, blocks: number): boolean {
  let clean = true;
  for (const core of spare.cores) if (!scrubCore(core, checkpoint, blocks)) clean = false;
  return clean;
}

function scrubCore(core: Core, checkpoint: Checkpoint, blocks: number): boolean {
  // Without a lasting fault what is written reads back, and the spare is reloaded whole at a failover
  // anyway: nothing to model (and nothing to spend the campaign-speed path on).
  if (core.afflictions === null) return true;
  const length = checkpoint.memoryLength;
  const memory = core.memoryBytes();
  // A spare whose memory is not the checkpoint's size is reloaded whole at its failover anyway.
  if (memory.length !== length) return true;
  const image = checkpoint.memory;
  const end = memoryRanges(core, blocks, length);
  for (let i = 0; i < end; i += 2) memory.set(image.subarray(RANGES[i], RANGES[i + 1]), RANGES[i]);
  const globals = core.globals;
  for (let i = 0; i < globals.length; i++) globals[i].value = checkpoint.globals.load(i);
  core.holdAfflictions();
  for (let i = 0; i < end; i += 2) {
    if (Buffer.compare(memory.subarray(RANGES[i], RANGES[i + 1]), image.subarray(RANGES[i], RANGES[i + 1])) !== 0) return false;
  }
  for (let i = 0; i < globals.length; i++) if (!Object.is(globals[i].value, checkpoint.globals.load(i))) return false;
  return true;
}
