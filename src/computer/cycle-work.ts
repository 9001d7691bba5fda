// The account of one control period: what ran, what was detected, what to release and commit, and the
// report the flight computer gives of it. Kept apart from the flight computer, which fills it in, so that
// the machine's rules and the period's bookkeeping each read on their own.
import { describeAbort, type AbortReport } from '../abi/abort.js';
import type { OutputCapture } from '../core/core.js';
import type { TrapKind } from '../core/traps.js';
import type { DetectionCause, MismatchKind, Verdict } from '../processor/comparator.js';
import type { Processor, ProcessorCycle } from '../processor/processor.js';
import { missesDeadline, periodSeconds, type ClockConfig } from './timing.js';

export { countsByCause, DETECTION_CAUSES, type DetectionCause } from '../processor/comparator.js';

export interface Detection {
  readonly processor: string;
  readonly cause: DetectionCause;
  readonly mismatch: MismatchKind | null;
  readonly trap: TrapKind | null;
  /** What the software's abort said (cause 'abort'). */
  readonly abort: AbortReport | null;
}

/**
 * A detection in words, as `fly` events and `replay` name it: "state mismatch", "trap (unreachable)",
 * "abort: quaternion not unit at assembly/estimator.ts:88:5".
 */
export function describeDetection(detection: {
  readonly cause: DetectionCause;
  readonly mismatch?: MismatchKind | null;
  readonly trap?: TrapKind | null;
  readonly abort?: AbortReport | null;
}): string {
  switch (detection.cause) {
    case 'mismatch':
      return `${detection.mismatch ?? 'output'} mismatch`;
    case 'trap':
      return `trap (${detection.trap ?? 'unknown'})`;
    case 'watchdog':
      return 'watchdog';
    case 'check':
      return 'software check failed';
    case 'abort':
      return detection.abort ? describeAbort(detection.abort) : 'abort';
  }
}

/** What a control period came to. The flight computer updates one record in place: read it before the next cycle. */
export interface CycleReport {
  readonly cycle: number;
  /** Whether commands were released to the spacecraft in time this period. */
  readonly released: boolean;
  /** Released outputs (valid when `released`). */
  readonly outputs: OutputCapture | null;
  readonly detections: readonly Detection[];
  readonly failover: boolean;
  /**
   * Whether recovery legitimately replaced the flight state by another than the failed cycle's would have
   * been — a cold boot, a rollback — rather than reproducing it (a hot spare's replay).
   */
  readonly stateReset: boolean;
  readonly missedDeadline: boolean;
  /** Modelled time from the start of the period until commands were ready (or the cycle given up), s. */
  readonly modelledSeconds: number;
  /** Modelled time of detection plus recovery, s (0 when nothing was detected). */
  readonly recoverySeconds: number;
  /** Of modelledSeconds, the time the commands waited on the link for a synchronous replica, s. */
  readonly linkWaitSeconds: number;
  /**
   * Modelled time the link was busy after the commands were out, s: the commit, an asynchronous write of
   * the persistent region, the replica's repair (a reintegration's rounds are not counted here).
   */
  readonly linkSeconds: number;
}

const NO_DETECTIONS: Detection[] = [];

/** The running account of one control period: what ran, what was detected, what to release and commit. */
export class CycleWork {
  cycle = 0;
  epochCycles = 0;
  epochEnds = false;
  detections: Detection[] = NO_DETECTIONS;
  released: OutputCapture | null = null;
  instructions = 0;
  recoveryInstructions = 0;
  restoredBytes = 0;
  /** Seconds the commands waited on the link: a synchronous replica's acknowledgement. */
  linkWaitSeconds = 0;
  failover = false;
  stateReset = false;
  /** Blocks written since the last commit, by the processor whose state would be committed. */
  written = 0;
  /** Checkpoint blocks to check against the committed core (though unwritten) at this epoch's end. */
  scrubbed = 0;
  /** The blocks compared at this epoch's end although unwritten (the primary's scrub, and the spare's). */
  scrub = 0;
  /** Modelled seconds the link was busy this period after the commands were out (commit, store traffic). */
  linkSeconds = 0;
  /** Blocks of the checkpoint this period's commit changed (what a reintegration must send again). */
  committed = 0;

  reset(cycle: number, epochCycles: number, epochEnds: boolean): void {
    this.cycle = cycle;
    this.epochCycles = epochCycles;
    this.epochEnds = epochEnds;
    this.detections = NO_DETECTIONS;
    this.released = null;
    this.instructions = 0;
    this.recoveryInstructions = 0;
    this.restoredBytes = 0;
    this.linkWaitSeconds = 0;
    this.failover = false;
    this.stateReset = false;
    this.written = 0;
    this.scrubbed = 0;
    this.scrub = 0;
    this.linkSeconds = 0;
    this.committed = 0;
  }

  /** Modelled seconds from the start of the period until its commands are ready. */
  commandsSeconds(config: ClockConfig): number {
    return periodSeconds(config, this.instructions + this.recoveryInstructions, this.restoredBytes, this.linkWaitSeconds);
  }

  noteRun(result: ProcessorCycle, checkpointScrub: number): void {
    this.written = result.written;
    this.scrubbed = checkpointScrub & ~result.written;
  }

  /** The report of the period, one record updated in place every cycle: read it before the next. */
  private readonly record: { -readonly [K in keyof CycleReport]: CycleReport[K] } = {
    cycle: 0,
    released: false,
    outputs: null,
    detections: NO_DETECTIONS,
    failover: false,
    stateReset: false,
    missedDeadline: false,
    modelledSeconds: 0,
    recoverySeconds: 0,
    linkWaitSeconds: 0,
    linkSeconds: 0,
  };

  report(config: ClockConfig): CycleReport {
    const modelledSeconds = this.commandsSeconds(config);
    const missedDeadline = missesDeadline(config, this.released === null ? null : modelledSeconds);
    const record = this.record;
    record.cycle = this.cycle;
    record.released = !missedDeadline;
    record.outputs = missedDeadline ? null : this.released;
    record.detections = this.detections;
    record.failover = this.failover;
    record.stateReset = this.stateReset;
    record.missedDeadline = missedDeadline;
    record.modelledSeconds = modelledSeconds;
    record.recoverySeconds = this.detections.length > 0 ? modelledSeconds : 0;
    record.linkWaitSeconds = this.linkWaitSeconds;
    record.linkSeconds = this.linkSeconds;
    return record;
  }
}

export function detectionOf(result: ProcessorCycle, processor: Processor): Detection {
  const [a, b] = result.results;
  const trap = a.trap ?? b.trap;
  return { processor: processor.name, cause: causeOf(result.verdict), mismatch: result.mismatch, trap, abort: a.abort ?? b.abort };
}

function causeOf(verdict: Verdict): DetectionCause {
  if (verdict === 'agreed') throw new Error('an agreed verdict is not a detection');
  return verdict;
}
