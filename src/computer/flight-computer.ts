// The flight computer: a primary processor, a spare, the checkpoint in shared memory, and the hot-swap
// controller that decides each control period which outputs — if any — reach the spacecraft. It also
// keeps the modelled clock: how long each cycle took on a CPU of the configured speed, including
// detection, restore and re-execution after a failure, and whether the commands met their deadline.
import type { OutputCapture } from '../core/core.js';
import type { FlightModule } from '../core/flight-module.js';
import type { TrapKind } from '../core/traps.js';
import type { MismatchKind, Verdict } from '../processor/comparator.js';
import { ALL_BLOCKS } from '../core/state.js';
import { Processor, type ProcessorCycle } from '../processor/processor.js';
import { Checkpoint } from '../spare/checkpoint.js';
import {
  RESTING_STATES,
  transition,
  type ControllerAction,
  type ControllerEvent,
  type ControllerState,
} from '../spare/controller.js';

export type SpareMode = 'hot' | 'cold' | 'none';

export interface FlightComputerConfig {
  spare: SpareMode;
  /** Compare the cores' whole state at the end of each cycle, not only their outputs. */
  compareState: boolean;
  /** Instructions a cycle may execute before the watchdog stops it. */
  watchdogInstructions: number;
  /** Instructions `init` may execute. */
  bootInstructions: number;
  /** Modelled CPU speed, instructions per second. */
  clockHz: number;
  /** Control period, s: the deadline of every cycle's commands. */
  controlPeriod: number;
  /** Modelled speed of copying a checkpoint into a processor, bytes per second. */
  checkpointBytesPerSecond: number;
  /** Largest linear memory a core may have, bytes (also the checkpoint's capacity). */
  memoryLimitBytes: number;
  /** How long a cold spare takes to boot before it can run a cycle, s. */
  coldBootSeconds: number;
}

export type DetectionCause = 'mismatch' | 'trap' | 'watchdog';

export interface Detection {
  readonly processor: string;
  readonly cause: DetectionCause;
  readonly mismatch: MismatchKind | null;
  readonly trap: TrapKind | null;
}

export interface CycleReport {
  readonly cycle: number;
  /** Whether commands were released to the spacecraft in time this period. */
  readonly released: boolean;
  /** Released outputs (valid when `released`). */
  readonly outputs: OutputCapture | null;
  readonly detections: readonly Detection[];
  readonly failover: boolean;
  readonly missedDeadline: boolean;
  /** Modelled time from the start of the period until commands were ready (or the cycle given up), s. */
  readonly modelledSeconds: number;
  /** Modelled time of detection plus recovery, s (0 when nothing was detected). */
  readonly recoverySeconds: number;
}

/** Upper bound of controller transitions in one period: a failover takes two. */
const MAX_TRANSITIONS_PER_CYCLE = 4;

export class FlightComputer {
  readonly processors: [Processor, Processor];
  private primaryIndex = 0;
  readonly checkpoint: Checkpoint;
  private state: ControllerState;
  /** The inputs of the cycle in progress: what the spare re-executes with. */
  private readonly loggedInputs: Float64Array;
  private cycleIndex = -1;
  private bootCount = 0;
  /** Control periods a booting cold spare still needs. */
  private bootCyclesLeft = 0;

  constructor(
    readonly flightModule: FlightModule,
    readonly config: FlightComputerConfig,
  ) {
    this.processors = [new Processor(flightModule, 'P1'), new Processor(flightModule, 'P2')];
    this.checkpoint = new Checkpoint(
      flightModule.stateGlobals.map((global) => global.type),
      config.memoryLimitBytes,
    );
    this.loggedInputs = new Float64Array(this.processors[0].inputs.length);
    this.state = config.spare === 'none' ? 'simplex' : 'duplex';
  }

  get primary(): Processor {
    return this.processors[this.primaryIndex];
  }

  get spare(): Processor {
    return this.processors[1 - this.primaryIndex];
  }

  get controllerState(): ControllerState {
    return this.state;
  }

  /** Boots the primary and commits its boot state (a hot spare loads it). Returns the boot verdict. */
  boot(): ProcessorCycle {
    const result = this.primary.boot(this.config.bootInstructions, this.config.compareState);
    this.bootCount++;
    if (result.verdict !== 'agreed') return result;
    this.checkpoint.commitCheckpoint(this.primary.cores[0], -1);
    if (this.config.spare === 'hot') this.resync(this.spare);
    return result;
  }

  runCycle(cycle: number, inputs: Float64Array): CycleReport {
    this.cycleIndex = cycle;
    this.loggedInputs.set(inputs);
    const config = this.config;
    const detections: Detection[] = [];
    let released: OutputCapture | null = null;
    let instructions = 0;
    let recoveryInstructions = 0;
    let recoveryCopySeconds = 0;
    let failover = false;

    const scrub = scrubBlocks(cycle);
    let committable = 0;
    let event: ControllerEvent;
    if (this.state === 'spare-booting') {
      // The failed primary is out of service; nothing runs until the cold spare has booted.
      event = --this.bootCyclesLeft > 0 ? 'booting' : 'boot-done';
    } else {
      const primaryCycle = this.primary.runCycle(this.loggedInputs, config.watchdogInstructions, config.compareState, scrub);
      committable = primaryCycle.blocks;
      instructions += primaryCycle.decisionInstructions;
      event = this.noteVerdict(primaryCycle, this.primary, detections) ? 'agreed' : 'detected';
    }

    for (let step = 0; ; step++) {
      if (step >= MAX_TRANSITIONS_PER_CYCLE) throw new Error('hot-swap controller did not settle within one period');
      const previous = this.state;
      const { next, actions } = transition(previous, event);
      this.state = next;
      let followUp: ControllerEvent | null = null;
      for (const action of actions) {
        switch (action) {
          case 'release-primary':
          case 'release-spare':
            released = this.primary.outputs;
            break;
          case 'commit-primary':
            this.checkpoint.commitCheckpoint(this.primary.cores[0], cycle, committable);
            break;
          case 'take-over-with-spare': {
            const spare = this.spare;
            const bootCycles = Math.ceil(config.coldBootSeconds / config.controlPeriod);
            if (config.spare === 'cold' && previous !== 'spare-booting' && bootCycles > 0) {
              failover = true;
              this.bootCyclesLeft = bootCycles;
              followUp = 'spare-not-ready';
              break;
            }
            if (previous !== 'spare-booting') failover = true;
            if (config.spare === 'cold') {
              recoveryInstructions += this.coldBoot(spare).decisionInstructions;
            } else {
              this.resync(spare);
              recoveryCopySeconds += this.checkpoint.memoryLength / config.checkpointBytesPerSecond;
            }
            // A cold spare's whole state is new; a hot spare's differs from the checkpoint where it wrote.
            const spareCycle = spare.runCycle(this.loggedInputs, config.watchdogInstructions, config.compareState, config.spare === 'cold' ? ALL_BLOCKS : scrub);
            committable = spareCycle.blocks;
            recoveryInstructions += spareCycle.decisionInstructions;
            followUp = this.noteVerdict(spareCycle, spare, detections) ? 'spare-agreed' : 'spare-detected';
            break;
          }
          case 'swap-roles':
            this.primaryIndex = 1 - this.primaryIndex;
            break;
          case 'resync-failed-processor':
            // A cold spare stays unpowered: it is replaced by fresh instances when it next takes over.
            if (config.spare === 'hot') this.resync(this.spare);
            break;
          case 'hold-outputs':
            released = null;
            break;
          case 'roll-back-all':
            this.resync(this.primary);
            this.resync(this.spare);
            break;
          case 'roll-back-primary':
            this.resync(this.primary);
            followUp = 'rolled-back';
            break;
        }
      }
      if (followUp === null) break;
      event = followUp;
    }
    if (!RESTING_STATES.has(this.state)) throw new Error(`hot-swap controller ended a period in state ${this.state}`);

    const clock = config.clockHz;
    const recoverySeconds = detections.length > 0 ? instructions / clock + recoveryCopySeconds + recoveryInstructions / clock : 0;
    const modelledSeconds = (instructions + recoveryInstructions) / clock + recoveryCopySeconds;
    const late = modelledSeconds > config.controlPeriod;
    const missedDeadline = released === null || late;
    return {
      cycle,
      released: !missedDeadline,
      outputs: missedDeadline ? null : released,
      detections,
      failover,
      missedDeadline,
      modelledSeconds,
      recoverySeconds,
    };
  }

  /** Records a non-agreeing verdict as a detection; returns whether the processor agreed. */
  private noteVerdict(result: ProcessorCycle, processor: Processor, detections: Detection[]): boolean {
    if (result.verdict === 'agreed') return true;
    const trap = result.results[0].trap ?? result.results[1].trap;
    detections.push({ processor: processor.name, cause: causeOf(result.verdict), mismatch: result.mismatch, trap });
    return false;
  }

  private resync(processor: Processor): void {
    for (const core of processor.cores) this.checkpoint.restoreInto(core);
  }

  /** A cold spare keeps no state: it is replaced by fresh instances and boots from the initial image. */
  private coldBoot(processor: Processor): ProcessorCycle {
    const index = this.processors.indexOf(processor);
    const fresh = new Processor(this.flightModule, processor.name);
    this.processors[index] = fresh;
    this.bootCount++;
    return fresh.boot(this.config.bootInstructions, this.config.compareState);
  }

  /** Number of processor boots so far (the first boot and every cold spare boot). */
  get boots(): number {
    return this.bootCount;
  }

  get currentCycle(): number {
    return this.cycleIndex;
  }
}

/**
 * The scrub: blocks compared and re-committed although nobody wrote them, so that a latent upset in memory
 * the flight software only reads is found, and the checkpoint refreshed, within SCRUB_PERIOD cycles.
 * Eight blocks every eighth cycle rather than one every cycle: the same bytes, an eighth of the calls.
 */
export const SCRUB_PERIOD = 32;
const SCRUB_STRIDE = 8;

export function scrubBlocks(cycle: number): number {
  if (cycle % SCRUB_STRIDE !== 0) return 0;
  return (0xff << (SCRUB_STRIDE * ((cycle / SCRUB_STRIDE) % (SCRUB_PERIOD / SCRUB_STRIDE)))) | 0;
}

function causeOf(verdict: Verdict): DetectionCause {
  if (verdict === 'agreed') throw new Error('an agreed verdict is not a detection');
  return verdict;
}
