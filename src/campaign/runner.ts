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
//               restore and replay fit in the control period, and a failover that failed otherwise.
// An experiment stops early as masked as soon as F's whole state equals G's at a cycle boundary.
// Checkpoint upsets need no simulation: the checkpoint is read only at a failover, so an upset there is
// masked when a commit or the scrub rewrites its bytes, and latent until then.
import { OUTPUT_CHANNELS } from '../abi/channels.js';
import { checkpointScrubBlocks, scrubBlocks } from '../computer/flight-computer.js';
import { Core, type CycleResult } from '../core/core.js';
import type { FlightModule } from '../core/flight-module.js';
import { GlobalSlots } from '../core/global-slots.js';
import { ALL_BLOCKS, memoryRanges, RANGES, statesEqual, globalsEqual } from '../core/state.js';
import type { FlightSetup } from '../mission/fly.js';
import { DIRTY_BLOCKS, MAX_STORE_BYTES } from '../passes/track-dirty-memory.js';
import { createSpacecraft, type Spacecraft } from '../plant/spacecraft.js';
import { flipBits } from '../upsets/upset.js';
import { armBranchFlip, armResultFlip, disarm, readFaultCounters, resetFaultCounters } from '../core/fault-core.js';
import { configsFor, type BaseConfig, type Experiment, type Outcome } from './experiment.js';
import { outputsMatchGolden, restoreCore, type GoldenRun } from './golden.js';

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
  readonly simulated: number;
}

/** Explains an experiment as it runs, for `lockstep replay`: (cycle, what happened). */
export type Tracer = (cycle: number, event: string) => void;

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
  private readonly frame: Float64Array;
  private readonly applied = new Float64Array(OUTPUT_CHANNELS.length);
  private readonly slots: GlobalSlots;
  private readonly blockShift: number;

  constructor(
    readonly setup: FlightSetup,
    readonly module: FlightModule,
    readonly golden: GoldenRun,
    readonly options: RunnerOptions,
  ) {
    const limit = setup.computer.memoryLimitBytes;
    this.faulty = new Core(module, 'F', golden.frames[0], limit);
    this.plainSlot = { core: this.faulty, touched: ALL_BLOCKS };
    this.hookedSlot = options.hookedModule ? { core: new Core(options.hookedModule, 'F', golden.frames[0], limit), touched: ALL_BLOCKS } : null;
    this.twin = new Core(module, 'G', golden.frames[0], limit);
    this.spacecraft = createSpacecraft(setup.scenario, setup.mission.seed);
    this.frame = new Float64Array(golden.frames[0].length);
    this.slots = new GlobalSlots(module.stateGlobals.map((global) => global.type));
    if (!module.dirtyTracking) throw new Error('campaigns need the dirty-memory tracking of the core passes');
    this.blockShift = module.dirtyTracking.blockShift;
  }

  run(experiment: Experiment): RunRecord {
    const configs = configsFor(experiment.target, this.options.configs, experiment.core);
    if (experiment.target === 'checkpoint') return { ...experiment, outcomes: this.checkpointOutcome(experiment, configs), simulated: 0 };
    if ((experiment.target === 'result' || experiment.target === 'branch') && experiment.position < 0) {
      this.tracer?.(experiment.cycle, `the cycle executes no ${experiment.target === 'result' ? 'value-producing instruction' : 'branch'}: nothing to strike`);
      return { ...experiment, outcomes: verdictsFor(configs, { outcome: 'masked', latency: 0 }), simulated: 0 };
    }
    if (experiment.core === 'spare') {
      // The spare runs only after a failover, and a failover first reloads it from the checkpoint.
      this.tracer?.(experiment.cycle, 'the spare runs only after a failover, which first reloads its state from the checkpoint: the upset is overwritten unread');
      return { ...experiment, outcomes: verdictsFor(configs, { outcome: 'masked', latency: 0 }), simulated: 0 };
    }
    return this.simulate(experiment, configs);
  }

  /** A checkpoint upset is masked when a commit or the checkpoint scrub rewrites it, latent until then. */
  private checkpointOutcome(experiment: Experiment, configs: readonly BaseConfig[]): Verdicts {
    this.tracer?.(experiment.cycle, 'the checkpoint is read only at a failover, and this experiment has none: no core runs differently');
    const { golden } = this;
    const interval = this.setup.computer.checkpointInterval;
    const end = Math.min(golden.cycles, experiment.cycle + this.options.horizon);
    const memoryBytes = golden.snapshots[0].memory.length;
    const inGlobals = experiment.position >= memoryBytes;
    let written = 0;
    for (let cycle = experiment.cycle; cycle < end; cycle++) {
      written |= golden.writtenBlocks[cycle];
      if ((cycle + 1) % interval !== 0) continue;
      const epoch = Math.floor(cycle / interval) + 1;
      // Every commit rewrites all globals; memory where the epoch wrote, or where the scrub found a difference.
      if (inGlobals || this.covers(written | checkpointScrubBlocks(epoch), experiment.position, experiment.bit, experiment.width, memoryBytes)) {
        this.tracer?.(cycle, `epoch end: the commit ${inGlobals ? 'rewrites every global of' : 'or the checkpoint scrub rewrites the struck bytes of'} the checkpoint before any failover needed it`);
        return verdictsFor(configs, { outcome: 'masked', latency: cycle + 1 - experiment.cycle });
      }
      written = 0;
    }
    this.tracer?.(end, 'the struck checkpoint bytes are neither committed over nor scrubbed before the horizon: a failover now would load them');
    return verdictsFor(configs, { outcome: 'latent' });
  }

  /** Whether the byte ranges of a block mask (as comparisons extend them) include any flipped byte. */
  private touches(mask: number, address: number, bit: number, width: number, length: number): boolean {
    const last = address + ((bit + width - 1) >> 3);
    const end = memoryRanges(this.twin, mask, length);
    for (let i = 0; i < end; i += 2) if (address < RANGES[i + 1] && last >= RANGES[i]) return true;
    return false;
  }

  /** Whether the byte ranges of a block mask (as commits and comparisons extend them) cover every flipped bit. */
  private covers(mask: number, address: number, bit: number, width: number, length: number): boolean {
    const first = address;
    const last = address + ((bit + width - 1) >> 3);
    const end = memoryRanges(this.twin, mask, length);
    for (let b = first; b <= last; b++) {
      let inside = false;
      for (let i = 0; i < end; i += 2) if (b >= RANGES[i] && b < RANGES[i + 1]) inside = true;
      if (!inside) return false;
    }
    return true;
  }

  private simulate(experiment: Experiment, configs: readonly BaseConfig[]): RunRecord {
    const instructionFault = experiment.target === 'result' || experiment.target === 'branch';
    const slot = instructionFault ? this.hookedSlot : this.plainSlot;
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
    const { golden, faulty, twin } = this;
    const instructionFault = experiment.target === 'result' || experiment.target === 'branch';
    const computer = this.setup.computer;
    const interval = computer.checkpointInterval;
    const budget = computer.watchdogInstructions;
    const verdicts: Verdicts = {};
    const open = new Set<BaseConfig>(configs);
    const end = Math.min(golden.cycles, experiment.cycle + this.options.horizon);

    // An upset in memory the golden run neither reads nor writes changes nothing until it does: skip to
    // that cycle, deciding on the way what the scrub at each epoch's end would find.
    let strike = experiment.cycle;
    let differing = 0;
    if (experiment.target === 'memory') {
      differing = this.blocksOf(experiment.position, experiment.bit, experiment.width);
    }
    if (experiment.target === 'memory' && this.options.skipUntouched !== false) {
      // An access marks the block it starts in and may reach MAX_STORE_BYTES into the next one.
      const reach = differing | this.blocksOf(Math.max(0, experiment.position - MAX_STORE_BYTES), 0, 8 * MAX_STORE_BYTES);
      const memoryBytes = this.twin.memoryBytes().length;
      let epochWritten = 0;
      for (let cycle = Math.floor(strike / interval) * interval; cycle < strike; cycle++) epochWritten |= golden.writtenBlocks[cycle];
      while (strike < end && ((golden.readBlocks[strike] | golden.writtenBlocks[strike]) & reach) === 0) {
        if ((strike + 1) % interval === 0) {
          const compared = epochWritten | scrubBlocks(Math.floor(strike / interval) + 1);
          if (computer.compareState && this.touches(compared, experiment.position, experiment.bit, experiment.width, memoryBytes)) {
            const detection: Outcome = { outcome: 'detected', cause: 'mismatch', mismatch: 'state', latency: strike - experiment.cycle };
            this.tracer?.(strike, 'epoch end: the comparator\'s scrub reads the struck block and finds the cores differ (state mismatch)');
            for (const config of ['pair', 'pair+spare'] as const) {
              if (open.has(config)) this.decideOne(config, open, verdicts, detection, strike, golden.instructions[strike]);
            }
          }
          epochWritten = 0;
        }
        strike++;
      }
      if (strike > experiment.cycle) this.tracer?.(experiment.cycle, `the golden run neither reads nor writes the struck block until cycle ${strike}: cycles ${experiment.cycle}–${strike - 1} need no simulation`);
      if (strike >= end || open.size === 0) {
        this.tracer?.(end, strike >= end ? 'the struck block is not touched before the horizon' : 'every configuration decided without simulation');
        for (const config of open) verdicts[config] = { outcome: 'latent' };
        return { ...experiment, outcomes: verdicts, simulated: 0 };
      }
    }

    const snapshotIndex = Math.floor(strike / golden.snapshotInterval);
    const start = snapshotIndex * golden.snapshotInterval;
    this.tracer?.(start, `F (faulty) and G (its fault-free twin) restored from the golden snapshot of cycle ${start}${start < strike ? `, run to cycle ${strike}` : ''}`);
    // A fault may have grown F's memory: such a core is replaced, not restored.
    if (faulty.memoryBytes().length !== golden.snapshots[snapshotIndex].memory.length) {
      this.faulty = new Core(faulty.flightModule, 'F', golden.frames[0], computer.memoryLimitBytes);
      this.touchedF = ALL_BLOCKS;
      return this.simulateOn(experiment, configs);
    }
    // F and G hold golden state but where they wrote or were struck since their last restore.
    restoreCore(faulty, golden.snapshots[snapshotIndex], golden.everWritten | this.touchedF);
    restoreCore(twin, golden.snapshots[snapshotIndex], golden.everWritten | this.touchedG);
    this.touchedF = 0;
    this.touchedG = 0;
    let simulated = 0;
    // Blocks written since the epoch began, by either core: what the epoch's end compares.
    let epochWritten = 0;
    for (let cycle = Math.floor(start / interval) * interval; cycle < start; cycle++) epochWritten |= golden.writtenBlocks[cycle];
    for (let cycle = start; cycle < strike; cycle++) {
      faulty.inputs = golden.frames[cycle];
      twin.inputs = golden.frames[cycle];
      faulty.step(budget);
      twin.step(budget);
      simulated += 2;
      const written = faulty.dirtyBlocks() | twin.dirtyBlocks();
      epochWritten |= written;
      this.touchedF |= written;
      this.touchedG |= written;
      faulty.clearDirtyBlocks();
      twin.clearDirtyBlocks();
      if ((cycle + 1) % interval === 0) epochWritten = 0;
    }

    this.tracer?.(strike, `strike F: ${describeStrike(experiment, this.module)}`);
    if (experiment.target === 'memory') {
      flipBits(faulty.memoryBytes(), experiment.position, experiment.bit, experiment.width);
      this.touchedF |= differing;
    } else if (experiment.target === 'global') {
      this.slots.store(experiment.position, faulty.globals[experiment.position].value as number | bigint);
      this.slots.flip(experiment.position, experiment.bit, experiment.width);
      faulty.globals[experiment.position].value = this.slots.load(experiment.position);
    } else if (experiment.target === 'result') {
      const bits = Math.min(experiment.width, 64 - experiment.bit);
      armResultFlip(faulty, experiment.position, ((1n << BigInt(bits)) - 1n) << BigInt(experiment.bit));
    } else {
      armBranchFlip(faulty, experiment.position, experiment.bit % 32);
    }
    if (instructionFault) resetFaultCounters(faulty);

    for (let cycle = strike; cycle < end && open.size > 0; cycle++) {
      faulty.inputs = golden.frames[cycle];
      twin.inputs = golden.frames[cycle];
      const resultF = copyResult(faulty.step(budget));
      const resultG = twin.step(budget);
      if (instructionFault && cycle === strike) {
        const fired = readFaultCounters(faulty).fired;
        disarm(faulty);
        if (fired === null && resultF.status === 'ok') throw new Error(`experiment ${experiment.index}: the ${experiment.target} flip at n = ${experiment.position} did not fire (golden count ${experiment.target === 'result' ? golden.resultCounts?.[strike] : golden.branchCounts?.[strike]})`);
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

      if (resultF.status !== 'ok') {
        const cause = resultF.status;
        this.tracer?.(cycle, `F ${cause === 'trap' ? `trapped (${resultF.trap})` : 'was stopped by the watchdog'} after ${resultF.instructions} instructions`);
        const detection: Outcome = { outcome: 'detected', cause, trap: resultF.trap ?? undefined, latency };
        const decisionInstructions = cause === 'watchdog' ? budget : resultF.instructions;
        // A core whose own check fired stopped itself: a lone hardened core has detected the fault too.
        this.decide(open, verdicts, detection, cycle, decisionInstructions);
        break;
      }
      if (!outputsMatchGolden(faulty, golden, cycle)) {
        this.tracer?.(cycle, 'F\'s outputs differ from G\'s: the comparator flags a mismatch; alone, F would command the wheels wrongly');
        const decisionInstructions = Math.max(resultF.instructions, resultG.instructions);
        this.decide(open, verdicts, { outcome: 'detected', cause: 'mismatch', mismatch: 'outputs', latency }, cycle, decisionInstructions);
        if (open.has('single')) {
          simulated += this.flyWrongCommands(cycle, end);
          verdicts.single = { outcome: this.pointingBroke ? 'pointing-violation' : 'sdc', latency };
          open.delete('single');
        }
        break;
      }
      if ((cycle + 1) % interval === 0) {
        const epoch = Math.floor(cycle / interval) + 1;
        if (this.setup.computer.compareState && (open.has('pair') || open.has('pair+spare'))) {
          if (!statesEqual(faulty, twin, epochWritten | scrubBlocks(epoch))) {
            this.tracer?.(cycle, 'epoch end: F\'s state differs from G\'s in the blocks compared (state mismatch)');
            const decisionInstructions = Math.max(resultF.instructions, resultG.instructions);
            const detection: Outcome = { outcome: 'detected', cause: 'mismatch', mismatch: 'state', latency };
            for (const config of ['pair', 'pair+spare'] as const) {
              if (open.has(config)) this.decideOne(config, open, verdicts, detection, cycle, decisionInstructions);
            }
          }
        }
        epochWritten = 0;
      }
      // Masked as soon as F's whole state equals G's: only blocks either wrote, or where F differed, can differ.
      differing = this.stillDiffering(differing | writtenF | writtenG);
      this.tracer?.(cycle, `outputs agree; F differs from G in ${differing === 0 ? 'no memory block' : `memory blocks ${blockList(differing)}`}${globalsEqual(faulty, twin) ? '' : ' and globals'}`);
      if (differing === 0 && globalsEqual(faulty, twin)) {
        for (const config of open) verdicts[config] = { outcome: 'masked', latency: latency + 1 };
        open.clear();
      }
    }
    for (const config of open) verdicts[config] = { outcome: 'latent' };
    return { ...experiment, outcomes: verdicts, simulated };
  }

  private pointingBroke = false;
  /** Blocks F and G wrote (or F had struck) since their last restore; all, before the first. */
  private touchedF = ALL_BLOCKS;
  private touchedG = ALL_BLOCKS;

  /**
   * Single configuration: F's wrong commands reach the spacecraft. Flies F closed-loop from the cycle of
   * the first wrong commands to the horizon with the spacecraft restored to its golden state there, and
   * notes whether the pointing requirement broke. Returns the cycles simulated.
   */
  private flyWrongCommands(firstWrong: number, end: number): number {
    const { golden, faulty, spacecraft, applied, frame } = this;
    const scenario = this.setup.scenario;
    const budget = this.setup.computer.watchdogInstructions;
    this.pointingBroke = false;
    spacecraft.restore(golden.spacecraft[firstWrong]);
    spacecraft.sense(firstWrong * scenario.controlPeriod, frame); // the same noise draws as the golden cycle
    const snapshot = golden.spacecraft[firstWrong];
    applied.fill(0);
    applied.set(snapshot.commanded, 0);
    let simulated = 0;
    for (let cycle = firstWrong; cycle < end; cycle++) {
      if (cycle > firstWrong) {
        spacecraft.sense(cycle * scenario.controlPeriod, frame);
        faulty.inputs = frame;
        simulated++;
        if (faulty.step(budget).status !== 'ok') break;
      }
      const outputs = faulty.outputs;
      for (let channel = 0; channel < applied.length; channel++) {
        if (outputs.writtenMask & (1 << channel)) applied[channel] = outputs.values[channel];
      }
      spacecraft.actuate(applied);
      spacecraft.advance();
      if ((cycle + 1) * scenario.controlPeriod >= scenario.settleTime && spacecraft.pointingErrorDeg() > scenario.pointingRequirementDeg) {
        this.pointingBroke = true;
        break;
      }
    }
    this.touchedF |= faulty.dirtyBlocks();
    return simulated;
  }

  /** A detection in `cycle` decides every configuration with a comparator still open. */
  private decide(open: Set<BaseConfig>, verdicts: Verdicts, detection: Outcome, cycle: number, decisionInstructions: number): void {
    for (const config of ['pair', 'pair+spare'] as const) {
      if (open.has(config)) this.decideOne(config, open, verdicts, detection, cycle, decisionInstructions);
    }
    // Without a comparator a crash or a hang is still seen: the processor stopped.
    if (open.has('single') && detection.cause !== 'mismatch') {
      verdicts.single = detection;
      open.delete('single');
    }
  }

  private decideOne(config: 'pair' | 'pair+spare', open: Set<BaseConfig>, verdicts: Verdicts, detection: Outcome, cycle: number, decisionInstructions: number): void {
    open.delete(config);
    if (config === 'pair') {
      verdicts.pair = detection;
      return;
    }
    const computer = this.setup.computer;
    const epochStart = cycle - (cycle % computer.checkpointInterval);
    let replay = 0;
    for (let c = epochStart; c <= cycle; c++) replay += this.golden.instructions[c];
    const seconds = (decisionInstructions + replay) / computer.clockHz + this.golden.snapshots[0].memory.length / computer.checkpointBytesPerSecond;
    this.tracer?.(cycle, `pair+spare: detection, restore and replay of cycles ${epochStart}–${cycle} take ${(seconds * 1000).toFixed(3)} ms of the ${computer.controlPeriod * 1000} ms period`);
    verdicts['pair+spare'] = { ...detection, outcome: seconds <= computer.controlPeriod ? 'recovered' : 'failover-failed' };
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

function describeStrike(experiment: Experiment, module: FlightModule): string {
  const bits = experiment.width > 1 ? `bits ${experiment.bit}..${experiment.bit + experiment.width - 1}` : `bit ${experiment.bit}`;
  switch (experiment.target) {
    case 'global':
      return `global #${experiment.position} (${module.stateGlobals[experiment.position]?.name ?? '?'}), ${bits}`;
    case 'result':
      return `arm a flip of ${bits} of the result of value-producing instruction #${experiment.position} of this cycle`;
    case 'branch':
      return `arm an inversion of branch decision #${experiment.position} of this cycle`;
    default:
      return `memory address 0x${experiment.position.toString(16)}, ${bits}`;
  }
}

function blockList(mask: number): string {
  const blocks: number[] = [];
  for (let block = 0; block < 32; block++) if ((mask >>> block) & 1) blocks.push(block);
  return blocks.join(', ');
}

function copyResult(result: CycleResult): CycleResult {
  return { status: result.status, instructions: result.instructions, trap: result.trap };
}

function verdictsFor(configs: readonly BaseConfig[], outcome: Outcome): Verdicts {
  return Object.fromEntries(configs.map((config) => [config, outcome]));
}

