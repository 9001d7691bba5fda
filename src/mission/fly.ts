// `lockstep fly`: closes the loop between the flight computer and the spacecraft for a whole mission,
// injecting the mission's upsets, and proves what the flight computer promised: the released command
// stream is compared bit for bit with a fault-free run of the same seed (which this module flies too),
// and with an oracle — a fault-free core fed the same inputs — cycle by cycle, so that any upset that
// changed released commands without being detected is counted.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { INPUT_CHANNELS, OUT, OUTPUT_CHANNELS } from '../abi/channels.js';
import { describeDetection, FlightComputer, type CycleReport, type FlightComputerConfig } from '../computer/flight-computer.js';
import { Core, MAX_INSTRUCTION_BUDGET } from '../core/core.js';
import { prepareFaultModule } from '../core/fault-core.js';
import { FlightModule } from '../core/flight-module.js';
import { copyState } from '../core/state.js';
import { describeFault } from '../faults/describe.js';
import { randomFaults } from '../faults/draw.js';
import { FaultError, isInstructionFault, type Fault } from '../faults/fault.js';
import { ALL_CORES, faultDomains } from '../faults/fault-space.js';
import { readUpsetFile } from '../faults/upset-file.js';
import { createSpacecraft } from '../plant/spacecraft.js';
import { settledAfter, type Scenario } from '../plant/scenario.js';
import { missionTiming, scenarioOf, type Mission } from './config.js';
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
  const scripted = mission.upsets.file ? readUpsetFile(mission.upsets.file, cycles) : null;
  // Instruction faults strike through the fault hooks: such a mission flies the fault-hook build.
  const module = flightModule ?? loadFlightSoftware(mission, { faultHooks: scripted?.some(isInstructionFault) ?? false });
  const computer: FlightComputerConfig = {
    spare: mission.spare,
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
  };
  const upsets =
    scripted ??
    randomFaults(
      faultDomains({ memoryBytes: initialMemoryBytes(module), globalTypes: module.stateGlobals.map((global) => global.type) }, mission.upsets.targets, coresOf(computer)),
      {
        seed: mission.seed,
        cycles,
        controlPeriod: scenario.controlPeriod,
        count: mission.upsets.count,
        ratePerBitPerDay: mission.upsets.ratePerBitPerDay,
        width: mission.upsets.width,
      },
    );
  return { mission, scenario, flightModule: module, cycles, computer, upsets };
}

/** Every core a random upset can strike: both of each processor, or the one of each without lock-step. */
function coresOf(computer: FlightComputerConfig) {
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
}

export interface FlightEvent {
  cycle: number;
  kind: 'upset' | 'detection' | 'failover' | 'missed-deadline' | 'undetected-divergence';
  detail: string;
}

export interface RunResult {
  cycles: number;
  upsetsInjected: number;
  failovers: number;
  missedDeadlines: number;
  detections: Record<'mismatch' | 'trap' | 'watchdog' | 'check', number>;
  detectionsByMismatch: Record<'outputs' | 'state', number>;
  undetectedDivergences: number;
  undetectedDivergentCycles: number;
  commandDigest: string;
  /** Pointing error over the cycles after the settling time (samples 0: the mission ended before it). */
  pointingErrorsAfterSettle: { max: number; rms: number; samples: number };
  finalPointingErrorDeg: number;
  timing: { maxCycleMs: number; meanCycleMs: number; maxRecoveryMs: number };
  events: FlightEvent[];
}

export interface SimulateOptions {
  readonly upsets: readonly Fault[];
  /** Fly a fault-free oracle core beside the computer, to count undetected divergences. */
  readonly oracle: boolean;
  readonly onProgress?: (cycle: number, cycles: number) => void;
  readonly onTelemetry?: (row: TelemetryRow) => void;
  /** Sees the machine after each cycle (its report, the computer, the oracle): for tests that judge a run. */
  readonly onCycle?: (observation: CycleObservation) => void;
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

export function simulate(setup: FlightSetup, options: SimulateOptions): RunResult {
  const { scenario, cycles, computer: config } = setup;
  const computer = new FlightComputer(setup.flightModule, config);
  const boot = computer.boot();
  if (boot.verdict !== 'agreed') {
    throw new FlightSoftwareError(`${setup.flightModule.source}: init did not complete on the primary (${boot.verdict}${boot.results[0].trap ? `: ${boot.results[0].trap}` : ''})`);
  }
  const spacecraft = createSpacecraft(scenario, setup.mission.seed);
  const inputs = new Float64Array(INPUT_CHANNELS.length);
  const applied = new Float64Array(OUTPUT_CHANNELS.length);
  const appliedBytes = new Uint8Array(applied.buffer);
  const digest = createHash('sha256');
  const oracleInputs = new Float64Array(INPUT_CHANNELS.length);
  const oracle = options.oracle ? new Core(setup.flightModule, 'oracle', oracleInputs, config.memoryLimitBytes) : null;
  oracle?.boot(config.bootInstructions);
  const globalNames = setup.flightModule.stateGlobals.map((global) => global.name);

  const result: RunResult = {
    cycles,
    upsetsInjected: 0,
    failovers: 0,
    missedDeadlines: 0,
    detections: { mismatch: 0, trap: 0, watchdog: 0, check: 0 },
    detectionsByMismatch: { outputs: 0, state: 0 },
    undetectedDivergences: 0,
    undetectedDivergentCycles: 0,
    commandDigest: '',
    pointingErrorsAfterSettle: { max: 0, rms: 0, samples: 0 },
    finalPointingErrorDeg: 0,
    timing: { maxCycleMs: 0, meanCycleMs: 0, maxRecoveryMs: 0 },
    events: [],
  };
  const note = (event: FlightEvent) => {
    if (result.events.length < MAX_EVENTS) result.events.push(event);
  };
  const upsets = options.upsets;
  let nextUpset = 0;
  let lastUpset = -1;
  let divergentUpset = -1;
  let sumSquares = 0;
  let settledSamples = 0;
  let totalModelledSeconds = 0;

  for (let cycle = 0; cycle < cycles; cycle++) {
    const time = cycle * scenario.controlPeriod;
    spacecraft.sense(time, inputs);
    while (nextUpset < upsets.length && upsets[nextUpset].cycle <= cycle) {
      const upset = upsets[nextUpset];
      if (upset.cycle === cycle) {
        try {
          computer.strike(upset);
        } catch (error) {
          if (error instanceof FaultError) throw new FaultError(`upset ${nextUpset} (cycle ${upset.cycle}: ${describeFault(upset, globalNames)}): ${error.message}`);
          throw error;
        }
        result.upsetsInjected++;
        lastUpset = nextUpset;
        note({ cycle, kind: 'upset', detail: describeFault(upset, globalNames) });
      }
      nextUpset++;
    }

    const report = computer.runCycle(cycle, inputs);
    recordReport(report, result, note);
    totalModelledSeconds += report.modelledSeconds;

    if (report.outputs) {
      const outputs = report.outputs;
      for (let channel = 0; channel < applied.length; channel++) {
        if (outputs.writtenMask & (1 << channel)) applied[channel] = outputs.values[channel];
      }
    }
    if (oracle) {
      oracleInputs.set(inputs);
      oracle.step(config.watchdogInstructions);
      if (report.stateReset || computer.controllerState === 'spare-booting') {
        // Recovery replaced the flight state (a cold boot, a rollback): from now on fault-free software
        // means software continuing from that state, so the oracle follows the processor in charge.
        copyState(computer.primary.cores[0], oracle);
      } else if (report.outputs && !report.outputs.sameAs(oracle.outputs)) {
        // Released commands that fault-free software would not have sent, whether or not something was
        // detected in this cycle: a detection that released wrong commands anyway is no recovery.
        result.undetectedDivergentCycles++;
        if (lastUpset !== divergentUpset) {
          divergentUpset = lastUpset;
          result.undetectedDivergences++;
          note({ cycle, kind: 'undetected-divergence', detail: lastUpset >= 0 ? `after the upset of cycle ${upsets[lastUpset].cycle}: ${describeFault(upsets[lastUpset], globalNames)}` : 'with no upset' });
        }
      }
    }
    digest.update(appliedBytes);
    spacecraft.actuate(applied);
    spacecraft.advance();

    const error = spacecraft.pointingErrorDeg();
    if (settledAfter(cycle, scenario)) {
      result.pointingErrorsAfterSettle.max = Math.max(result.pointingErrorsAfterSettle.max, error);
      sumSquares += error * error;
      settledSamples++;
    }
    result.finalPointingErrorDeg = error;
    options.onCycle?.({ cycle, report, computer, oracle, pointingErrorDeg: error });
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
    });
    if (options.onProgress && (cycle & 255) === 0) options.onProgress(cycle, cycles);
  }
  result.pointingErrorsAfterSettle.rms = settledSamples > 0 ? Math.sqrt(sumSquares / settledSamples) : 0;
  result.pointingErrorsAfterSettle.samples = settledSamples;
  result.timing.meanCycleMs = cycles > 0 ? (totalModelledSeconds / cycles) * 1000 : 0;
  result.commandDigest = digest.digest('hex');
  return result;
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
