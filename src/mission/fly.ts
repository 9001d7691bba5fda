// `lockstep fly`: closes the loop between the flight computer and the spacecraft for a whole mission,
// injecting the mission's upsets, and proves what the flight computer promised: the released command
// stream is compared bit for bit with a fault-free run of the same seed (which this module flies too),
// and with an oracle — a fault-free core fed the same inputs — cycle by cycle, so that any upset that
// changed released commands without being detected is counted.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { INPUT_CHANNELS, OUT, OUTPUT_CHANNELS } from '../abi/channels.js';
import { countsByCause, describeDetection, FlightComputer, type CycleReport, type DetectionCause, type FlightComputerConfig } from '../computer/flight-computer.js';
import type { HealthSummary } from '../computer/health.js';
import { Core, MAX_INSTRUCTION_BUDGET, type OutputCapture } from '../core/core.js';
import { prepareFaultModule } from '../core/fault-core.js';
import { FlightModule } from '../core/flight-module.js';
import { copyState } from '../core/state.js';
import { describeFault } from '../faults/describe.js';
import { randomFaults } from '../faults/draw.js';
import { FaultError, isInstructionFault, type Fault } from '../faults/fault.js';
import { ALL_CORES, faultDomains, TMR_CORES } from '../faults/fault-space.js';
import { readUpsetFile, type UpsetFileMachine } from '../faults/upset-file.js';
import { createSpacecraft } from '../plant/spacecraft.js';
import { settledAfter, type Scenario } from '../plant/scenario.js';
import { ConfigError, missionTiming, scenarioOf, type Mission } from './config.js';
import type { ControllerState } from '../spare/controller.js';
import { asyncLinkProblem, replicaBytes } from '../spare/persistent-store.js';
import { RealTimePacer, type RealTimeSummary } from './realtime.js';
import { hardenModule } from '../harden.js';
import { HARDENINGS } from '../hardenings.js';
import { ModuleError } from '../passes/index.js';

export const REFERENCE_FSW = fileURLToPath(new URL('../../build/adcs.wasm', import.meta.url));

/** Everything a run needs, resolved once from a mission and shared by the reference and the faulty run. */
export interface FlightSetup {
  readonly mission: Mission;
  readonly scenario: Scenario;
  readonly flightModule: FlightModule;
  readonly cycles: number;
  readonly computer: FlightComputerConfig;
  readonly upsets: readonly Fault[];
}

export class FlightSoftwareError extends Error {}

const MAX_BUDGET = MAX_INSTRUCTION_BUDGET;

export function prepareFlight(mission: Mission, flightModule?: FlightModule, source = 'mission'): FlightSetup {
  const scenario = scenarioOf(mission);
  const { cycles, watchdogInstructions } = missionTiming(mission, source, MAX_BUDGET);
  // An upset after the last cycle would never strike: the file is refused, naming it.
  const scripted = mission.upsets.file ? readUpsetFile(mission.upsets.file, cycles, machineOf(mission)) : null;
  // Instruction faults strike through the fault hooks: such a mission flies the fault-hook build.
  const module = flightModule ?? loadFlightSoftware(mission, { faultHooks: scripted?.some(isInstructionFault) ?? false });
  // A campaign's spec holds its mission without redundancy and health (campaign/context.ts, specMission): the defaults.
  const redundancy = mission.redundancy ?? 'pair';
  const health = mission.health ?? { failThreshold: 0, failWindowSeconds: 3600, heartbeatCycles: 10 };
  if (redundancy === 'tmr' && !mission.lockstep) throw new ConfigError(`${source}: redundancy: tmr votes three cores; lockstep: false (one core per processor) does not apply to it`);
  const computer: FlightComputerConfig = {
    spare: mission.spare,
    redundancy,
    lockstep: mission.lockstep,
    compareState: mission.compareState,
    clockHz: mission.clockHz,
    controlPeriod: scenario.controlPeriod,
    watchdogInstructions,
    bootInstructions: Math.min(MAX_BUDGET, Math.floor(10 * scenario.controlPeriod * mission.clockHz)),
    checkpointBytesPerSecond: mission.checkpointBytesPerSecond,
    memoryLimitBytes: mission.memoryLimitPages * 65536,
    coldBootSeconds: mission.coldBootSeconds,
    checkpointInterval: mission.checkpointInterval,
    link: { bandwidthBytesPerSecond: mission.link.bandwidthBytesPerSecond, latencySeconds: mission.link.latencySeconds },
    checkpointEncoding: mission.link.compression === 'none' ? 'raw' : mission.link.compression,
    reintegration: mission.reintegration,
    reintegrationMaxRounds: mission.reintegrationMaxRounds,
    replication: mission.persistentStore.replication,
    health: {
      failThreshold: health.failThreshold,
      failWindowCycles: Math.max(1, Math.round(health.failWindowSeconds / scenario.controlPeriod)),
      heartbeatCycles: health.heartbeatCycles,
    },
  };
  const region = module.persistent;
  const replicated = region !== null && computer.spare !== 'none' && computer.replication !== 'off';
  if (replicated && computer.replication === 'async') {
    const problem = asyncLinkProblem(computer.link, region, scenario.controlPeriod);
    if (problem) throw new ConfigError(`${source}: persistentStore.replication: ${problem}`);
  }
  const upsets =
    scripted ??
    randomFaults(
      faultDomains(
        {
          memoryBytes: initialMemoryBytes(module),
          globalTypes: module.stateGlobals.map((global) => global.type),
          replicaBytes: replicated ? replicaBytes(region) : 0,
          linkBytesPerCycle: linkBytesPerCycle(computer),
        },
        mission.upsets.targets,
        coresOf(computer),
      ),
      {
        seed: mission.seed,
        cycles,
        controlPeriod: scenario.controlPeriod,
        count: mission.upsets.count,
        ratePerBitPerDay: mission.upsets.ratePerBitPerDay,
        width: mission.upsets.width,
        kinds: mission.upsets.kinds,
      },
    );
  return { mission, scenario, flightModule: module, cycles, computer, upsets };
}

/** The processors a mission's flight computer has, for an upset file naming them. */
function machineOf(mission: Mission): UpsetFileMachine {
  const spare = mission.spare === 'none' ? 'no spare' : `a ${mission.spare} spare`;
  if (mission.redundancy === 'tmr') return { processors: mission.spare === 'none' ? ['P1', 'P2', 'P3'] : ['P1', 'P2', 'P3', 'P4'], description: `TMR with ${spare}` };
  return { processors: mission.spare === 'none' ? ['P1'] : ['P1', 'P2'], description: `a ${mission.lockstep ? 'lock-step pair' : 'lone core'} with ${spare}` };
}

/** The bytes the link can carry in one control period: the slots a link fault strikes. */
export function linkBytesPerCycle(computer: FlightComputerConfig): number {
  return Math.floor(computer.link.bandwidthBytesPerSecond * computer.controlPeriod);
}

/** Every core a random upset can strike: both of each processor, or the one of each without lock-step; TMR's three voters and its spare. */
function coresOf(computer: FlightComputerConfig) {
  if (computer.redundancy === 'tmr') return computer.spare === 'none' ? TMR_CORES.filter((ref) => ref.processor !== 'P4') : TMR_CORES;
  return ALL_CORES.filter((ref) => computer.lockstep || ref.core === 'A');
}

/**
 * The mission's flight software, hardened as the mission names it (src/hardenings.ts), if it does; built
 * with the fault hooks when instruction faults are to strike it.
 */
export function loadFlightSoftware(mission: Mission, { faultHooks = false } = {}): FlightModule {
  const path = mission.fsw ?? REFERENCE_FSW;
  const options = { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages };
  if (!mission.harden && !faultHooks) return FlightModule.fromFile(path, options);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ModuleError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const source = mission.harden ? `${path} (${mission.harden})` : path;
  if (mission.harden) bytes = hardenModule(bytes, { ...HARDENINGS[mission.harden], source }).binary;
  return faultHooks ? prepareFaultModule(bytes, source, options).flightModule : FlightModule.fromBytes(bytes, source, options);
}

function initialMemoryBytes(module: FlightModule): number {
  return new Core(module, 'probe', new Float64Array(INPUT_CHANNELS.length)).memoryBytes().length;
}

export interface TelemetryRow {
  cycle: number;
  time: number;
  pointingErrorDeg: number;
  torque: [number, number, number];
  mode: number;
  released: boolean;
  detection: string;
  failover: boolean;
  missedDeadline: boolean;
  modelledMs: number;
  /** The hot-swap controller's state after the cycle (duplex, simplex, reintegrating, …: src/spare/controller.ts). */
  controllerState: ControllerState;
  /**
   * The module's debug outputs (docs/abi.md) by name: the last value released (held, as commands are, when
   * not written); NaN until one is. Empty for a module without debug outputs.
   */
  debug: Record<string, number>;
}

export interface FlightEvent {
  cycle: number;
  kind: 'upset' | 'detection' | 'failover' | 'missed-deadline' | 'undetected-divergence' | 'replica' | 'health';
  detail: string;
}

export interface RunResult {
  cycles: number;
  upsetsInjected: number;
  failovers: number;
  missedDeadlines: number;
  detections: Record<DetectionCause, number>;
  detectionsByMismatch: Record<'outputs' | 'state', number>;
  undetectedDivergences: number;
  undetectedDivergentCycles: number;
  commandDigest: string;
  /** Pointing error over the cycles after the settling time (samples 0: the mission ended before it). */
  pointingErrorsAfterSettle: { max: number; rms: number; samples: number };
  finalPointingErrorDeg: number;
  timing: { maxCycleMs: number; meanCycleMs: number; maxRecoveryMs: number };
  /** The replicated persistent store's account, when the run has one (src/spare/persistent-store.ts). */
  persistentStore: PersistentStoreSummary | null;
  /** Wall-clock figures of a real-time run (machine-dependent; not in any digest). */
  realtime?: RealTimeSummary;
  /** The commits sent to the spare over the cross-strap link. */
  checkpoint: CheckpointSummary;
  /** The failed processors brought back as spare over the link. */
  reintegration: ReintegrationSummary;
  /** Health management: processors declared failed, the spare's failures and its heartbeat (src/computer/health.ts). */
  health: HealthSummary;
  /** The module's debug outputs as released over the flight; absent when it has none. */
  debug?: DebugOutputSummary[];
  events: FlightEvent[];
}

/** One debug output over a flight: the values the flight computer released (what reached telemetry). */
export interface DebugOutputSummary {
  name: string;
  /** Cycles whose released outputs wrote it. */
  released: number;
  /** The last value released (null: none, or NaN), and the least and greatest (NaN never counts). */
  last: number | null;
  min: number | null;
  max: number | null;
}

export interface PersistentStoreSummary {
  replication: 'sync' | 'async';
  regionBytes: number;
  /**
   * Writes sent over the link (cycles whose region changed, a cold spare's resync after a failover,
   * repairs); a hot spare's failed processor gets the region inside its reintegration's rounds.
   */
  writes: number;
  bytes: number;
  bytesPerCycleMean: number;
  /** Time the commands waited for the replica (protocol C), per cycle on average and at most, ms. */
  linkWaitMsMean: number;
  linkWaitMsMax: number;
  bootsFromReplica: number;
  /** Cold boots that found the replica's checksum wrong and booted from the initial image. */
  bootsFromInitialImage: number;
  /** Scrubs and boots that found the replica's checksum wrong. */
  checksumFailures: number;
  /** Protocol A writes in flight when the primary was reset: lost. */
  lostWrites: number;
}

export interface CheckpointSummary {
  /** Commits sent over the link to the spare. */
  commits: number;
  /** Bytes per commit of the dirty ranges and globals, raw: what copying them would send. */
  bytesPerCommitMean: number;
  bytesPerCommitMax: number;
  /** Bytes per commit on the link as the stream encodes them (headers and checks included). */
  compressedBytesPerCommitMean: number;
  compressedBytesPerCommitMax: number;
  /** Raw bytes over bytes on the link (5: an 80% reduction). */
  compressionRatio: number;
  /**
   * Fraction of the mission the link was busy: all its traffic, one account — commits, reintegration
   * rounds and the persistent store's writes and repairs.
   */
  linkUtilization: number;
  /** Commits a flipped bit in transit corrupted, caught by a check and sent again. */
  resends: number;
  /** Periods whose commands and link traffic (commit, store writes) together did not fit in the period. */
  linkOverruns: number;
}

export interface ReintegrationSummary {
  count: number;
  mode: string;
  /** Rounds per reintegration (the whole image is one; stop-and-copy has one). */
  roundsMean: number;
  bytesTotal: number;
  /** Modelled time flown without a spare while processors were brought back, s. */
  simplexSecondsTotal: number;
  /** Periods the primary was stopped for a copy, commands held. */
  downtimeCycles: number;
}

export interface SimulateOptions {
  readonly upsets: readonly Fault[];
  /** Fly a fault-free oracle core beside the computer, to count undetected divergences. */
  readonly oracle: boolean;
  readonly onProgress?: (cycle: number, cycles: number) => void;
  readonly onTelemetry?: (row: TelemetryRow) => void;
  /** Sees the machine after each cycle (its report, the computer, the oracle): for tests that judge a run. */
  readonly onCycle?: (observation: CycleObservation) => void;
  /** Fly in real time: each cycle starts on its wall-clock boundary, at this many simulated seconds per second. */
  readonly realTimeFactor?: number;
}

export interface CycleObservation {
  readonly cycle: number;
  readonly report: CycleReport;
  readonly computer: FlightComputer;
  /** The fault-free oracle core, when the run has one. */
  readonly oracle: Core | null;
  /** Pointing error after the cycle, degrees. */
  readonly pointingErrorDeg: number;
}

/** Events kept in a summary; counts stay exact beyond it. */
const MAX_EVENTS = 1000;

/**
 * The flight computer flying a mission, one control cycle at a time, whoever senses and actuates: the
 * internal spacecraft (`simulate`, `lockstep fly`) or NASA 42 over its socket (`lockstep hil`). It boots
 * the computer, strikes each upset at its cycle, runs the cycle, holds the released commands (a channel
 * not written keeps its last value), flies the fault-free oracle beside it, and keeps the counts, events,
 * command digest and timing that a summary reports.
 */
export class Flight {
  readonly computer: FlightComputer;
  /** The commands applied to the actuators after the last cycle. */
  readonly applied = new Float64Array(OUTPUT_CHANNELS.length);
  /** The debug outputs' values after the last cycle, held as commands are (FlightModule.debugOutputs' order); NaN until released. */
  readonly debug: Float64Array;
  readonly result: RunResult;
  readonly oracle: Core | null;
  private readonly appliedBytes = new Uint8Array(this.applied.buffer);
  private readonly digest = createHash('sha256');
  private readonly oracleInputs = new Float64Array(INPUT_CHANNELS.length);
  private readonly globalNames: readonly string[];
  private readonly pacer: RealTimePacer | null;
  private nextUpset = 0;
  private lastUpset = -1;
  private divergentUpset = -1;
  private sumSquares = 0;
  private settledSamples = 0;
  private totalModelledSeconds = 0;
  private totalLinkWaitSeconds = 0;
  private maxLinkWaitSeconds = 0;
  private checksumFailuresSeen = 0;
  private bootsFromInitialImageSeen = 0;
  private flown = 0;
  private failedSeen = 0;
  private spareFailuresSeen = 0;
  private readonly debugAccounts: DebugOutputSummary[];

  constructor(
    readonly setup: FlightSetup,
    private readonly options: Pick<SimulateOptions, 'upsets' | 'oracle' | 'realTimeFactor'> & {
      /** Cycles the plant may ask for (42 asks one more than the mission's): what real-time figures are kept for. */
      readonly maxCycles?: number;
    },
  ) {
    const { cycles, computer: config, scenario } = setup;
    this.computer = new FlightComputer(setup.flightModule, config);
    this.debug = new Float64Array(setup.flightModule.debugOutputs.length).fill(Number.NaN);
    this.debugAccounts = setup.flightModule.debugOutputs.map((output) => ({ name: output.name, released: 0, last: null, min: null, max: null }));
    const boot = this.computer.boot();
    if (boot.verdict !== 'agreed') {
      throw new FlightSoftwareError(`${setup.flightModule.source}: init did not complete on the primary (${boot.verdict}${boot.results[0].trap ? `: ${boot.results[0].trap}` : ''})`);
    }
    this.oracle = options.oracle ? new Core(setup.flightModule, 'oracle', this.oracleInputs, config.memoryLimitBytes) : null;
    this.oracle?.boot(config.bootInstructions);
    this.globalNames = setup.flightModule.stateGlobals.map((global) => global.name);
    this.pacer = options.realTimeFactor !== undefined ? new RealTimePacer(scenario.controlPeriod, options.realTimeFactor, options.maxCycles ?? cycles) : null;
    this.result = {
      cycles: 0,
      upsetsInjected: 0,
      failovers: 0,
      missedDeadlines: 0,
      detections: countsByCause(),
      detectionsByMismatch: { outputs: 0, state: 0 },
      undetectedDivergences: 0,
      undetectedDivergentCycles: 0,
      commandDigest: '',
      pointingErrorsAfterSettle: { max: 0, rms: 0, samples: 0 },
      finalPointingErrorDeg: 0,
      timing: { maxCycleMs: 0, meanCycleMs: 0, maxRecoveryMs: 0 },
      persistentStore: null,
      checkpoint: {
        commits: 0,
        bytesPerCommitMean: 0,
        bytesPerCommitMax: 0,
        compressedBytesPerCommitMean: 0,
        compressedBytesPerCommitMax: 0,
        compressionRatio: 0,
        linkUtilization: 0,
        resends: 0,
        linkOverruns: 0,
      },
      reintegration: { count: 0, mode: config.reintegration, roundsMean: 0, bytesTotal: 0, simplexSecondsTotal: 0, downtimeCycles: 0 },
      health: { failedProcessors: [], degradedAtCycle: null, spareFailuresDetected: 0, heartbeatLatencyCyclesMax: 0 },
      events: [],
    };
  }

  private note(event: FlightEvent): void {
    if (this.result.events.length < MAX_EVENTS) this.result.events.push(event);
  }

  /** In real time: waits for the wall-clock boundary of `cycle` (call before its inputs are taken). */
  awaitBoundary(cycle: number): void {
    this.pacer?.awaitBoundary(cycle);
  }

  /** Flies one control cycle on `inputs`; `applied` then holds the commands for the actuators. */
  runCycle(cycle: number, inputs: Float64Array): CycleReport {
    const { computer, result, applied } = this;
    const upsets = this.options.upsets;
    while (this.nextUpset < upsets.length && upsets[this.nextUpset].cycle <= cycle) {
      const upset = upsets[this.nextUpset];
      if (upset.cycle === cycle) {
        try {
          computer.strike(upset);
        } catch (error) {
          if (error instanceof FaultError) throw new FaultError(`upset ${this.nextUpset} (cycle ${upset.cycle}: ${describeFault(upset, this.globalNames)}): ${error.message}`);
          throw error;
        }
        result.upsetsInjected++;
        this.lastUpset = this.nextUpset;
        this.note({ cycle, kind: 'upset', detail: describeFault(upset, this.globalNames) });
      }
      this.nextUpset++;
    }

    const report = computer.runCycle(cycle, inputs);
    recordReport(report, result, (event) => this.note(event));
    this.totalModelledSeconds += report.modelledSeconds;
    this.totalLinkWaitSeconds += report.linkWaitSeconds;
    this.maxLinkWaitSeconds = Math.max(this.maxLinkWaitSeconds, report.linkWaitSeconds);
    const store = computer.persistentStore;
    if (store && store.account.checksumFailures > this.checksumFailuresSeen) {
      const boot = store.account.bootsFromInitialImage > this.bootsFromInitialImageSeen;
      this.checksumFailuresSeen = store.account.checksumFailures;
      this.bootsFromInitialImageSeen = store.account.bootsFromInitialImage;
      this.note({
        cycle,
        kind: 'replica',
        detail: boot ? 'the replica\'s checksum failed: the cold spare booted from the initial image' : 'the replica\'s scrub found its checksum wrong: the region was resent whole',
      });
    }
    const health = computer.health.summary;
    if (health.spareFailuresDetected > this.spareFailuresSeen) {
      this.spareFailuresSeen = health.spareFailuresDetected;
      this.note({ cycle, kind: 'health', detail: 'the spare failed while standing by (its heartbeat, or its scrub)' });
    }
    while (health.failedProcessors.length > this.failedSeen) {
      this.note({ cycle, kind: 'health', detail: `${health.failedProcessors[this.failedSeen++]} declared failed: not reintegrated; the computer flies on in simplex` });
    }
    if (report.outputs) {
      const outputs = report.outputs;
      for (let channel = 0; channel < applied.length; channel++) {
        if (outputs.writtenMask & (1 << channel)) applied[channel] = outputs.values[channel];
      }
      if (this.debug.length > 0) this.holdDebug(outputs);
    }
    // The commands have left the flight computer; the oracle and the plant are the rig's, not its time.
    this.pacer?.commandsOut(cycle);
    const oracle = this.oracle;
    if (oracle) {
      this.oracleInputs.set(inputs);
      oracle.step(this.setup.computer.watchdogInstructions);
      if (report.stateReset || computer.controllerState === 'spare-booting') {
        // Recovery replaced the flight state (a cold boot, a rollback): from now on fault-free software
        // means software continuing from that state, so the oracle follows the processor in charge.
        copyState(computer.primary.cores[0], oracle);
      } else if (report.outputs && !report.outputs.sameCommandsAs(oracle.outputs)) {
        // Released commands that fault-free software would not have sent, whether or not something was
        // detected in this cycle: a detection that released wrong commands anyway is no recovery. Debug
        // outputs reach no actuator: a wrong one released is no divergence of the flight (as in campaigns).
        result.undetectedDivergentCycles++;
        if (this.lastUpset !== this.divergentUpset) {
          this.divergentUpset = this.lastUpset;
          result.undetectedDivergences++;
          const upset = upsets[this.lastUpset];
          this.note({ cycle, kind: 'undetected-divergence', detail: upset ? `after the upset of cycle ${upset.cycle}: ${describeFault(upset, this.globalNames)}` : 'with no upset' });
        }
      }
    }
    this.digest.update(this.appliedBytes);
    this.flown = cycle + 1;
    return report;
  }

  /** Keeps the debug values the cycle released, and their account. */
  private holdDebug(outputs: OutputCapture): void {
    const first = OUTPUT_CHANNELS.length;
    for (let i = 0; i < this.debug.length; i++) {
      if ((outputs.writtenMask & (1 << (first + i))) === 0) continue;
      const value = outputs.values[first + i];
      this.debug[i] = value;
      const account = this.debugAccounts[i];
      account.released++;
      // JSON has no NaN: a NaN released reads as no value.
      account.last = Number.isNaN(value) ? null : value;
      if (Number.isNaN(value)) continue;
      account.min = account.min === null ? value : Math.min(account.min, value);
      account.max = account.max === null ? value : Math.max(account.max, value);
    }
  }

  /** The debug values after the last cycle, by name (TelemetryRow.debug). */
  debugValues(): Record<string, number> {
    const values: Record<string, number> = {};
    for (let i = 0; i < this.debug.length; i++) values[this.debugAccounts[i].name] = this.debug[i];
    return values;
  }

  /** The pointing error after `cycle`, degrees, from whoever knows the attitude (the plant, or 42's truth). */
  notePointing(cycle: number, errorDeg: number): void {
    const { result, setup } = this;
    if (settledAfter(cycle, setup.scenario)) {
      result.pointingErrorsAfterSettle.max = Math.max(result.pointingErrorsAfterSettle.max, errorDeg);
      this.sumSquares += errorDeg * errorDeg;
      this.settledSamples++;
    }
    result.finalPointingErrorDeg = errorDeg;
  }

  /** The run's result over the cycles flown so far. */
  finish(): RunResult {
    const { result } = this;
    result.cycles = this.flown;
    result.pointingErrorsAfterSettle.rms = this.settledSamples > 0 ? Math.sqrt(this.sumSquares / this.settledSamples) : 0;
    result.pointingErrorsAfterSettle.samples = this.settledSamples;
    result.timing.meanCycleMs = this.flown > 0 ? (this.totalModelledSeconds / this.flown) * 1000 : 0;
    result.commandDigest = this.digest.copy().digest('hex');
    const store = this.computer.persistentStore;
    if (store) {
      const account = store.account;
      result.persistentStore = {
        replication: store.mode,
        regionBytes: store.length,
        writes: account.writes,
        bytes: account.bytes,
        bytesPerCycleMean: this.flown > 0 ? account.bytes / this.flown : 0,
        linkWaitMsMean: this.flown > 0 ? (this.totalLinkWaitSeconds / this.flown) * 1000 : 0,
        linkWaitMsMax: this.maxLinkWaitSeconds * 1000,
        bootsFromReplica: account.bootsFromReplica,
        bootsFromInitialImage: account.bootsFromInitialImage,
        checksumFailures: account.checksumFailures,
        lostWrites: account.lostWrites,
      };
    }
    if (this.pacer) result.realtime = this.pacer.summary();
    if (this.debugAccounts.length > 0) result.debug = this.debugAccounts.map((account) => ({ ...account }));
    const { traffic, reintegrations, link } = this.computer;
    const commits = traffic.commits;
    result.checkpoint = {
      commits,
      bytesPerCommitMean: commits > 0 ? traffic.rawBytes / commits : 0,
      bytesPerCommitMax: traffic.rawMax,
      compressedBytesPerCommitMean: commits > 0 ? traffic.streamBytes / commits : 0,
      compressedBytesPerCommitMax: traffic.streamMax,
      compressionRatio: traffic.streamBytes > 0 ? traffic.rawBytes / traffic.streamBytes : 0,
      linkUtilization: link.utilization(this.flown * this.setup.scenario.controlPeriod),
      resends: traffic.resends,
      linkOverruns: traffic.overruns,
    };
    result.reintegration = {
      count: reintegrations.count,
      mode: this.setup.computer.reintegration,
      roundsMean: reintegrations.count > 0 ? reintegrations.rounds / reintegrations.count : 0,
      bytesTotal: reintegrations.bytes,
      simplexSecondsTotal: reintegrations.simplexSeconds,
      downtimeCycles: reintegrations.downtimeCycles,
    };
    const health = this.computer.health.summary;
    result.health = { ...health, failedProcessors: [...health.failedProcessors] };
    return result;
  }
}

export function simulate(setup: FlightSetup, options: SimulateOptions): RunResult {
  const { scenario, cycles } = setup;
  const flight = new Flight(setup, options);
  const spacecraft = createSpacecraft(scenario, setup.mission.seed);
  const inputs = new Float64Array(INPUT_CHANNELS.length);
  const applied = flight.applied;
  for (let cycle = 0; cycle < cycles; cycle++) {
    const time = cycle * scenario.controlPeriod;
    flight.awaitBoundary(cycle);
    spacecraft.sense(time, inputs);
    const report = flight.runCycle(cycle, inputs);
    spacecraft.actuate(applied);
    spacecraft.advance();
    const error = spacecraft.pointingErrorDeg();
    flight.notePointing(cycle, error);
    options.onCycle?.({ cycle, report, computer: flight.computer, oracle: flight.oracle, pointingErrorDeg: error });
    options.onTelemetry?.({
      cycle,
      time,
      pointingErrorDeg: error,
      torque: [applied[OUT.torque_x], applied[OUT.torque_y], applied[OUT.torque_z]],
      mode: applied[OUT.mode],
      released: report.released,
      detection: report.detections.map((detection) => `${detection.processor}:${detection.cause}`).join(' '),
      failover: report.failover,
      missedDeadline: report.missedDeadline,
      modelledMs: report.modelledSeconds * 1000,
      controllerState: flight.computer.controllerState,
      debug: flight.debugValues(),
    });
    if (options.onProgress && (cycle & 255) === 0) options.onProgress(cycle, cycles);
  }
  return flight.finish();
}

function recordReport(report: CycleReport, result: RunResult, note: (event: FlightEvent) => void): void {
  for (const detection of report.detections) {
    result.detections[detection.cause]++;
    if (detection.mismatch) result.detectionsByMismatch[detection.mismatch]++;
    note({ cycle: report.cycle, kind: 'detection', detail: `${detection.processor}: ${describeDetection(detection)}` });
  }
  if (report.failover) {
    result.failovers++;
    note({ cycle: report.cycle, kind: 'failover', detail: `spare re-executed the cycle in ${(report.recoverySeconds * 1000).toFixed(3)} ms (detection + restore + re-execution)` });
  }
  if (report.missedDeadline) {
    result.missedDeadlines++;
    note({ cycle: report.cycle, kind: 'missed-deadline', detail: `commands not released within the period (${(report.modelledSeconds * 1000).toFixed(3)} ms)` });
  }
  result.timing.maxCycleMs = Math.max(result.timing.maxCycleMs, report.modelledSeconds * 1000);
  result.timing.maxRecoveryMs = Math.max(result.timing.maxRecoveryMs, report.recoverySeconds * 1000);
}
