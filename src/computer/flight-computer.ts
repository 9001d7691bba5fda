// The flight computer: a primary processor, a spare, the checkpoint in shared memory, and the hot-swap
// controller that decides each control period which outputs — if any — reach the spacecraft. It also
// keeps the modelled clock: how long each cycle took on a CPU of the configured speed, including
// detection, restore and re-execution after a failure, and whether the commands met their deadline.
import type { Core } from '../core/core.js';
import { disarm } from '../core/fault-core.js';
import type { FlightModule } from '../core/flight-module.js';
import { ALL_BLOCKS, RANGES } from '../core/state.js';
import { FaultError, isLasting, type Fault } from '../faults/fault.js';
import { Processor, type ProcessorCycle } from '../processor/processor.js';
import { ModuleError } from '../passes/index.js';
import { Checkpoint } from '../spare/checkpoint.js';
import { COMMIT_HEADER_BYTES, RECORD_HEADER_BYTES, type CheckpointStreamWriter, type StreamEncoding } from '../spare/checkpoint-stream.js';
import { deliverCommit, type Delivery } from '../spare/commit-delivery.js';
import { CrossStrapLink, type LinkConfig } from '../spare/link.js';
import { PersistentStore, writeBytes, type ReplicationMode } from '../spare/persistent-store.js';
import { Reintegration, type ReintegrationMode, type ReintegrationStep } from '../spare/reintegration.js';
import { memoryRanges } from '../core/state.js';
import {
  initialControllerState,
  RESTING_STATES,
  transition,
  type ControllerAction,
  type ControllerEvent,
  type ControllerState,
  type Redundancy,
  type SpareMode,
} from '../spare/controller.js';
import { CycleWork, detectionOf, type CycleReport } from './cycle-work.js';
import { EpochSchedule } from './epochs.js';
import { answersHeartbeat, HealthMonitor, scrubSpare, type HealthPolicy } from './health.js';
import { afflictionOf, strikeCheckpoint, strikeCore, strikeInTransit, strikeReplica } from './strike.js';
import { slackSeconds, type ClockConfig } from './timing.js';
import { outvotedDetections, replaceVoter, resyncFromMajority, TMR_SPARE_NAME, tmrSpare, votingGroup } from './voting.js';

export { countsByCause, DETECTION_CAUSES, describeDetection, type CycleReport, type Detection, type DetectionCause } from './cycle-work.js';

export type { SpareMode } from '../spare/controller.js';

export interface FlightComputerConfig extends ClockConfig {
  spare: SpareMode;
  /** A lock-step pair per processor, or three cores voting (TMR: P1, P2, P3, with P4 as their spare). */
  redundancy: Redundancy;
  /** Two cores in lock-step behind a comparator per processor; false: one core, no comparator. */
  lockstep: boolean;
  /** Compare the cores' whole state at the end of each epoch, not only their outputs. */
  compareState: boolean;
  /** Instructions a cycle may execute before the watchdog stops it. */
  watchdogInstructions: number;
  /** Instructions `init` may execute. */
  bootInstructions: number;
  /** Largest linear memory a core may have, bytes (also the checkpoint's capacity). */
  memoryLimitBytes: number;
  /** How long a cold spare takes to boot before it can run a cycle, s. */
  coldBootSeconds: number;
  /**
   * Cycles per checkpoint epoch: the cores' state is compared and committed at the end of every epoch;
   * outputs are compared every cycle. A failover replays the epoch's logged inputs from the checkpoint.
   */
  checkpointInterval: number;
  /** The cross-strap link between the processors, which carries every commit to the spare. */
  link: LinkConfig;
  /**
   * How writes to the flight software's persistent region reach the other processor's replica: sync
   * (protocol C), async (protocol A) or off. Only for a module that declares a region, flown with a spare.
   */
  replication: ReplicationMode;
  /** How commits are encoded on the link: XOR against the committed copy in zero runs, or the raw bytes. */
  checkpointEncoding: StreamEncoding;
  /** How a hot spare's failed processor comes back as spare (src/spare/reintegration.ts). */
  reintegration: ReintegrationMode;
  /** Pre-copy rounds before the remainder is sent whatever its size. */
  reintegrationMaxRounds: number;
  /** Fail counts, their threshold and window, and the spare's heartbeat (src/computer/health.ts). */
  health: HealthPolicy;
}

/** The commits a run sent over the link to the spare. */
export interface CheckpointTraffic {
  commits: number;
  /** Bytes the commits' records describe: what copying the dirty ranges would send. */
  rawBytes: number;
  rawMax: number;
  /** Bytes on the link (headers and checks included, resends not). */
  streamBytes: number;
  streamMax: number;
  /** Commits whose stream a flipped bit corrupted, caught by a record's check and sent again. */
  resends: number;
  /** Periods whose commands and commit together did not fit in the period. */
  overruns: number;
}

/** The reintegrations of a run: a hot spare's failed processor brought back over the link. */
export interface ReintegrationTotals {
  count: number;
  rounds: number;
  bytes: number;
  /** Modelled time the computer flew without a spare, s. */
  simplexSeconds: number;
  /** Periods the primary was stopped for a copy (commands held). */
  downtimeCycles: number;
}


/** Upper bound of controller transitions in one period: a failover and the start of a reintegration take three. */
const MAX_TRANSITIONS_PER_CYCLE = 4;

export class FlightComputer {
  readonly processors: [Processor, Processor];
  private primaryIndex = 0;
  readonly checkpoint: Checkpoint;
  private state: ControllerState;
  /**
   * The input log: the frames of every cycle since the last commit (the current epoch), which the spare
   * replays from the checkpoint to reach the failed cycle.
   */
  private readonly inputLog: Float64Array[];
  /** The checkpoint epochs: the checkpoint holds the state at the start of the current one. */
  readonly epochs: EpochSchedule;
  private cycleIndex = -1;
  private bootCount = 0;
  /** Control periods a booting cold spare still needs. */
  private bootCyclesLeft = 0;
  /** Cores whose fault hooks are armed for the cycle about to run: disarmed after it. */
  private readonly armed: Core[] = [];
  /** What the cycle in progress has done so far, reused from cycle to cycle. */
  private readonly work = new CycleWork();
  /** The cross-strap link and the account of what crossed it. */
  readonly link: CrossStrapLink;
  private readonly writer: CheckpointStreamWriter;
  /** The spare's receive buffer: what arrived over the link, before its checks. */
  private readonly received: Uint8Array;
  private readonly delivery: Delivery = { bytes: 0, seconds: 0, resends: 0 };
  /** A link fault of this cycle: it flips bits of the commit stream in transit, if the cycle commits. */
  private transitFault: Fault | null = null;
  private readonly flipInTransit = (bytes: Uint8Array, length: number) => strikeInTransit(bytes, length, this.transitFault!);
  /** Whether the spare holds the checkpoint, so that commits are sent to it (a hot spare not being reintegrated). */
  private spareCurrent = false;
  readonly traffic: CheckpointTraffic = { commits: 0, rawBytes: 0, rawMax: 0, streamBytes: 0, streamMax: 0, resends: 0, overruns: 0 };
  private reintegration: Reintegration | null = null;
  readonly reintegrations: ReintegrationTotals = { count: 0, rounds: 0, bytes: 0, simplexSeconds: 0, downtimeCycles: 0 };
  /** Control periods a stop-and-copy still stops the primary for. */
  private stoppedCyclesLeft = 0;
  /** The replicated persistent store, when the module declares a region and a spare keeps its replica. */
  readonly persistentStore: PersistentStore | null;
  /** Fail counts, heartbeats and the processors declared failed. */
  readonly health: HealthMonitor;
  /**
   * The lasting faults of each physical processor (by name), by core index: they stay with the hardware,
   * so a cold spare's fresh instances get them again.
   */
  private readonly lasting = new Map<string, Array<{ core: number; fault: Fault; salt: number }>>();
  /** TMR: the voting core outvoted in the period in progress. */
  private outvotedIndex = -1;
  /** Whether the spare can still take over or join the vote (not declared failed, not already in the vote). */
  private spareAvailable = true;

  constructor(
    readonly flightModule: FlightModule,
    readonly config: FlightComputerConfig,
  ) {
    this.epochs = EpochSchedule.beforeBoot(config.checkpointInterval);
    this.health = new HealthMonitor(config.health);
    this.processors = config.redundancy === 'tmr' ? [votingGroup(flightModule, config.memoryLimitBytes), this.newProcessor(TMR_SPARE_NAME)] : [this.newProcessor('P1'), this.newProcessor('P2')];
    const initialBytes = this.processors[0].cores[0].memoryBytes().length;
    if (initialBytes > config.memoryLimitBytes) {
      throw new ModuleError(
        flightModule.source,
        `starts with ${initialBytes / 65536} pages of memory, more than the limit of ${config.memoryLimitBytes / 65536} (memoryLimitPages)`,
      );
    }
    this.checkpoint = new Checkpoint(
      flightModule.stateGlobals.map((global) => global.type),
      config.memoryLimitBytes,
    );
    const frameLength = this.processors[0].inputs.length;
    this.inputLog = Array.from({ length: config.checkpointInterval }, () => new Float64Array(frameLength));
    this.state = initialControllerState(config.spare, config.redundancy);
    this.link = new CrossStrapLink(config.link);
    // Only a hot spare is sent commits over the link: without one, the cheapest encoding commits locally.
    this.writer = this.checkpoint.newWriter(config.spare === 'hot' ? config.checkpointEncoding : 'raw');
    this.received = new Uint8Array(this.writer.bytes.length);
    const region = flightModule.persistent;
    // One link: the store's writes share the account (and the period) with commits and reintegrations.
    this.persistentStore =
      // Three voting cores each hold the region: no replica is kept for a spare (TMR).
      region && config.spare !== 'none' && config.replication !== 'off' && config.redundancy === 'pair'
        ? new PersistentStore(region, config.replication, this.link, this.processors[0].cores[0].memoryBytes())
        : null;
  }

  private newProcessor(name: string): Processor {
    const processor = name === TMR_SPARE_NAME ? tmrSpare(this.flightModule, this.config.memoryLimitBytes) : new Processor(this.flightModule, name, this.config.memoryLimitBytes, this.config.lockstep);
    for (const { core, fault, salt } of this.lasting.get(name) ?? []) processor.cores[core].afflict(afflictionOf(processor.cores[core], fault, salt));
    return processor;
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

  /** The cycle whose start state the checkpoint holds. */
  get checkpointEpochStart(): number {
    return this.epochs.start;
  }

  /** Boots the primary and commits its boot state (a hot spare loads it). Returns the boot verdict. */
  boot(): ProcessorCycle {
    const result = this.primary.boot(this.config.bootInstructions, this.config.compareState);
    this.bootCount++;
    if (result.verdict !== 'agreed') return result;
    this.checkpoint.commitCheckpoint(this.primary.cores[0], -1);
    this.startEpoch(0);
    if (this.config.spare === 'hot') {
      // Both processors boot the same image: the spare's copy of the boot commit is made, not sent.
      this.resync(this.spare);
      this.spareCurrent = true;
    }
    return result;
  }

  /**
   * Strikes a fault before the next cycle runs: a storage fault flips its bits now, an instruction fault
   * arms the struck core for that cycle, a lasting fault afflicts it from now on. The processor is taken by
   * role at this moment, or by identity (P1, P2…).
   */
  strike(fault: Fault): void {
    if (fault.target === 'checkpoint') {
      strikeCheckpoint(this.checkpoint, fault);
      return;
    }
    if (fault.target === 'replica') {
      strikeReplica(this.persistentStore, fault);
      return;
    }
    if (fault.target === 'link') {
      this.transitFault = fault;
      return;
    }
    const struck = this.coresStruck(fault);
    for (const { core, owner, index } of struck) {
      const salt = struck.length > 1 ? index : 0;
      if (strikeCore(core, fault, salt)) this.armed.push(core);
      if (isLasting(fault)) {
        // The hardware keeps it: recorded under the physical processor, whatever its role now.
        let faults = this.lasting.get(owner);
        if (!faults) this.lasting.set(owner, (faults = []));
        faults.push({ core: index, fault, salt });
        if (fault.kind === 'dead') this.health.noteDeath(owner, fault.cycle);
      }
    }
  }

  /**
   * The cores a fault strikes, with the physical processor each belongs to: by role at this moment or by
   * identity; in TMR each voting core is a processor of its own. A dead or babbling fault that names no
   * core strikes every core of its processor.
   */
  private coresStruck(fault: Fault): Array<{ core: Core; owner: string; index: number }> {
    const named = fault.processor !== undefined && fault.processor !== 'primary' && fault.processor !== 'spare';
    if (named) {
      for (const processor of this.processors) {
        const index = processor.cores.findIndex((core) => core.name === fault.processor);
        if (index >= 0) return [{ core: processor.cores[index], owner: fault.processor!, index: 0 }];
      }
    }
    // A voter removed from service strikes nothing: its hardware flies no more.
    if (named && this.health.isRetired(fault.processor!)) return [];
    const processor = named ? this.processors.find((candidate) => candidate.name === fault.processor) : fault.processor === 'spare' ? this.spare : this.primary;
    if (!processor) throw new FaultError(`processor ${fault.processor}: the flight computer has ${this.processorNames().join(', ')}`);
    const whole = fault.core === undefined && isLasting(fault) && fault.kind !== 'stuck';
    const indices = whole ? processor.cores.map((_, i) => i) : [fault.core === 'B' ? 1 : 0];
    return indices.map((index) => {
      if (index >= processor.cores.length) throw new FaultError(`core B: processor ${processor.name} has one core (flown without lock-step)`);
      const core = processor.cores[index];
      // A voting core is a processor of its own: its lasting faults are kept under its name.
      return processor.voting || processor.name === TMR_SPARE_NAME ? { core, owner: core.name, index: 0 } : { core, owner: processor.name, index };
    });
  }

  /** The physical processors, by name (in TMR, each voting core and the spare). */
  processorNames(): string[] {
    return this.processors.flatMap((processor) => (processor.voting || processor.name === TMR_SPARE_NAME ? processor.cores.map((core) => core.name) : [processor.name]));
  }

  runCycle(cycle: number, inputs: Float64Array): CycleReport {
    this.cycleIndex = cycle;
    const config = this.config;
    const epochs = this.epochs;
    // While a cold spare boots, or the primary is stopped for a copy, nothing runs and nothing is logged.
    if (this.state === 'spare-booting' || this.state === 'stopped-for-copy') epochs.holdAt(cycle);
    epochs.check(cycle);
    const epochCycles = epochs.cyclesThrough(cycle);
    const frame = this.inputLog[epochCycles - 1];
    frame.set(inputs);
    const work = this.work;
    work.reset(cycle, epochCycles, epochs.endsAt(cycle));

    let event: ControllerEvent;
    if (this.state === 'spare-booting') {
      // The failed primary is out of service; nothing runs until the cold spare has booted.
      event = --this.bootCyclesLeft > 0 ? 'booting' : 'boot-done';
    } else if (this.state === 'stopped-for-copy') {
      // The primary does not advance: its state is legitimately not what this cycle would have made it.
      work.stateReset = true;
      this.reintegrations.downtimeCycles++;
      event = --this.stoppedCyclesLeft > 0 ? 'copying' : 'copy-done';
    } else {
      // The state is compared, and the checkpoint committed, at the end of each epoch.
      const scrub = work.epochEnds ? epochs.scrub() : 0;
      work.scrub = scrub;
      const primaryCycle = this.primary.runCycle(frame, config.watchdogInstructions, config.compareState, work.epochEnds, scrub);
      work.noteRun(primaryCycle, epochs.checkpointScrub());
      work.instructions += primaryCycle.decisionInstructions;
      if (primaryCycle.verdict === 'agreed' && primaryCycle.outvoted === 0) event = 'agreed';
      else if (primaryCycle.verdict === 'agreed') {
        // Two of three agreed: their commands go out; the outvoted core is resynchronised from them.
        work.detections = outvotedDetections(this.primary, primaryCycle);
        for (const detection of work.detections) this.health.noteFailure(detection.processor, cycle);
        event = 'outvoted';
      } else {
        work.detections = [detectionOf(primaryCycle, this.primary)];
        this.health.noteFailure(this.primary.name, cycle);
        event = 'detected';
      }
    }
    for (let step = 0; ; step++) {
      if (step >= MAX_TRANSITIONS_PER_CYCLE) throw new Error('hot-swap controller did not settle within one period');
      const previous = this.state;
      const { next, actions } = transition(previous, event);
      this.state = next;
      let followUp: ControllerEvent | null = null;
      for (let i = 0; i < actions.length; i++) followUp = this.perform(actions[i], previous, frame) ?? followUp;
      if (followUp === null) break;
      event = followUp;
    }
    if (!RESTING_STATES.has(this.state)) throw new Error(`hot-swap controller ended a period in state ${this.state}`);
    // An armed fault that has not fired by the end of its period never will.
    while (this.armed.length > 0) disarm(this.armed.pop()!);
    this.transitFault = null;
    if (work.linkSeconds > 0 && slackSeconds(config, work.commandsSeconds(config), work.linkSeconds) < 0) this.traffic.overruns++;
    return work.report(config);
  }

  /** Carries out one action of the controller's table; returns the event it leads to, if any. */
  private perform(action: ControllerAction, previous: ControllerState, frame: Float64Array): ControllerEvent | null {
    const work = this.work;
    switch (action) {
      case 'release-primary':
        if (this.persistentStore) this.storeTraffic(true, (now) => this.persistentStore!.replicate(this.primary.cores[0].memoryBytes(), now));
        work.released = this.primary.outputs;
        return null;
      case 'release-spare':
        if (this.persistentStore) {
          // The replica now belongs with the processor that failed. A cold spare's successor is sent the
          // region whole now; a hot spare's comes back with its reintegration, which carries the region.
          if (this.config.spare === 'hot') this.persistentStore.detach(this.spare.cores[0].memoryBytes());
          else {
            this.persistentStore.adopt(this.spare.cores[0].memoryBytes());
            this.storeTraffic(true, (now) => this.persistentStore!.resend(now));
          }
        }
        // Roles have not swapped yet: the spare's outputs, never the failed primary's.
        work.released = this.spare.outputs;
        return null;
      case 'commit-at-epoch-end':
        if (work.epochEnds) this.commit(work.cycle, work.written, work.scrubbed);
        return null;
      case 'commit-primary':
        this.commit(work.cycle, work.written, work.scrubbed);
        return null;
      case 'take-over-with-spare':
        return this.takeOver(previous, frame);
      case 'swap-roles':
        // The new spare is the processor that failed: reset, it holds nothing until resynchronised.
        this.primaryIndex = 1 - this.primaryIndex;
        this.spareCurrent = false;
        return null;
      case 'resync-failed-processor':
        // A processor that does not come back from its reset, or is over its fail threshold, is not trusted again.
        if (!answersHeartbeat(this.spare) || this.health.overThreshold(this.spare.name, work.cycle)) return 'spare-failed';
        // A cold spare stays unpowered: it is replaced by fresh instances when it next takes over.
        if (this.config.spare !== 'hot') return null;
        return this.startReintegration();
      case 'check-spare':
        return this.checkSpare();
      case 'resync-spare':
        this.resync(this.spare);
        return null;
      case 'retire-spare':
        this.retireSpare(previous === 'duplex');
        return null;
      case 'resync-outvoted': {
        const last = this.primary.last;
        const resynced = resyncFromMajority(this.primary, last.outvoted, last.outvotedWhole, last.repairs, last.byteRepairs);
        // One voter at a time can fail for good in a period: the first found (a second outvoted with it is a double fault).
        const failed = resynced.find((core) => core.dead || this.health.overThreshold(core.name, work.cycle));
        if (!failed) return null;
        this.outvotedIndex = this.primary.cores.indexOf(failed);
        return 'voter-failed';
      }
      case 'replace-voter': {
        const failed = this.primary.cores[this.outvotedIndex].name;
        if (this.config.spare === 'none' || !this.spareAvailable) return 'voter-lost';
        replaceVoter(this.primary, this.outvotedIndex, this.spare);
        this.spareAvailable = false;
        this.spareCurrent = false;
        this.health.retire(failed, work.cycle, false);
        return null;
      }
      case 'retire-voter':
        // Two cores left: a lock-step pair, which the controller flies as simplex.
        this.health.retire(this.primary.cores[this.outvotedIndex].name, work.cycle, true);
        this.primary.replaceCore(this.outvotedIndex);
        return null;
      case 'continue-reintegration':
        return this.continueReintegration();
      case 'resume-primary':
        // The copy is across: the primary flies again from the next period, a new epoch from there.
        this.epochs.holdAt(work.cycle + 1);
        this.finishReintegration();
        return null;
      case 'hold-outputs':
        work.released = null;
        return null;
      case 'roll-back-all':
        work.stateReset = true;
        this.resync(this.primary);
        this.resync(this.spare);
        this.spareCurrent = this.config.spare === 'hot';
        this.epochs.begin(work.cycle + 1);
        return null;
      case 'roll-back-primary':
        work.stateReset = true;
        this.resync(this.primary);
        this.epochs.begin(work.cycle + 1);
        return 'rolled-back';
    }
  }

  /**
   * The spare takes over the failed cycle: a hot spare loads the checkpoint and replays the epoch's logged
   * inputs; a cold spare boots — over several periods if its boot is longer than one — and flies this cycle
   * from its initial image.
   */
  private takeOver(previous: ControllerState, frame: Float64Array): ControllerEvent {
    const config = this.config;
    const work = this.work;
    const spare = this.spare;
    const bootCycles = Math.ceil(config.coldBootSeconds / config.controlPeriod);
    // The failed primary is reset now: protocol A's writes still in flight from it are lost.
    if (previous !== 'spare-booting') this.persistentStore?.senderReset(this.nowSeconds());
    if (config.spare === 'cold' && previous !== 'spare-booting' && bootCycles > 0) {
      work.failover = true;
      this.bootCyclesLeft = bootCycles;
      return 'spare-not-ready';
    }
    if (previous !== 'spare-booting') work.failover = true;
    let spareCycle: ProcessorCycle;
    if (config.spare === 'cold') {
      const fresh = this.coldBoot(spare);
      work.recoveryInstructions += fresh.boot.decisionInstructions;
      spareCycle = fresh.processor.runCycle(frame, config.watchdogInstructions, config.compareState, true, ALL_BLOCKS);
      work.recoveryInstructions += spareCycle.decisionInstructions;
      work.stateReset = true;
    } else {
      this.resync(spare);
      work.restoredBytes += this.checkpoint.memoryLength;
      spareCycle = this.replayEpoch(spare, work.epochCycles);
      work.recoveryInstructions += spareCycle.decisionInstructions;
    }
    work.noteRun(spareCycle, this.epochs.checkpointScrub());
    if (spareCycle.verdict === 'agreed') return 'spare-agreed';
    work.detections = [...work.detections, detectionOf(spareCycle, this.spare)];
    this.health.noteFailure(this.spare.name, work.cycle);
    return 'spare-detected';
  }

  /**
   * Re-executes the current epoch on a processor restored from the checkpoint, one logged frame per cycle,
   * comparing outputs every cycle and the state at the end. Returns the last cycle's verdict (or the first
   * that failed), with the instructions of the whole replay.
   */
  private replayEpoch(processor: Processor, epochCycles: number): ProcessorCycle {
    const config = this.config;
    let replayed = 0;
    for (let i = 0; i < epochCycles; i++) {
      const last = i === epochCycles - 1;
      const result = processor.runCycle(this.inputLog[i], config.watchdogInstructions, config.compareState, last, last ? this.epochs.scrub() : 0);
      replayed += result.decisionInstructions;
      if (result.verdict !== 'agreed' || last) {
        result.decisionInstructions = replayed;
        return result;
      }
    }
    throw new Error('replayEpoch: an epoch has at least one cycle');
  }

  /**
   * Commits the primary's state: the commit is encoded as the checkpoint stream and, when the spare holds
   * the checkpoint, sent to it over the link (a link fault of the cycle flipping bits in transit, caught by
   * the records' checks and sent again); otherwise applied to the primary's own copy alone.
   */
  private commit(cycle: number, written: number, scrubbed: number): void {
    const { checkpoint, writer, work } = this;
    const repairs = checkpoint.repairs;
    const sizeBefore = checkpoint.memoryLength;
    checkpoint.encodeCommit(writer, this.primary.cores[0], cycle, written, scrubbed);
    if (this.spareCurrent) {
      const delivery = deliverCommit(checkpoint, writer, this.received, this.link, this.transitFault ? this.flipInTransit : null, this.delivery);
      const traffic = this.traffic;
      traffic.commits++;
      traffic.rawBytes += writer.rawBytes;
      traffic.rawMax = Math.max(traffic.rawMax, writer.rawBytes);
      traffic.streamBytes += writer.length;
      traffic.streamMax = Math.max(traffic.streamMax, writer.length);
      if (delivery.resends > 0) traffic.resends++;
      work.linkSeconds += delivery.seconds;
    } else checkpoint.receiveIntact(writer);
    // What changed in the checkpoint: all of it when memory grew; the written blocks and any repaired one.
    work.committed = checkpoint.memoryLength !== sizeBefore ? ALL_BLOCKS : written | (checkpoint.repairs !== repairs ? scrubbed : 0);
    // The replica's scrub, after the commit on the link: after the commands, so it delays none.
    if (this.persistentStore) this.storeTraffic(false, (now) => this.persistentStore!.scrub(now));
    this.startEpoch(cycle + 1);
  }

  /**
   * Charges the persistent store's use of the shared link: `send` (given mission time now) returns what
   * the commands wait for — charged to them when `beforeRelease` (protocol C) — and the rest of the link
   * time it took (protocol A's write, a repair after the commands) follows the commands on the link, where
   * the commit and a reintegration's rounds then find it busy.
   */
  private storeTraffic(beforeRelease: boolean, send: (now: number) => number): void {
    const work = this.work;
    const busy = this.link.busySeconds;
    const seconds = send(this.nowSeconds());
    const wait = beforeRelease ? seconds : 0;
    work.linkWaitSeconds += wait;
    work.linkSeconds += this.link.busySeconds - busy - wait;
  }

  /** Modelled mission time now, within the current period: its start plus what the period has used. */
  private nowSeconds(): number {
    const work = this.work;
    return work.cycle * this.config.controlPeriod + work.commandsSeconds(this.config) + work.linkSeconds;
  }

  private slack(): number {
    const work = this.work;
    return slackSeconds(this.config, work.commandsSeconds(this.config), work.linkSeconds);
  }

  /** Bytes a reintegration round sends for the checkpoint blocks of `mask`: their ranges, the globals, headers. */
  private readonly roundBytes = (mask: number): number => {
    const length = this.checkpoint.memoryLength;
    const end = mask === 0 ? 0 : memoryRanges(this.primary.cores[0], mask, length);
    let bytes = COMMIT_HEADER_BYTES + RECORD_HEADER_BYTES + this.checkpoint.globals.bytes.length;
    for (let i = 0; i < end; i += 2) bytes += RECORD_HEADER_BYTES + RANGES[i + 1] - RANGES[i];
    // Every round carries the persistent region whole (a few dozen bytes, cheaper to send than to track):
    // the last round's copy is what the reintegrated processor's replica becomes.
    const store = this.persistentStore;
    if (store) bytes += writeBytes(store.length);
    return bytes;
  };

  /** After a failover: the failed processor, reset, comes back as spare as the mission's mode says. */
  private startReintegration(): ControllerEvent | null {
    const config = this.config;
    if (config.reintegration === 'instant') {
      this.resync(this.spare);
      this.checkpoint.resetHistory();
      this.spareCurrent = true;
      this.persistentStore?.attach(this.primary.cores[0].memoryBytes());
      this.reintegrations.count++;
      return null;
    }
    const reintegration = new Reintegration(config.reintegration, this.link, config.reintegrationMaxRounds, config.controlPeriod, this.nowSeconds());
    this.reintegration = reintegration;
    return this.reintegrationEvent(reintegration.begin(this.roundBytes(ALL_BLOCKS), this.nowSeconds(), this.slack()), 'reintegration-started');
  }

  /** A period of the primary flying while the spare is reintegrated: what fits in its slack is sent. */
  private continueReintegration(): ControllerEvent | null {
    const reintegration = this.reintegration;
    if (!reintegration) throw new Error('continue-reintegration: no reintegration under way');
    const work = this.work;
    return this.reintegrationEvent(reintegration.period(work.committed, work.epochEnds, this.nowSeconds(), this.slack(), this.roundBytes), null);
  }

  private reintegrationEvent(step: ReintegrationStep, continuing: ControllerEvent | null): ControllerEvent | null {
    switch (step) {
      case 'continue':
        return continuing;
      case 'stop-for-copy':
        this.stoppedCyclesLeft = this.reintegration!.downtimeCycles;
        return 'stop-for-copy';
      case 'done':
        this.finishReintegration();
        return continuing === null ? 'reintegration-done' : null;
    }
  }

  /** The spare holds the checkpoint again: commits go to it, and a failover can use it. */
  private finishReintegration(): void {
    const reintegration = this.reintegration!;
    const totals = this.reintegrations;
    totals.count++;
    totals.rounds += reintegration.rounds;
    totals.bytes += reintegration.bytes;
    totals.simplexSeconds += reintegration.finishedAt - reintegration.startedAt;
    this.reintegration = null;
    this.resync(this.spare);
    this.checkpoint.resetHistory();
    this.spareCurrent = true;
    // The last round carried the region: the reintegrated processor holds the replica again.
    this.persistentStore?.attach(this.primary.cores[0].memoryBytes());
  }

  /**
   * A hot spare standing by: its heartbeat (every heartbeatCycles) and, at an epoch's end, the scrub of its
   * copy of the blocks the primary's scrub compared. Silent, or over its threshold: failed.
   */
  private checkSpare(): ControllerEvent | null {
    if (this.config.spare !== 'hot' || !this.spareCurrent) return null;
    const { health, work } = this;
    const spare = this.spare;
    if (health.heartbeatAt(work.cycle) && !answersHeartbeat(spare)) {
      health.noteSilence(spare.name, work.cycle);
      return 'spare-failed';
    }
    if (work.epochEnds && !scrubSpare(spare, this.checkpoint, work.scrub)) {
      health.noteSpareFault(spare.name, work.cycle);
      return health.overThreshold(spare.name, work.cycle) ? 'spare-failed' : 'spare-faulty';
    }
    return null;
  }

  /** The spare is declared failed: never reintegrated, no commit sent to it; a pair's primary flies alone. */
  private retireSpare(degrades: boolean): void {
    const spare = this.spare;
    this.health.retire(spare.name, this.work.cycle, degrades);
    this.spareCurrent = false;
    this.spareAvailable = false;
    this.reintegration = null;
    this.persistentStore?.detach(this.primary.cores[0].memoryBytes());
  }

  private startEpoch(firstCycle: number): void {
    this.epochs.begin(firstCycle);
    for (const core of this.primary.cores) core.clearDirtyBlocks();
  }

  private resync(processor: Processor): void {
    for (const core of processor.cores) {
      this.checkpoint.restoreInto(core);
      core.clearDirtyBlocks();
    }
  }

  /**
   * A cold spare keeps no state: it is replaced by fresh instances and boots from the initial image — with
   * the replica of the persistent region in place before `init` runs, when there is one and its checksum
   * holds.
   */
  private coldBoot(processor: Processor): { processor: Processor; boot: ProcessorCycle } {
    const index = this.processors.indexOf(processor);
    const fresh = this.newProcessor(processor.name);
    this.processors[index] = fresh;
    this.bootCount++;
    const image = this.persistentStore?.bootImage(this.nowSeconds()) ?? null;
    if (image) for (const core of fresh.cores) core.memoryBytes().set(image, this.persistentStore!.region.offset);
    return { processor: fresh, boot: fresh.boot(this.config.bootInstructions, this.config.compareState) };
  }

  /** Number of processor boots so far (the first boot and every cold spare boot). */
  get boots(): number {
    return this.bootCount;
  }

  get currentCycle(): number {
    return this.cycleIndex;
  }
}
