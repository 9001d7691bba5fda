// Everything a process (the main thread or a worker) needs to run experiments of one campaign, built
// from the campaign's spec alone: the mission, the flight software (checked against the spec's hash, so
// every worker and every shard runs the same bytes), the golden run and the experiment runner.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FlightModule } from '../core/flight-module.js';
import { BITS_OF_TYPE } from '../core/global-slots.js';
import { parseMission, type Mission } from '../mission/config.js';
import { prepareFlight, REFERENCE_FSW, type FlightSetup } from '../mission/fly.js';
import { GOLDEN_PASSES, ModuleError } from '../passes/index.js';
import { prepareFaultModule } from '../core/fault-core.js';
import type { FaultSite } from '../passes/fault-hooks.js';
import { drawExperiment, type ConfigName, type Experiment, type ExperimentRecord, type FaultSpace, type FaultyCore, type Target } from './experiment.js';
import { recordGoldenRun, type GoldenRun } from './golden.js';
import { ExperimentRunner } from './runner.js';

/** What identifies a campaign: two runs with equal specs run the same experiments with the same results. */
export interface CampaignSpec {
  readonly mission: Mission;
  /** The flight software, resolved (mission.fsw or the reference build). */
  readonly fsw: string;
  readonly fswSha256: string;
  readonly seed: number;
  readonly targets: readonly Target[];
  readonly configs: readonly ConfigName[];
  readonly horizon: number;
  readonly width: number;
  readonly snapshotInterval: number;
  /** Which cores memory, global, result and branch faults strike. */
  readonly cores: readonly FaultyCore[];
}

export const SPEC_VERSION = 1;

export function fingerprintOf(spec: CampaignSpec): string {
  const { fsw: _path, ...identity } = spec; // the same bytes elsewhere are the same campaign
  return createHash('sha256').update(JSON.stringify({ version: SPEC_VERSION, ...identity })).digest('hex');
}

export function hashFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ModuleError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return createHash('sha256').update(bytes).digest('hex');
}

export class CampaignContext {
  readonly setup: FlightSetup;
  readonly golden: GoldenRun;
  readonly runner: ExperimentRunner;
  readonly space: FaultSpace;
  /** The fault-hook sites (what a result or branch experiment struck), when the campaign has such targets. */
  readonly faultSites: readonly FaultSite[];

  constructor(readonly spec: CampaignSpec) {
    if (hashFile(spec.fsw) !== spec.fswSha256) throw new ModuleError(spec.fsw, 'differs from the flight software the campaign was started with (its SHA-256 changed)');
    const mission = parseMission(spec.mission, 'campaign');
    const options = { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages };
    const bytes = readFileSync(spec.fsw);
    const module = FlightModule.fromBytes(bytes, spec.fsw, options);
    this.setup = prepareFlight({ ...mission, upsets: { ...mission.upsets, count: 0, file: undefined, ratePerBitPerDay: undefined } }, module);
    // Instruction-level faults need the fault-hook build: its golden run counts the sites of each cycle.
    const instructionFaults = spec.targets.includes('result') || spec.targets.includes('branch');
    const goldenModule = instructionFaults
      ? prepareFaultModule(bytes, spec.fsw, { ...options, passes: [...GOLDEN_PASSES, 'fault-hooks'] }).flightModule
      : FlightModule.fromBytes(bytes, spec.fsw, { ...options, passes: GOLDEN_PASSES });
    this.golden = recordGoldenRun(this.setup, goldenModule, spec.snapshotInterval);
    const hooked = instructionFaults ? prepareFaultModule(bytes, spec.fsw, options) : null;
    this.faultSites = hooked?.report.sites ?? [];
    this.runner = new ExperimentRunner(this.setup, module, this.golden, { horizon: spec.horizon, configs: spec.configs, hookedModule: hooked?.flightModule });
    this.space = {
      cycles: this.golden.cycles,
      memoryBytes: this.golden.snapshots[0].memory.length,
      globalBits: module.stateGlobals.map((global) => BITS_OF_TYPE[global.type]),
      resultCounts: this.golden.resultCounts ?? undefined,
      branchCounts: this.golden.branchCounts ?? undefined,
    };
  }

  experiment(index: number): Experiment {
    return drawExperiment(this.spec.seed, index, this.spec.targets, this.space, this.spec.width, this.spec.cores);
  }

  run(index: number): ExperimentRecord {
    return this.runner.run(this.experiment(index));
  }
}

/** The flight software a mission names, resolved to a path. */
export function fswOf(mission: Mission): string {
  return mission.fsw ?? REFERENCE_FSW;
}
