// What one experiment is — a single fault at one place and one cycle (src/faults/) — and how it is drawn.
// Experiment i of a campaign is drawn from its own random stream (campaign seed, "experiment:i"), so any
// subset of experiments, run by any number of workers or shards in any order, is the same experiments:
// that is what makes a sharded campaign merge into exactly the unsharded one.
import type { DetectionCause } from '../computer/flight-computer.js';
import type { AbortReport, TrapKind } from '../core/traps.js';
import { drawFault } from '../faults/draw.js';
import { FAULT_TARGETS, type Fault, type FaultKind, type FaultTarget } from '../faults/fault.js';
import type { CoreRef, FaultDomain } from '../faults/fault-space.js';
import { CAMPAIGN_CONFIGS, type BaseConfig, type BuildVariant, type CampaignConfigName } from '../hardenings.js';
import { SeededRandom } from '../random.js';

export const TARGETS = FAULT_TARGETS;
export type Target = FaultTarget;

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

export type { DetectionCause } from '../computer/flight-computer.js';

export interface Outcome {
  readonly outcome: OutcomeName;
  /** How the fault was caught (detected, recovered, failover-failed). */
  readonly cause?: DetectionCause;
  /** What differed, for a mismatch. */
  readonly mismatch?: 'outputs' | 'state';
  readonly trap?: TrapKind;
  /** What the software's abort said (cause 'abort'). */
  readonly abort?: AbortReport;
  /** Cycles from the injection to the detection (or to the masking, or to the wrong commands). */
  readonly latency?: number;
}

/** Which cores a campaign strikes: A and B of the primary, and the spare (its core A). */
export type FaultyCore = 'A' | 'B' | 'spare';
export const CORES: readonly FaultyCore[] = ['A', 'B', 'spare'];

/** The cores a campaign's `cores` option names. */
export function coreRefsOf(cores: readonly FaultyCore[]): CoreRef[] {
  return cores.map((core) => (core === 'spare' ? { processor: 'spare', core: 'A' } : { processor: 'primary', core }));
}

export interface Experiment extends Fault {
  readonly index: number;
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
  readonly variants?: Partial<Record<Exclude<BuildVariant, 'plain'>, { location: number; bit: number; width: number; site?: number }>>;
  /**
   * Result and branch faults: the fault-hook site the flip fired at (an index into the result file's site
   * table, which names its function and source line), absent when nothing was struck (a cycle that
   * executes no such instruction, a core that does not run). Read from the hooked core after the strike,
   * so it costs the campaign nothing; the summary attributes experiments to functions by it.
   */
  readonly site?: number;
}

/** Which configurations a fault can strike: the checkpoint, the replica, the link to the spare and the spare exist only with a spare. */
export function configsFor<C extends string>(fault: Pick<Fault, 'target' | 'processor'>, configs: readonly C[]): C[] {
  return fault.target === 'checkpoint' || fault.target === 'replica' || fault.target === 'link' || fault.processor === 'spare' ? configs.filter((config) => config === 'pair+spare') : [...configs];
}

/**
 * Experiment `index`: its target by turns (so every target gets its share), its cycle uniform over the
 * mission, and the fault placed uniformly over the bits of the target's domains in that cycle. With
 * `kinds` (a campaign's `--kinds`), its kind by turns too, over the rounds of targets: a lasting kind
 * strikes a core of the primary (stuck: its memory or globals; dead, babbling: the whole core), and the
 * other experiments stay flips. A plan of flips only draws exactly what it drew before kinds existed.
 */
export function drawExperiment(
  seed: number,
  index: number,
  targets: readonly Target[],
  domains: Readonly<Partial<Record<Target, readonly FaultDomain[]>>>,
  cycles: number,
  width: number,
  kinds: readonly FaultKind[] = ['flip'],
): Experiment {
  const random = SeededRandom.wide(seed, `experiment:${index}`);
  const target = targets[index % targets.length];
  const cycle = random.int(0, cycles - 1);
  const targetDomains = domains[target];
  if (!targetDomains || targetDomains.length === 0) throw new Error(`the module offers the ${target} target nothing to strike`);
  const fault = drawFault(random, targetDomains, cycle, width);
  const kind = kinds[Math.floor(index / targets.length) % kinds.length];
  if (kind === 'flip' || fault.processor !== 'primary' || (target !== 'memory' && target !== 'global' && kind === 'stuck') || target === 'result' || target === 'branch') return Object.assign({ index }, fault); // not a spread: V8's is slow here (runner.ts, recordOf)
  return { index, ...fault, kind, ...(kind === 'stuck' ? { stuckAt: random.int(0, 1) as 0 | 1 } : {}) };
}
