// Runs experiments. An experiment restores the faulty core F and a golden companion G from the golden
// snapshot before its cycle, brings both to the injection cycle, strikes F, and runs both on the golden
// inputs until every configuration's outcome is known — at the latest at the horizon. One faulty-core
// run judges all configurations at once, because each differs only in what watches F:
//   single      F's outputs reach the spacecraft: wrong commands are silent data corruption (or, once
//               flown closed-loop with the plant restored at that cycle, a pointing violation);
//   pair        F and its fault-free twin G behind the comparator: a difference in outputs (any cycle),
//               in state (at an epoch's end), a trap or a hang is detected, and nothing wrong is released;
//   pair+spare  the same detection, then the spare replays the epoch from the checkpoint — the golden
//               state, since commits happen only after agreement — so it is recovered if detection,
//               restore and replay fit in the control period, and a failover that failed otherwise;
//   tmr, tmr+spare  F and two fault-free voters (G twice): the voter's agreement is the comparator's, so
//               F is outvoted when and as the pair would detect it, the majority's commands are released
//               in time and F resynchronised from them — recovered, with no cycle lost (a voter
//               declared failed leaves a pair, or the spare in its place: no failover either).
// A lasting fault (stuck, dead, babbling) strikes F as an affliction (src/computer/strike.ts) and holds
// on: it is never masked (F equal to G now says nothing of the next cycle), so it is found or latent.
// The rules are the flight computer's own (src/computer/): the same epoch schedule and scrub, the same
// comparator and decision time, the same controller table and modelled clock; a differential test flies
// experiments through the flight computer and checks that both reach the same outcome.
// An experiment stops early as masked as soon as F's whole state equals G's at a cycle boundary.
// Checkpoint faults need no simulation: the checkpoint is read only at a failover, so a fault there is
// masked when a commit or the scrub rewrites its bytes, and latent until then. Nor do replica faults: the
// persistent store's replica is read only by a cold spare's boot, and every epoch's end checks its CRC-32
// and resends the region when it is wrong, so a fault there is masked at the first epoch end (and a cold
// boot before it would find the checksum wrong and boot from the initial image: never silent). A link
// fault strikes the commit crossing the link in its cycle, if any: the commit is encoded from the golden
// states, struck in transit and received as the flight computer does it (the same functions); masked when
// the spare's copy comes out exact (an idle link, or a check caught the flip and the stream was sent
// again), sdc — a spare silently holding wrong state, which the next failover would fly — otherwise. (A
// flip in a write of the persistent region in transit lands in the replica, under its CRC-32: the replica
// target covers it.)
import { INPUT_CHANNELS, OUTPUT_CHANNELS } from '../abi/channels.js';
import { EpochSchedule } from '../computer/epochs.js';
import { describeDetection } from '../computer/flight-computer.js';
import { strikeCore, strikeInTransit } from '../computer/strike.js';
import { Checkpoint } from '../spare/checkpoint.js';
import type { CheckpointStreamWriter } from '../spare/checkpoint-stream.js';
import { deliverCommit, type Delivery } from '../spare/commit-delivery.js';
import { CrossStrapLink } from '../spare/link.js';
import { missesDeadline, periodSeconds } from '../computer/timing.js';
import { Core } from '../core/core.js';
import { disarm, readFaultCounters, resetFaultCounters } from '../core/fault-core.js';
import type { FlightModule } from '../core/flight-module.js';
import { ALL_BLOCKS, copyState, globalsEqual, memoryRanges, RANGES } from '../core/state.js';
import { describeFault } from '../faults/describe.js';
import { isInstructionFault, isLasting } from '../faults/fault.js';
import type { FlightSetup } from '../mission/fly.js';
import { DIRTY_BLOCKS, MAX_STORE_BYTES } from '../passes/track-dirty-memory.js';
import { breaksPointing, firstSettledCycle, settledAfter } from '../plant/scenario.js';
import { NOISE_VALUES } from '../plant/sensors.js';
import { createSpacecraft, type Spacecraft } from '../plant/spacecraft.js';
import { compareCores, decisionInstructions } from '../processor/comparator.js';
import { detectionReleasesSpareOutputs } from '../spare/controller.js';
import { failoverReplicationSeconds } from '../spare/persistent-store.js';
import { configsFor, type BaseConfig, type Experiment, type Outcome } from './experiment.js';
import { loadFrame, type GoldenRun } from './golden.js';

export interface RunnerOptions {
  readonly horizon: number;
  readonly configs: readonly BaseConfig[];
  /** Skip the cycles before a memory upset is first touched (default true; false is for testing that it changes nothing). */
  readonly skipUntouched?: boolean;
  /** The fault-hook build of the module, for result and branch faults. */
  readonly hookedModule?: FlightModule;
}

/** A faulty core and the blocks it wrote (or had struck) since its last restore. */
interface FaultySlot {
  core: Core;
  touched: number;
}

type Verdicts = Partial<Record<BaseConfig, Outcome>>;

/** What one build's run of an experiment came to, by base configuration (the context relabels them). */
export interface RunRecord extends Experiment {
  readonly outcomes: Verdicts;
  /**
   * Core-cycles simulated, counting a restore from the campaign's snapshot grid (golden.snapshotInterval)
   * even when the memory budget stored the snapshots further apart: a record does not depend on the budget.
   */
  readonly simulated: number;
  /** The fault-hook site a result or branch flip fired at (ExperimentRecord.site). */
  readonly site?: number;
}

/** Explains an experiment as it runs, for `lockstep replay`: (cycle, what happened). */
export type Tracer = (cycle: number, event: string) => void;

/** The spare each base configuration has: what the controller does with a detection. */
const SPARE_OF = { pair: 'none', 'pair+spare': 'hot' } as const;
type Compared = 'pair' | 'pair+spare' | 'tmr' | 'tmr+spare';
const COMPARED: readonly Compared[] = ['pair', 'pair+spare', 'tmr', 'tmr+spare'];
/** An outvoted core: the majority's commands out in time, the core resynchronised, nothing rolled back. */
const VOTED: ReadonlySet<Compared> = new Set(['tmr', 'tmr+spare']);

/**
 * An experiment's record: its fields, then its outcomes, cycles simulated and fault site. Built with
 * Object.assign, not a spread: V8 clones an experiment by spread through its slow path, which cost more
 * than many a whole experiment. The fields and their order are the spread's.
 */
function recordOf(experiment: Experiment, outcomes: Verdicts, simulated: number, site: number | null = null): RunRecord {
  const record: { -readonly [K in keyof RunRecord]: RunRecord[K] } = Object.assign({}, experiment, { outcomes, simulated });
  if (site !== null) record.site = site;
  return record;
}

export class ExperimentRunner {
  /** Set by `lockstep replay`; left undefined while a campaign runs. */
  tracer: Tracer | undefined;
  /** Names a fault-hook site for the tracer (function and instruction). */
  describeSite: ((site: number) => string) | undefined;

  /** The faulty core of the experiment in progress: the plain build, or the fault-hook build. */
  private faulty: Core;
  private readonly plainSlot: FaultySlot;
  private readonly hookedSlot: FaultySlot | null;
  private readonly twin: Core;
  private readonly spacecraft: Spacecraft;
  /** The golden input frame of the cycle F and G run: both read it, as a processor's cores do. */
  private readonly input: Float64Array;
  /** The frame F senses when its wrong commands fly the spacecraft. */
  private readonly frame: Float64Array;
  private readonly applied: Float64Array;
  private readonly blockShift: number;
  /** The checkpoint epochs as the flight computer keeps them, moved to each experiment's start. */
  private readonly epochs: EpochSchedule;

  constructor(
    readonly setup: FlightSetup,
    readonly module: FlightModule,
    readonly golden: GoldenRun,
    readonly options: RunnerOptions,
  ) {
    const limit = setup.computer.memoryLimitBytes;
    this.input = new Float64Array(INPUT_CHANNELS.length);
    this.faulty = new Core(module, 'F', this.input, limit);
    this.plainSlot = { core: this.faulty, touched: ALL_BLOCKS };
    this.hookedSlot = options.hookedModule ? { core: new Core(options.hookedModule, 'F', this.input, limit), touched: ALL_BLOCKS } : null;
    this.twin = new Core(module, 'G', this.input, limit);
    this.spacecraft = createSpacecraft(setup.scenario, setup.mission.seed);
    this.frame = new Float64Array(INPUT_CHANNELS.length);
    this.applied = new Float64Array(OUTPUT_CHANNELS.length);
    if (!module.dirtyTracking) throw new Error('campaigns need the dirty-memory tracking of the core passes');
    this.blockShift = module.dirtyTracking.blockShift;
    this.epochs = EpochSchedule.beforeBoot(setup.computer.checkpointInterval);
  }

  /** The fault-free twin: a core of the build, for rules that need one (memory ranges of blocks). */
  get twinCore(): Core {
    return this.twin;
  }

  /** The golden core state's memory size: what a failover restores. */
  private get memoryBytes(): number {
    return this.golden.memoryBytes;
  }

  run(experiment: Experiment): RunRecord {
    const configs = configsFor(experiment, this.options.configs);
    if (experiment.target === 'checkpoint') return recordOf(experiment, this.checkpointOutcome(experiment, configs), 0);
    if (experiment.target === 'replica') return recordOf(experiment, this.replicaOutcome(experiment, configs), 0);
    if (experiment.target === 'link') return this.linkOutcome(experiment, configs);
    if (isInstructionFault(experiment) && experiment.location < 0) {
      this.tracer?.(experiment.cycle, `the cycle executes no ${experiment.target === 'result' ? 'value-producing instruction' : 'branch'}: nothing to strike`);
      return recordOf(experiment, verdictsFor(configs, { outcome: 'masked', latency: 0 }), 0);
    }
    if (experiment.processor === 'spare') {
      // The spare runs only after a failover, and a failover first reloads it from the checkpoint.
      this.tracer?.(experiment.cycle, 'the spare runs only after a failover, which first reloads its state from the checkpoint: the upset is overwritten unread');
      return recordOf(experiment, verdictsFor(configs, { outcome: 'masked', latency: 0 }), 0);
    }
    return this.simulate(experiment, configs);
  }

  /**
   * A checkpoint fault is masked once commits or the checkpoint scrub have rewritten every struck byte,
   * latent until then. Every commit rewrites all globals, and the memory the epoch wrote (before the
   * fault too: a commit copies what changed since the last one); the scrub repairs one block per epoch.
   */
  private checkpointOutcome(experiment: Experiment, configs: readonly BaseConfig[]): Verdicts {
    this.tracer?.(experiment.cycle, 'the checkpoint is read only at a failover, and this experiment has none: no core runs differently');
    const { golden, epochs } = this;
    const end = Math.min(golden.cycles, experiment.cycle + this.options.horizon);
    const inGlobals = experiment.region === 'global';
    let remaining = inGlobals ? 0 : struckBytes(experiment);
    epochs.moveToUndisturbed(experiment.cycle);
    let written = 0;
    for (let cycle = epochs.start; cycle < experiment.cycle; cycle++) written |= golden.writtenBlocks[cycle];
    for (let cycle = experiment.cycle; cycle < end; cycle++) {
      written |= golden.writtenBlocks[cycle];
      if (!epochs.endsAt(cycle)) continue;
      if (!inGlobals) remaining = this.uncovered(remaining, written | epochs.checkpointScrub(), experiment.location);
      if (inGlobals || remaining === 0) {
        this.tracer?.(cycle, `epoch end: the commit ${inGlobals ? 'rewrites every global of' : 'or the checkpoint scrub has rewritten the struck bytes of'} the checkpoint before any failover needed it`);
        return verdictsFor(configs, { outcome: 'masked', latency: cycle + 1 - experiment.cycle });
      }
      epochs.begin(cycle + 1);
      written = 0;
    }
    this.tracer?.(end, 'the struck checkpoint bytes are neither committed over nor scrubbed before the horizon: a failover now would load them');
    return verdictsFor(configs, { outcome: 'latent' });
  }

  /**
   * A replica fault is masked at the first epoch end from its cycle on, where the replica's scrub finds
   * its checksum wrong and the region is resent whole (PersistentStore.scrub); latent when the horizon
   * comes first.
   */
  private replicaOutcome(experiment: Experiment, configs: readonly BaseConfig[]): Verdicts {
    const { golden, epochs } = this;
    const end = Math.min(golden.cycles, experiment.cycle + this.options.horizon);
    epochs.moveToUndisturbed(experiment.cycle);
    for (let cycle = experiment.cycle; cycle < end; cycle++) {
      if (!epochs.endsAt(cycle)) continue;
      this.tracer?.(cycle, 'epoch end: the replica\'s scrub finds its checksum wrong and the region is resent whole, before any cold boot read it');
      return verdictsFor(configs, { outcome: 'masked', latency: cycle + 1 - experiment.cycle });
    }
    this.tracer?.(end, 'no epoch ends before the horizon: a cold boot now would find the replica\'s checksum wrong and boot from the initial image');
    return verdictsFor(configs, { outcome: 'latent' });
  }

  /** Whether the mission's flight computer keeps a replica of the persistent region (a spare, replication on). */
  get replicated(): boolean {
    const computer = this.setup.computer;
    return this.module.persistent !== null && computer.replication !== 'off';
  }

  /** The spare's copy of the checkpoint and the stream a link experiment sends it, made at the first one. */
  private linkRig: { readonly checkpoint: Checkpoint; readonly writer: CheckpointStreamWriter; readonly received: Uint8Array; core: Core; readonly delivery: Delivery } | null = null;

  private linkOutcome(experiment: Experiment, configs: readonly BaseConfig[]): RunRecord {
    const { golden, epochs } = this;
    epochs.moveToUndisturbed(experiment.cycle);
    if (!epochs.endsAt(experiment.cycle)) {
      this.tracer?.(experiment.cycle, 'no commit crosses the link in this cycle: the flip strikes an idle link');
      return recordOf(experiment, verdictsFor(configs, { outcome: 'masked', latency: 0 }), 0);
    }
    const computer = this.setup.computer;
    if (!this.linkRig) {
      const module = this.twin.flightModule;
      const checkpoint = new Checkpoint(module.stateGlobals.map((global) => global.type), computer.memoryLimitBytes);
      const writer = checkpoint.newWriter(computer.checkpointEncoding);
      this.linkRig = { checkpoint, writer, received: new Uint8Array(writer.bytes.length), core: new Core(module, 'L', this.input, computer.memoryLimitBytes), delivery: { bytes: 0, seconds: 0, resends: 0 } };
    }
    const rig = this.linkRig;
    // The checkpoint holds the golden state at the epoch's start, and its histories the states at the two
    // commits before (what predictive records predict from): the rig commits all three, from a cleared
    // copy when boot's is among them. The commit then sends the epoch's end. The flight computer's
    // histories of words outside its dirty ranges can be older, so the stream's length may differ by a few
    // bytes from fly's; no outcome does: every flip inside a stream is caught by its record's CRC, and
    // one past its end strikes an idle link.
    const first = epochs.start;
    const commits = [first - 1 - 2 * epochs.interval, first - 1 - epochs.interval, first - 1].filter((cycle) => cycle >= -1);
    const { checkpoint, writer, received, delivery } = rig;
    if (commits.length < 3 || commits[0] === -1) checkpoint.clear();
    const budget = computer.watchdogInstructions;
    let simulated = 0;
    for (const commitAt of commits) {
      const snapshot = golden.snapshots.indexFor(commitAt + 1);
      // A core whose memory grew is replaced, not restored (as the faulty core is).
      if (rig.core.memoryBytes().length !== golden.snapshots.memoryLength(snapshot)) rig.core = new Core(rig.core.flightModule, 'L', this.input, computer.memoryLimitBytes);
      golden.snapshots.restore(rig.core, snapshot);
      for (let cycle = golden.snapshots.cycleOf(snapshot); cycle <= commitAt; cycle++, simulated++) {
        loadFrame(golden, cycle, this.input);
        rig.core.step(budget);
      }
      checkpoint.commitCheckpoint(rig.core, commitAt);
    }
    const core = rig.core;
    core.clearDirtyBlocks();
    for (let cycle = first; cycle <= experiment.cycle; cycle++, simulated++) {
      loadFrame(golden, cycle, this.input);
      core.step(budget);
    }
    const written = core.dirtyBlocks();
    checkpoint.encodeCommit(writer, core, experiment.cycle, written, epochs.checkpointScrub() & ~written);
    const deliveredCommit = deliverCommit(checkpoint, writer, received, new CrossStrapLink(computer.link), (bytes, length) => strikeInTransit(bytes, length, experiment), delivery);
    this.tracer?.(
      experiment.cycle,
      experiment.location >= writer.length
        ? `the commit's stream is ${writer.length} bytes: byte ${experiment.location} of the cycle's traffic is idle link`
        : deliveredCommit.resends > 0
          ? `the flip corrupted the commit's stream (${writer.length} bytes); a record's check caught it and the receiver asked for the rest again (${deliveredCommit.bytes - writer.length} bytes resent)`
          : 'the flip struck the commit\'s stream and no check saw it',
    );
    const exact =
      Buffer.compare(Buffer.from(checkpoint.memory.buffer, checkpoint.memory.byteOffset, checkpoint.memoryLength), core.memoryBytes()) === 0 &&
      core.globals.every((global, i) => Object.is(checkpoint.globals.load(i), global.value));
    if (!exact) this.tracer?.(experiment.cycle, 'the spare\'s copy of the checkpoint differs from the committed state: a failover would fly it');
    return recordOf(experiment, verdictsFor(configs, exact ? { outcome: 'masked', latency: 0 } : { outcome: 'sdc', latency: 0 }), simulated);
  }

  /** Of the struck bytes still to rewrite (bit i: byte address + i), those outside the ranges of `mask`. */
  private uncovered(remaining: number, mask: number, address: number): number {
    const end = memoryRanges(this.twin, mask, this.memoryBytes);
    for (let byte = 0; remaining >>> byte !== 0 && byte < 32; byte++) {
      if (((remaining >>> byte) & 1) === 0) continue;
      for (let i = 0; i < end; i += 2) {
        if (address + byte >= RANGES[i] && address + byte < RANGES[i + 1]) {
          remaining &= ~(1 << byte);
          break;
        }
      }
    }
    return remaining;
  }

  /** Whether a memory fault flips a byte of the persistent region, which the comparator checks every cycle. */
  private inPersistentRegion(experiment: Experiment): boolean {
    const region = this.module.persistent;
    if (!region) return false;
    const last = experiment.location + ((experiment.bit + experiment.width - 1) >> 3);
    return experiment.location < region.offset + region.length && last >= region.offset;
  }

  /** Whether the byte ranges of a block mask (as comparisons extend them) include any flipped byte. */
  private touches(mask: number, experiment: Experiment): boolean {
    const last = experiment.location + ((experiment.bit + experiment.width - 1) >> 3);
    const end = memoryRanges(this.twin, mask, this.memoryBytes);
    for (let i = 0; i < end; i += 2) if (experiment.location < RANGES[i + 1] && last >= RANGES[i]) return true;
    return false;
  }

  private simulate(experiment: Experiment, configs: readonly BaseConfig[]): RunRecord {
    const slot = isInstructionFault(experiment) ? this.hookedSlot : this.plainSlot;
    if (!slot) throw new Error(`the ${experiment.target} target needs the fault-hook build of the module`);
    this.faulty = slot.core;
    this.touchedF = slot.touched;
    try {
      return this.simulateOn(experiment, configs);
    } finally {
      slot.core = this.faulty;
      slot.touched = this.touchedF;
    }
  }

  private simulateOn(experiment: Experiment, configs: readonly BaseConfig[]): RunRecord {
    const { golden, faulty, twin, epochs } = this;
    const instructionFault = isInstructionFault(experiment);
    const computer = this.setup.computer;
    const budget = computer.watchdogInstructions;
    const verdicts: Verdicts = {};
    const open = new Set<BaseConfig>(configs);
    const end = Math.min(golden.cycles, experiment.cycle + this.options.horizon);

    // An upset in memory the golden run neither reads nor writes changes nothing until it does: skip to
    // that cycle, deciding on the way what the scrub at each epoch's end would find.
    let strike = experiment.cycle;
    let differing = experiment.target === 'memory' ? this.blocksOf(experiment.location, experiment.bit, experiment.width) : 0;
    // The comparator checks the persistent region every cycle: a flip there is found at the end of its cycle.
    const lasting = isLasting(experiment);
    if (experiment.target === 'memory' && !lasting && this.options.skipUntouched !== false && !this.inPersistentRegion(experiment)) {
      // An access marks the block it starts in and may reach MAX_STORE_BYTES into the next one.
      const reach = differing | this.blocksOf(Math.max(0, experiment.location - MAX_STORE_BYTES), 0, 8 * MAX_STORE_BYTES);
      while (strike < end && ((golden.readBlocks[strike] | golden.writtenBlocks[strike]) & reach) === 0) strike++;
      if (strike > experiment.cycle) this.tracer?.(experiment.cycle, `the golden run neither reads nor writes the struck block until ${strike < end ? `cycle ${strike}` : 'the horizon'}: cycles ${experiment.cycle}–${strike - 1} need no simulation`);
      if (computer.compareState) {
        // The epochs ending meanwhile compare what was written since they began, and their scrub blocks.
        epochs.moveToUndisturbed(experiment.cycle);
        let epochWritten = 0;
        for (let cycle = epochs.start; cycle < strike; cycle++) {
          epochWritten |= golden.writtenBlocks[cycle];
          if (!epochs.endsAt(cycle)) continue;
          if (cycle >= experiment.cycle && this.touches(epochWritten | epochs.scrub(), experiment)) {
            this.tracer?.(cycle, 'epoch end: the comparator\'s scrub reads the struck block and finds the cores differ (state mismatch)');
            const detection: Outcome = { outcome: 'detected', cause: 'mismatch', mismatch: 'state', latency: cycle - experiment.cycle };
            for (const config of COMPARED) if (open.has(config)) this.decideOne(config, open, verdicts, detection, cycle, golden.instructions[cycle]);
            break;
          }
          epochs.begin(cycle + 1);
          epochWritten = 0;
        }
      }
      if (strike >= end || open.size === 0) {
        this.tracer?.(end, strike >= end ? 'the struck block is not touched before the horizon' : 'every configuration decided without simulation');
        for (const config of open) verdicts[config] = { outcome: 'latent' };
        return recordOf(experiment, verdicts, 0);
      }
    }

    const snapshots = golden.snapshots;
    const snapshotIndex = snapshots.indexFor(strike);
    const start = snapshots.cycleOf(snapshotIndex);
    // After a skip, at the cycle it ends: the cycles printed before it (from the fault's on) stay in order.
    this.tracer?.(strike > experiment.cycle ? strike : start, `F (faulty) and G (its fault-free twin) restored from the golden snapshot of cycle ${start}${start < strike ? `, run to cycle ${strike}` : ''}`);
    // A fault may have grown F's memory: such a core is replaced, not restored.
    if (faulty.memoryBytes().length !== snapshots.memoryLength(snapshotIndex)) {
      this.faulty = new Core(faulty.flightModule, 'F', this.input, computer.memoryLimitBytes);
      this.touchedF = ALL_BLOCKS;
      return this.simulateOn(experiment, configs);
    }
    // F and G hold golden state but where they wrote or were struck since their last restore; F's hardware is whole again.
    faulty.afflictions = null;
    snapshots.restore(faulty, snapshotIndex, golden.everWritten | this.touchedF);
    snapshots.restore(twin, snapshotIndex, golden.everWritten | this.touchedG);
    faulty.inputs = this.input;
    this.touchedF = 0;
    this.touchedG = 0;
    // Counted from the campaign's snapshot grid, whatever the interval the snapshots are stored at.
    let simulated = 2 * (strike % golden.snapshotInterval);
    // Blocks written since the epoch began, by either core: what the epoch's end compares.
    epochs.moveToUndisturbed(start);
    let epochWritten = 0;
    for (let cycle = epochs.start; cycle < start; cycle++) epochWritten |= golden.writtenBlocks[cycle];
    // Up to the strike F is G: only G runs, and F takes what G wrote.
    let replayed = 0;
    for (let cycle = start; cycle < strike; cycle++) {
      loadFrame(golden, cycle, this.input);
      twin.step(budget);
      const written = twin.dirtyBlocks();
      replayed |= written;
      epochWritten |= written;
      twin.clearDirtyBlocks();
      if (epochs.endsAt(cycle)) {
        epochs.begin(cycle + 1);
        epochWritten = 0;
      }
    }
    if (strike > start) {
      copyState(twin, faulty, replayed);
      faulty.clearDirtyBlocks();
      this.touchedF |= replayed;
      this.touchedG |= replayed;
    }

    this.tracer?.(strike, `strike F: ${describeFault(experiment, this.module.stateGlobals.map((global) => global.name))}`);
    strikeCore(faulty, experiment);
    if (experiment.target === 'memory') this.touchedF |= differing;
    if (instructionFault) resetFaultCounters(faulty);
    let site: number | null = null;
    let compared = false;

    for (let cycle = strike; cycle < end && open.size > 0; cycle++) {
      loadFrame(golden, cycle, this.input);
      const resultF = faulty.step(budget);
      const resultG = twin.step(budget);
      if (instructionFault && cycle === strike) {
        const fired = readFaultCounters(faulty).fired;
        site = fired;
        disarm(faulty);
        if (fired === null && resultF.status === 'ok') throw new Error(`experiment ${experiment.index}: the ${experiment.target} flip at n = ${experiment.location} did not fire (golden count ${experiment.target === 'result' ? golden.resultCounts?.[strike] : golden.branchCounts?.[strike]})`);
        if (fired !== null) this.tracer?.(cycle, `the flip fired at fault site #${fired}${this.describeSite ? ` (${this.describeSite(fired)})` : ''}`);
      }
      simulated += 2;
      const latency = cycle - experiment.cycle;
      const writtenF = faulty.dirtyBlocks();
      const writtenG = twin.dirtyBlocks();
      faulty.clearDirtyBlocks();
      twin.clearDirtyBlocks();
      epochWritten |= writtenF | writtenG;
      this.touchedF |= writtenF;
      this.touchedG |= writtenG;
      const epochEnds = epochs.endsAt(cycle);

      // The comparator of the pair configurations; a lone core is judged by the same verdict, less the comparison.
      const compareState = computer.compareState && epochEnds && (open.has('pair') || open.has('pair+spare') || open.has('tmr') || open.has('tmr+spare'));
      const { verdict, mismatch } = compareCores(faulty, twin, resultF, resultG, compareState, epochWritten | epochs.scrub());
      if (verdict !== 'agreed') {
        const decision = decisionInstructions(verdict, resultF, resultG);
        if (verdict === 'mismatch') {
          // Debug outputs are compared like commands, but a wrong one reaches only telemetry: a lone F whose
          // commands are still right flies on.
          const wrongCommands = mismatch === 'outputs' && !faulty.outputs.sameCommandsAs(twin.outputs);
          this.tracer?.(
            cycle,
            mismatch === 'state'
              ? 'epoch end: F\'s state differs from G\'s in the blocks compared (state mismatch)'
              : wrongCommands
                ? 'F\'s outputs differ from G\'s: the comparator flags a mismatch; alone, F would command the wheels wrongly'
                : 'F\'s debug outputs differ from G\'s, its commands do not: the comparator flags a mismatch; alone, F flies on',
          );
          const detection: Outcome = { outcome: 'detected', cause: 'mismatch', mismatch: mismatch!, latency };
          for (const config of COMPARED) if (open.has(config)) this.decideOne(config, open, verdicts, detection, cycle, decision);
          if (wrongCommands && open.has('single')) {
            simulated += this.flyWrongCommands(cycle, end);
            verdicts.single = { outcome: this.pointingBroke ? 'pointing-violation' : 'sdc', latency };
            open.delete('single');
          }
          if (wrongCommands) break;
        } else {
          const detection: Outcome = { outcome: 'detected', cause: verdict, trap: resultF.trap ?? undefined, abort: resultF.abort ?? undefined, latency };
          this.tracer?.(cycle, `F stopped after ${resultF.instructions} instructions: ${describeDetection({ cause: verdict, trap: resultF.trap, abort: resultF.abort })}`);
          for (const config of COMPARED) if (open.has(config)) this.decideOne(config, open, verdicts, detection, cycle, decision);
          // Without a comparator a core that stops is still seen: the processor presents no outputs.
          if (open.has('single')) {
            verdicts.single = detection;
            open.delete('single');
          }
          break;
        }
      }
      if (epochEnds) {
        epochs.begin(cycle + 1);
        epochWritten = 0;
      }
      // Masked as soon as F's whole state equals G's: only blocks either wrote, or where F differed, can differ.
      // Once compared, a block neither core wrote since is as it was: after the first comparison only the
      // written blocks are compared again (a lasting fault changes F's memory unseen: always all of them).
      const recheck = lasting || !compared ? differing | writtenF | writtenG : writtenF | writtenG;
      differing = (differing & ~recheck) | this.stillDiffering(recheck);
      compared = true;
      this.tracer?.(cycle, `outputs agree; F differs from G in ${differing === 0 ? 'no memory block' : `memory blocks ${blockList(differing)}`}${globalsEqual(faulty, twin) ? '' : ' and globals'}`);
      if (open.size > 0 && !lasting && differing === 0 && globalsEqual(faulty, twin)) {
        for (const config of open) verdicts[config] = { outcome: 'masked', latency: latency + 1 };
        open.clear();
      }
    }
    for (const config of open) verdicts[config] = { outcome: 'latent' };
    return recordOf(experiment, verdicts, simulated, site);
  }

  private pointingBroke = false;
  /** Blocks F and G wrote (or F had struck) since their last restore; all, before the first. */
  private touchedF = ALL_BLOCKS;
  private touchedG = ALL_BLOCKS;

  /**
   * Single configuration: F's wrong commands reach the spacecraft. Flies F closed-loop from the cycle of
   * the first wrong commands to the horizon with the spacecraft restored to its golden state there, and
   * notes whether the pointing requirement broke before F stopped (which the processor would see).
   * Returns the cycles simulated.
   */
  private flyWrongCommands(firstWrong: number, end: number): number {
    const { golden, faulty, spacecraft, applied, frame } = this;
    const scenario = this.setup.scenario;
    const budget = this.setup.computer.watchdogInstructions;
    this.pointingBroke = false;
    // The requirement applies from settling on: wrong commands that end before it cannot break it, so
    // the watch would only confirm the silent corruption already found.
    if (!settledAfter(end - 1, scenario)) {
      this.tracer?.(firstWrong, `single: the pointing requirement applies from the end of cycle ${firstSettledCycle(scenario)} on, past the horizon: no pointing violation possible`);
      return 0;
    }
    // The spacecraft's golden state at firstWrong: from the snapshot before it, flown on the golden commands.
    // The sensors read the golden run's noise (it does not depend on the trajectory): no draws to replay.
    const snapshot = golden.snapshots.indexFor(firstWrong);
    golden.snapshots.restoreSpacecraft(spacecraft, snapshot);
    const commanded = golden.snapshots.commanded(snapshot);
    applied.fill(0);
    applied.set(commanded, 0);
    for (let cycle = golden.snapshots.cycleOf(snapshot); cycle < firstWrong; cycle++) {
      const mask = golden.writtenMasks[cycle];
      for (let channel = 0; channel < commanded.length; channel++) {
        if (mask & (1 << channel)) applied[channel] = golden.outputs[cycle * applied.length + channel];
      }
      spacecraft.actuate(applied);
      spacecraft.advance();
    }
    let simulated = 0;
    let worst = 0;
    for (let cycle = firstWrong; cycle < end; cycle++) {
      if (cycle > firstWrong) {
        spacecraft.senseWithNoise(cycle * scenario.controlPeriod, frame, golden.sensorNoise, cycle * NOISE_VALUES);
        faulty.inputs = frame;
        simulated++;
        if (faulty.step(budget).status !== 'ok') {
          this.tracer?.(cycle, 'F stops: the lone processor detects it, and the pointing watch ends');
          break;
        }
      }
      const outputs = faulty.outputs;
      for (let channel = 0; channel < applied.length; channel++) {
        if (outputs.writtenMask & (1 << channel)) applied[channel] = outputs.values[channel];
      }
      spacecraft.actuate(applied);
      spacecraft.advance();
      // The error's value only for the trace: the watch needs no more than whether it breaks the requirement.
      if (this.tracer) worst = Math.max(worst, spacecraft.pointingErrorDeg());
      if (breaksPointing(cycle, spacecraft, scenario)) {
        this.tracer?.(cycle, `single: the wrong commands turn the pointing error to ${spacecraft.pointingErrorDeg().toPrecision(3)}°, beyond the ${scenario.pointingRequirementDeg}° requirement`);
        this.pointingBroke = true;
        break;
      }
    }
    if (!this.pointingBroke) this.tracer?.(end, `single: the wrong commands keep the pointing error within ${worst.toPrecision(3)}° (requirement ${scenario.pointingRequirementDeg}° once settled)`);
    this.touchedF |= faulty.dirtyBlocks();
    return simulated;
  }

  /**
   * A detection in `cycle` decides a comparing configuration as the controller table does: without a
   * spare the cycle's commands are held (detected); with one, the spare restores the checkpoint and
   * replays the epoch, recovered if detection, restore and replay fit in the period.
   */
  private decideOne(config: Compared, open: Set<BaseConfig>, verdicts: Verdicts, detection: Outcome, cycle: number, decision: number): void {
    open.delete(config);
    if (VOTED.has(config)) {
      this.tracer?.(cycle, `${config}: F is outvoted; the majority's commands go out in time and F is resynchronised from it`);
      verdicts[config] = Object.assign({}, detection, { outcome: 'recovered' as const });
      return;
    }
    if (!detectionReleasesSpareOutputs(SPARE_OF[config as 'pair' | 'pair+spare'])) {
      verdicts[config] = detection;
      return;
    }
    const computer = this.setup.computer;
    const epochStart = this.epochs.start;
    let replay = 0;
    for (let c = epochStart; c <= cycle; c++) replay += this.golden.instructions[c];
    // Protocol C before release: nothing for the hot spare modelled here (its failed processor gets the region
    // with its reintegration, after the commands), the one formula all the same.
    const linkWait = failoverReplicationSeconds(computer.link, computer.replication, this.module.persistent, SPARE_OF['pair+spare']);
    const seconds = periodSeconds(computer, decision + replay, this.memoryBytes, linkWait);
    this.tracer?.(cycle, `${config}: detection, restore and replay of cycles ${epochStart}–${cycle} take ${(seconds * 1000).toFixed(3)} ms of the ${computer.controlPeriod * 1000} ms period`);
    verdicts[config] = Object.assign({}, detection, { outcome: missesDeadline(computer, seconds) ? ('failover-failed' as const) : ('recovered' as const) });
  }

  /** The blocks, among `candidates`, where F's memory still differs from G's. */
  private stillDiffering(candidates: number): number {
    if (candidates === 0) return 0;
    const a = this.faulty.memoryBytes();
    const b = this.twin.memoryBytes();
    if (a.length !== b.length) return -1;
    let differing = 0;
    for (let block = 0; block < DIRTY_BLOCKS; block++) {
      if (((candidates >>> block) & 1) === 0) continue;
      const start = block << this.blockShift;
      if (start >= a.length) break;
      const end = block === DIRTY_BLOCKS - 1 ? a.length : Math.min(a.length, (block + 1) << this.blockShift);
      if (a.compare(b, start, end, start, end) !== 0) differing |= 1 << block;
    }
    return differing;
  }

  private blocksOf(address: number, bit: number, width: number): number {
    const last = address + ((bit + width - 1) >> 3);
    let mask = 0;
    for (let block = address >> this.blockShift; block <= Math.min(DIRTY_BLOCKS - 1, last >> this.blockShift); block++) mask |= 1 << block;
    return mask | (last >> this.blockShift >= DIRTY_BLOCKS ? 1 << (DIRTY_BLOCKS - 1) : 0);
  }
}

/** The bytes a storage fault flips, as bits of a mask (bit i: byte location + i). */
function struckBytes(fault: Experiment): number {
  const bytes = ((fault.bit + fault.width - 1) >> 3) + 1;
  return bytes >= 32 ? -1 : (1 << bytes) - 1;
}

function blockList(mask: number): string {
  const blocks: number[] = [];
  for (let block = 0; block < 32; block++) if ((mask >>> block) & 1) blocks.push(block);
  return blocks.join(', ');
}

function verdictsFor(configs: readonly BaseConfig[], outcome: Outcome): Verdicts {
  return Object.fromEntries(configs.map((config) => [config, outcome]));
}
