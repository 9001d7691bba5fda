// Everything a process (the main thread or a worker) needs to run experiments of one campaign, built
// from the campaign's spec alone: the mission, the flight software (checked against the spec's hash, so
// every worker and every shard runs the same bytes), the golden run and the experiment runner.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FlightModule } from '../core/flight-module.js';
import { parseMission, type Mission } from '../mission/config.js';
import { linkBytesPerCycle, prepareFlight, REFERENCE_FSW, type FlightSetup } from '../mission/fly.js';
import { GOLDEN_PASSES, ModuleError } from '../passes/index.js';
import { prepareFaultModule } from '../core/fault-core.js';
import type { FaultSite } from '../passes/fault-hooks.js';
import { faultDomains, type ByteRange, type FaultDomain } from '../faults/fault-space.js';
import type { FaultKind } from '../faults/fault.js';
import { replicaBytes } from '../spare/persistent-store.js';
import { memoryRanges, RANGES } from '../core/state.js';
import { CONFIG_PARTS, coreRefsOf, drawExperiment, type BaseConfig, type BuildVariant, type ConfigName, type Experiment, type ExperimentRecord, type FaultyCore, type Target } from './experiment.js';
import { hardenModule } from '../harden.js';
import { siteSourcesOf, type SiteSource } from '../source/site-sources.js';
import type { SourceLine } from '../source/source-lines.js';
import { BASE_CONFIGS, HARDENINGS, HARDENING_NAMES } from '../hardenings.js';
import { recordGoldenRun, type GoldenRun } from './golden.js';
import { ExperimentRunner } from './runner.js';
import { snapshotBudget, type GoldenShape } from './memory-plan.js';

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
  /** Memory faults strike the blocks the golden run reads or writes (used), or all of memory. */
  readonly memoryRange: MemoryRange;
  /** What a fault in a core does, by turns (absent: flips only, and the spec of a campaign before kinds existed). */
  readonly kinds?: readonly FaultKind[];
}

export const MEMORY_RANGES = ['used', 'all'] as const;
export type MemoryRange = (typeof MEMORY_RANGES)[number];

export const SPEC_VERSION = 2;

/** What the fingerprint covers, for messages about a file of another campaign. */
export const CAMPAIGN_IDENTITY = 'flight software, mission, seed, targets, configurations, cores, horizon, width, kinds, memory range or snapshot interval';

export function fingerprintOf(spec: CampaignSpec): string {
  const { fsw: _path, ...identity } = spec; // the same bytes elsewhere are the same campaign
  return createHash('sha256').update(JSON.stringify({ version: SPEC_VERSION, ...identity })).digest('hex');
}

/**
 * The mission as a campaign's spec holds it: without its flight software's path, and without the fields
 * a campaign does not fly (the random upsets' kinds; redundancy and health, which the runner's
 * configurations set), so that a campaign's spec and fingerprint stay what they were before those existed.
 */
export function specMission(mission: Mission): Mission {
  const { fsw: _fsw, redundancy: _redundancy, health: _health, ...rest } = mission;
  const { kinds: _kinds, ...upsets } = mission.upsets;
  return { ...rest, upsets } as Mission;
}

/** How a process keeps a campaign: nothing here changes a record. */
export interface ContextOptions {
  /** Bytes each build's golden snapshots may take (default: planned from the golden-run budget, memory-plan.ts). */
  readonly snapshotBudgetBytes?: number;
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

/**
 * One build of the flight software a campaign flies — as given, or hardened — with its golden run, its
 * experiment runner and its fault space. Configurations sharing a build share one run of each experiment.
 */
export class BuildUnderTest {
  readonly setup: FlightSetup;
  readonly golden: GoldenRun;
  readonly runner: ExperimentRunner;
  /** Where each target's faults can strike in this build. */
  readonly domains: Partial<Record<Target, FaultDomain[]>>;
  /** The bytes of memory the campaign's memory faults strike (all of memory, or the used blocks). */
  readonly memoryRanges: readonly ByteRange[];
  /** The fault-hook sites (what a result or branch experiment struck), when the campaign has such targets. */
  readonly faultSites: readonly FaultSite[];
  /** The base configurations this build is judged under, and the campaign configuration each stands for. */
  readonly configs: ReadonlyArray<{ base: BaseConfig; config: ConfigName }>;

  /** The module as the campaign's file holds it, debug sections and all: where source lines come from. */
  private readonly compiledBytes: Uint8Array;
  private sources: { sites: readonly SiteSource[]; lines: 'dwarf' | 'source-map' | null; functions: ReadonlyMap<string, SourceLine> } | null = null;

  constructor(private readonly spec: CampaignSpec, mission: Mission, readonly variant: BuildVariant, compiledBytes: Uint8Array, builds: number, contextOptions: ContextOptions) {
    const options = { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages };
    const source = variant === 'plain' ? spec.fsw : `${spec.fsw} (${variant})`;
    this.compiledBytes = compiledBytes;
    const bytes = variant === 'plain' ? compiledBytes : hardenModule(compiledBytes, { ...HARDENINGS[variant], source }).binary;
    const module = FlightModule.fromBytes(bytes, source, options);
    this.setup = prepareFlight({ ...mission, upsets: { ...mission.upsets, count: 0, file: undefined, ratePerBitPerDay: undefined } }, module);
    // Instruction-level faults need the fault-hook build: its golden run counts the sites of each cycle.
    const instructionFaults = spec.targets.includes('result') || spec.targets.includes('branch');
    const goldenModule = instructionFaults
      ? prepareFaultModule(bytes, source, { ...options, passes: [...GOLDEN_PASSES, 'fault-hooks'] }).flightModule
      : FlightModule.fromBytes(bytes, source, { ...options, passes: GOLDEN_PASSES });
    const budget = contextOptions.snapshotBudgetBytes ?? snapshotBudget(goldenShapeOf(spec, this.setup.cycles, builds, module.stateGlobals.length));
    this.golden = recordGoldenRun(this.setup, goldenModule, spec.snapshotInterval, budget);
    const hooked = instructionFaults ? prepareFaultModule(bytes, source, options) : null;
    this.faultSites = hooked?.report.sites ?? [];
    this.configs = spec.configs.filter((config) => CONFIG_PARTS[config].variant === variant).map((config) => ({ base: CONFIG_PARTS[config].base, config }));
    this.runner = new ExperimentRunner(this.setup, module, this.golden, {
      horizon: spec.horizon,
      configs: this.configs.map((entry) => entry.base),
      hookedModule: hooked?.flightModule,
    });
    const memoryBytes = this.golden.memoryBytes;
    this.memoryRanges = spec.memoryRange === 'all' ? [[0, memoryBytes]] : usedMemory(this.runner, this.golden.everWritten | this.golden.everRead, memoryBytes);
    const shape = {
      memoryBytes,
      memoryRanges: this.memoryRanges,
      globalTypes: module.stateGlobals.map((global) => global.type),
      replicaBytes: module.persistent && this.runner.replicated ? replicaBytes(module.persistent) : 0,
      resultSites: this.golden.resultCounts ?? undefined,
      branchSites: this.golden.branchCounts ?? undefined,
      linkBytesPerCycle: linkBytesPerCycle(this.setup.computer),
    };
    const cores = coreRefsOf(spec.cores);
    this.domains = Object.fromEntries(spec.targets.map((target) => [target, faultDomains(shape, [target], cores)]));
  }

  get cycles(): number {
    return this.golden.cycles;
  }

  /**
   * The function, and in the plain build the source line, of each fault-hook site, by id: computed when
   * first asked (the header and replay ask; workers never do). A hardened build's sites are its own
   * code, which no line table of the compiled module describes: they are named by function only.
   */
  get siteSources(): readonly SiteSource[] {
    return this.sourcesOfSites().sites;
  }

  /** Where the plain build's lines come from (DWARF in the module, or its source map), or null. */
  get lineSource(): 'dwarf' | 'source-map' | null {
    return this.sourcesOfSites().lines;
  }

  /** Where each function of the plain build begins in its source, by name (empty without lines). */
  get functionLines(): ReadonlyMap<string, SourceLine> {
    return this.sourcesOfSites().functions;
  }

  private sourcesOfSites(): { sites: readonly SiteSource[]; lines: 'dwarf' | 'source-map' | null; functions: ReadonlyMap<string, SourceLine> } {
    if (this.sources === null) {
      this.sources =
        this.variant === 'plain' && this.faultSites.length > 0
          ? siteSourcesOf(this.compiledBytes, this.spec.fsw, this.faultSites)
          : { sites: this.faultSites.map((site) => ({ function: site.function })), lines: null, functions: new Map() };
    }
    return this.sources;
  }
}

export class CampaignContext {
  /** One build per build variant the configurations need; the plain one first when present. */
  readonly builds: readonly BuildUnderTest[];

  constructor(
    readonly spec: CampaignSpec,
    options: ContextOptions = {},
  ) {
    if (hashFile(spec.fsw) !== spec.fswSha256) throw new ModuleError(spec.fsw, 'differs from the flight software the campaign was started with (its SHA-256 changed)');
    const mission = parseMission(spec.mission, 'campaign');
    const bytes = readFileSync(spec.fsw);
    const variants = [...new Set(spec.configs.map((config) => CONFIG_PARTS[config].variant))].sort((a, b) => VARIANT_ORDER.indexOf(a) - VARIANT_ORDER.indexOf(b));
    this.builds = variants.map((variant) => new BuildUnderTest(spec, mission, variant, bytes, variants.length, options));
  }

  /** The first build's: the plain one when the campaign has plain configurations. */
  get setup(): FlightSetup {
    return this.builds[0].setup;
  }

  get golden(): GoldenRun {
    return this.builds[0].golden;
  }

  get runner(): ExperimentRunner {
    return this.builds[0].runner;
  }

  get domains(): Partial<Record<Target, FaultDomain[]>> {
    return this.builds[0].domains;
  }

  get faultSites(): readonly FaultSite[] {
    return this.builds[0].faultSites;
  }

  /** Experiment `index` as it lands in `build` (the first build by default). */
  experiment(index: number, build: BuildUnderTest = this.builds[0]): Experiment {
    return drawExperiment(this.spec.seed, index, this.spec.targets, build.domains, build.cycles, this.spec.width, this.spec.kinds);
  }

  /** Runs experiment `index` in every build and gathers the outcomes of every configuration. */
  run(index: number): ExperimentRecord {
    // The usual campaign has one build whose configurations are its base ones: its record is the result.
    if (this.builds.length === 1 && this.builds[0].variant === 'plain') return this.builds[0].runner.run(this.experiment(index)) as ExperimentRecord;
    let record: ExperimentRecord | null = null;
    const outcomes: ExperimentRecord['outcomes'] = {};
    const variants: NonNullable<ExperimentRecord['variants']> = {};
    let simulated = 0;
    for (const build of this.builds) {
      const experiment = this.experiment(index, build);
      const run = build.runner.run(experiment);
      simulated += run.simulated;
      for (const { base, config } of build.configs) {
        const outcome = run.outcomes[base];
        if (outcome) outcomes[config] = outcome;
      }
      const site = run.site !== undefined ? { site: run.site } : {};
      if (record === null) record = { ...experiment, outcomes, simulated: 0, ...site };
      else if (build.variant !== 'plain') variants[build.variant] = { location: experiment.location, bit: experiment.bit, width: experiment.width, ...site };
    }
    const { site, ...first } = record!;
    return { ...first, outcomes, simulated, ...(site !== undefined ? { site } : {}), ...(Object.keys(variants).length > 0 ? { variants } : {}) };
  }
}

/** What the golden runs of a campaign hold, for the memory plan (memory-plan.ts). */
export function goldenShapeOf(spec: CampaignSpec, cycles: number, builds: number, globals: number): GoldenShape {
  return { cycles, snapshotInterval: spec.snapshotInterval, builds, hooked: spec.targets.includes('result') || spec.targets.includes('branch'), globals };
}

/** The order a campaign builds its variants in: the first one's draw is the record's own fields. */
export const VARIANT_ORDER: readonly BuildVariant[] = ['plain', ...HARDENING_NAMES];

/**
 * The byte ranges of the blocks in `blocks` (as comparisons and commits extend them), and memory beyond
 * the tracked range, which has no bits of its own and counts as used.
 */
function usedMemory(runner: ExperimentRunner, blocks: number, memoryBytes: number): ByteRange[] {
  const end = memoryRanges(runner.twinCore, blocks, memoryBytes);
  const ranges: ByteRange[] = [];
  for (let i = 0; i < end; i += 2) ranges.push([RANGES[i], RANGES[i + 1]]);
  return ranges;
}

/**
 * A campaign spec for a mission with the command line's defaults (the base configurations, memory and
 * checkpoint targets, horizon 100, one bit, a snapshot every 10 cycles, the primary's cores, used
 * memory), for benchmarks and tests.
 */
export function campaignSpecOf(mission: Mission, overrides: Partial<CampaignSpec> = {}): CampaignSpec {
  const fsw = fswOf(mission);
  return {
    mission: specMission(mission),
    fsw,
    fswSha256: hashFile(fsw),
    seed: mission.seed,
    targets: ['memory', 'checkpoint'],
    configs: [...BASE_CONFIGS],
    horizon: 100,
    width: 1,
    snapshotInterval: 10,
    cores: ['A', 'B'],
    memoryRange: 'used',
    ...overrides,
  };
}

/** The flight software a mission names, resolved to a path. */
export function fswOf(mission: Mission): string {
  return mission.fsw ?? REFERENCE_FSW;
}
