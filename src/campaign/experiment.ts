// What one experiment is — a single fault at one place and one cycle — and how it is drawn. Experiment
// i of a campaign is drawn from its own random stream (campaign seed, "experiment:i"), so any subset of
// experiments, run by any number of workers or shards in any order, is the same experiments: that is
// what makes a sharded campaign merge into exactly the unsharded one.
import { SeededRandom } from '../random.js';
import type { TrapKind } from '../core/traps.js';
import { CAMPAIGN_CONFIGS, type BaseConfig, type BuildVariant, type CampaignConfigName } from '../hardenings.js';

export const TARGETS = ['memory', 'global', 'result', 'branch', 'checkpoint'] as const;
export type Target = (typeof TARGETS)[number];

export const CONFIGS = CAMPAIGN_CONFIGS.map((config) => config.name);
export type ConfigName = CampaignConfigName;

/** The redundancy around the core, and how the cores' module is built: src/hardenings.ts, which names every configuration. */
export type { BaseConfig, BuildVariant };

/** Each configuration is a redundancy around a build of the flight software. */
export const CONFIG_PARTS = Object.fromEntries(CAMPAIGN_CONFIGS.map(({ name, variant, base }) => [name, { variant, base }])) as Readonly<
  Record<ConfigName, { readonly variant: BuildVariant; readonly base: BaseConfig }>
>;

export const OUTCOMES = ['masked', 'detected', 'recovered', 'failover-failed', 'sdc', 'pointing-violation', 'latent'] as const;
export type OutcomeName = (typeof OUTCOMES)[number];

export type DetectionCause = 'mismatch' | 'trap' | 'watchdog' | 'check';

export interface Outcome {
  readonly outcome: OutcomeName;
  /** How the fault was caught (detected, recovered, failover-failed). */
  readonly cause?: DetectionCause;
  /** What differed, for a mismatch. */
  readonly mismatch?: 'outputs' | 'state';
  readonly trap?: TrapKind;
  /** Cycles from the injection to the detection (or to the masking, or to the wrong commands). */
  readonly latency?: number;
}

/** A core of the primary, or one of the spare (which a failover reloads from the checkpoint before it runs). */
export type FaultyCore = 'A' | 'B' | 'spare';
export const CORES: readonly FaultyCore[] = ['A', 'B', 'spare'];

export interface Experiment {
  readonly index: number;
  readonly target: Target;
  /** The core of the primary struck (memory, global, result, branch). */
  readonly core?: FaultyCore;
  /** The cycle at whose start (memory, global, checkpoint) or during which (result, branch) the fault strikes. */
  readonly cycle: number;
  /** memory/checkpoint: byte address (checkpoint globals follow memory); global: index; result/branch: n-th executed. */
  readonly position: number;
  /** First flipped bit (within the byte, the global, or the result). */
  readonly bit: number;
  readonly width: number;
}

export interface ExperimentRecord extends Experiment {
  /** The outcome under each configuration the target applies to. */
  readonly outcomes: Partial<Record<ConfigName, Outcome>>;
  /** Core cycles simulated for this experiment (its cost). */
  readonly simulated: number;
  /**
   * Where the fault struck in each hardened build, when the campaign has hardened configurations: the same
   * draw (target, cycle, core) lands at another address or instruction in a build with another layout.
   */
  readonly variants?: Partial<Record<Exclude<BuildVariant, 'plain'>, { position: number; bit: number; width: number }>>;
}

/** What the sampler needs to know of the module and the golden run. */
export interface FaultSpace {
  readonly cycles: number;
  readonly memoryBytes: number;
  /** Bit width of each state global, in order. */
  readonly globalBits: readonly number[];
  /** Value-producing instructions and branch conditions executed in each cycle (result and branch targets). */
  readonly resultCounts?: Int32Array;
  readonly branchCounts?: Int32Array;
}

/** Which configurations a fault can strike: the checkpoint and the spare exist only with a spare. */
export function configsFor<C extends string>(target: Target, configs: readonly C[], core?: FaultyCore): C[] {
  return target === 'checkpoint' || core === 'spare' ? configs.filter((config) => config === 'pair+spare') : [...configs];
}

export function drawExperiment(seed: number, index: number, targets: readonly Target[], space: FaultSpace, width: number, cores: readonly FaultyCore[] = ['A', 'B']): Experiment {
  const random = new SeededRandom(seed, `experiment:${index}`);
  const target = targets[index % targets.length];
  const cycle = random.int(0, space.cycles - 1);
  const core: FaultyCore = cores[random.int(0, cores.length - 1)];
  switch (target) {
    case 'memory':
    case 'checkpoint': {
      const globalBits = target === 'checkpoint' ? space.globalBits.reduce((sum, bits) => sum + bits, 0) : 0;
      const bits = space.memoryBytes * 8 + globalBits;
      const start = random.int(0, bits - width);
      return { index, target, core: target === 'memory' ? core : undefined, cycle, position: start >> 3, bit: start & 7, width };
    }
    case 'global': {
      if (space.globalBits.length === 0) throw new Error('the module has no state globals to strike (leave "global" out of the targets)');
      const total = space.globalBits.reduce((sum, bits) => sum + bits, 0);
      let offset = random.int(0, total - 1);
      let global = 0;
      while (offset >= space.globalBits[global]) offset -= space.globalBits[global++];
      const bitsHere = Math.min(width, space.globalBits[global]);
      return { index, target, core, cycle, position: global, bit: Math.min(offset, space.globalBits[global] - bitsHere), width: bitsHere };
    }
    case 'result':
    case 'branch': {
      const counts = target === 'result' ? space.resultCounts : space.branchCounts;
      if (!counts) throw new Error(`the ${target} target needs the fault-hook build`);
      const executed = counts[cycle];
      return { index, target, core, cycle, position: executed > 0 ? random.int(0, executed - 1) : -1, bit: random.int(0, 63), width };
    }
  }
}
