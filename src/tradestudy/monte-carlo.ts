// The Monte Carlo over a mission's lifetime: each trial draws the per-upset outcome probabilities from their
// posterior (so the campaign's uncertainty is in the result), then flies the mission event by event —
// exponential times to the next upset, permanent fault or repair, never cycle by cycle over years — until the
// mission ends or is lost. Trials are drawn in blocks of their own seeded stream, so results do not depend on
// how the blocks are shared out; every trial has a bounded number of events.
import { SeededRandom } from '../random.js';
import { EFFECT_INDEX, type Configuration, type ModeResponse } from './configurations.js';
import { dirichletDraw } from './dirichlet.js';
import { coldBootCycles, coreFailureRatePerHour, HOURS_PER_YEAR, type StudyParameters } from './parameters.js';
import { TradeStudyInputError } from './errors.js';

/** Trials per random stream: the unit of work a thread would take. */
export const TRIALS_PER_BLOCK = 1000;
/** A trial with more events than this means rates the event-driven model is not meant for. */
export const MAX_EVENTS_PER_TRIAL = 1_000_000;

const OK = 0;
/** Failed and known: repairable. */
const FAILED = 1;
/** Declared failed by the health policy: never reintegrated. */
const REMOVED = 2;
/** A powered-off spare that failed unseen. */
const LATENT = 3;

const FATAL = EFFECT_INDEX.fatal;
const OUTVOTED = EFFECT_INDEX.outvoted;
const ROLLBACK = EFFECT_INDEX.rollback;
const FAILOVER = EFFECT_INDEX.failover;
const LATE_FAILOVER = EFFECT_INDEX['late-failover'];

export interface TrialResult {
  success: boolean;
  missedCycles: number;
  degradedHours: number;
  events: number;
}

/** A mode's upset sources with this trial's posterior draw of their effect probabilities. */
class DrawnMode {
  readonly rates: Float64Array;
  readonly total: number;
  private probabilities: Float64Array[] | null = null;
  constructor(readonly mode: ModeResponse) {
    this.rates = Float64Array.from(mode.sources, (source) => source.ratePerHour);
    this.total = this.rates.reduce((sum, rate) => sum + rate, 0);
  }
  reset(): void {
    this.probabilities = null;
  }
  /** The effect of one upset: its target by rate, its effect from the posterior draw (made the first time it is needed). */
  effect(random: SeededRandom): number {
    this.probabilities ??= this.mode.sources.map((source) => dirichletDraw(source.alphas, random));
    let pick = random.uniform() * this.total;
    let source = 0;
    while (source < this.rates.length - 1 && pick >= this.rates[source]) pick -= this.rates[source++];
    const p = this.probabilities[source];
    let u = random.uniform();
    for (let effect = 0; effect < p.length - 1; effect++) {
      if (u < p[effect]) return effect;
      u -= p[effect];
    }
    return p.length - 1;
  }
}

/** One configuration's simulator: its state is reset at each trial. */
export class MissionSimulator {
  private readonly full: DrawnMode;
  private readonly degraded: DrawnMode | null;
  private readonly status: Int8Array;
  private readonly detections: Float64Array[];
  private readonly detectionCount: Int32Array;
  private readonly unitRate: number;
  private readonly repairRate: number;
  private readonly horizon: number;
  private readonly bootCycles: number;
  private active = 0;
  private lost = false;
  private missed = 0;

  constructor(readonly configuration: Configuration, readonly parameters: StudyParameters) {
    this.full = new DrawnMode(configuration.full);
    this.degraded = configuration.degraded ? new DrawnMode(configuration.degraded) : null;
    this.status = new Int8Array(configuration.units);
    const threshold = Math.max(parameters.policy.failThreshold, 1);
    this.detections = Array.from({ length: configuration.units }, () => new Float64Array(threshold));
    this.detectionCount = new Int32Array(configuration.units);
    this.unitRate = configuration.coresPerUnit * coreFailureRatePerHour(parameters);
    this.repairRate = parameters.policy.repairHours === null ? 0 : 1 / parameters.policy.repairHours;
    this.horizon = parameters.missionYears * HOURS_PER_YEAR;
    this.bootCycles = coldBootCycles(parameters);
  }

  private up(): number {
    let count = 0;
    for (let i = 0; i < this.status.length; i++) if (this.status[i] === OK) count++;
    return count;
  }

  private spareIndex(): number {
    return 1 - this.active;
  }

  /** The mode upsets act in now: full, or degraded once a unit is lost (a spare, or a voting core). */
  private mode(): DrawnMode {
    switch (this.configuration.structure) {
      case 'series':
        return this.full;
      case 'spared-pair': {
        const spare = this.status[this.spareIndex()];
        return spare === OK || spare === LATENT ? this.full : this.degraded!;
      }
      case 'voting':
        return this.up() >= 3 ? this.full : this.degraded!;
    }
  }

  private isDegraded(): boolean {
    if (this.configuration.structure === 'series') return false;
    for (let i = 0; i < this.status.length; i++) if (this.status[i] !== OK) return true;
    return false;
  }

  /** The permanent failure rate of unit i now: a cold spare's is the dormant fraction. */
  private failureRate(i: number): number {
    if (this.status[i] !== OK) return 0;
    const dormant = this.configuration.spare === 'cold' && i === this.spareIndex();
    return dormant ? this.unitRate * this.parameters.dormantFactor : this.unitRate;
  }

  /** Unit i stops for good (`status` FAILED, or REMOVED by the policy): the computer reconfigures or is lost. */
  private unitLost(i: number, status: number): void {
    const { structure, spare } = this.configuration;
    if (structure === 'series') {
      this.lost = true;
      return;
    }
    if (structure === 'voting') {
      this.status[i] = status;
      if (this.up() < 2) this.lost = true;
      return;
    }
    const spareIndex = this.spareIndex();
    if (i === spareIndex) {
      // A powered spare's fault is seen by the heartbeat; a powered-off one's only when it is booted.
      this.status[i] = spare === 'cold' && status === FAILED ? LATENT : status;
      return;
    }
    this.status[i] = status;
    if (this.status[spareIndex] !== OK) {
      this.lost = true; // no spare, or a cold one found dead at its boot
      return;
    }
    if (spare === 'cold') this.missed += this.bootCycles;
    this.active = spareIndex;
  }

  /** A failover the comparator asked for after an upset: the spare takes over, or a dead cold spare is found. */
  private failover(late: boolean): void {
    const spareIndex = this.spareIndex();
    if (this.configuration.spare === 'cold') {
      this.missed += this.bootCycles;
      if (this.status[spareIndex] === LATENT) {
        this.status[spareIndex] = FAILED; // found dead at its boot: the primary rolls back and flies on alone
        return;
      }
    } else if (late) this.missed += 1;
    this.active = spareIndex;
  }

  /** Counts a detection against unit i; the policy removes a unit over its threshold when the computer can fly on without it. */
  private detected(i: number, time: number): void {
    const threshold = this.parameters.policy.failThreshold;
    if (threshold === 0) return;
    const times = this.detections[i];
    times[this.detectionCount[i] % threshold] = time;
    this.detectionCount[i]++;
    if (this.detectionCount[i] < threshold) return;
    // The oldest of the last `threshold` detections: the ring's next slot.
    const oldest = times[this.detectionCount[i] % threshold];
    if (time - oldest > this.parameters.policy.windowHours) return;
    const { structure } = this.configuration;
    const spare = this.status[this.spareIndex()];
    // Never the last unit that can fly: a lone processor, the active one with no spare left, a pair of voters.
    const canGo =
      structure === 'voting' ? this.up() - 1 >= 2 : structure === 'spared-pair' && (i !== this.active || (spare !== FAILED && spare !== REMOVED));
    if (!canGo) return;
    if (structure === 'spared-pair' && i === this.active && spare === LATENT) {
      this.failover(false); // the policy asks for the spare, which turns out dead
      return;
    }
    this.clearDetections(i);
    this.unitLost(i, REMOVED);
  }

  private clearDetections(i: number): void {
    this.detectionCount[i] = 0;
  }

  /** The unit an upset strikes: the active processor, or one of the voting cores. */
  private struck(random: SeededRandom): number {
    const { structure } = this.configuration;
    if (structure === 'series') return 0;
    if (structure === 'spared-pair') return this.active;
    const voters = Math.min(this.up(), 3);
    let pick = random.int(0, voters - 1);
    for (let i = 0; i < this.status.length; i++) if (this.status[i] === OK && pick-- === 0) return i;
    throw new Error('no voting core to strike');
  }

  private upset(mode: DrawnMode, random: SeededRandom, time: number): void {
    const effect = mode.effect(random);
    if (effect === FATAL) {
      this.lost = true;
      return;
    }
    if (effect !== OUTVOTED && effect !== ROLLBACK && effect !== FAILOVER && effect !== LATE_FAILOVER) return;
    const unit = this.struck(random);
    if (effect === ROLLBACK) this.missed += 1;
    else if (effect === FAILOVER || effect === LATE_FAILOVER) this.failover(effect === LATE_FAILOVER);
    this.detected(unit, time);
  }

  /**
   * The event at `pick` along the rates laid end to end: an upset, then each unit's permanent fault and
   * repair. Rounding can leave `pick` just past the last rate: the last event with a rate is taken then.
   */
  private event(pick: number, mode: DrawnMode, random: SeededRandom, time: number): void {
    if (pick < mode.total) {
      this.upset(mode, random, time);
      return;
    }
    pick -= mode.total;
    // The last event with a rate, as [unit, is a repair]; −1: the upset.
    let lastUnit = -1;
    let lastIsRepair = false;
    for (let i = 0; i < this.status.length; i++) {
      const failure = this.failureRate(i);
      if (failure > 0) {
        if (pick < failure) return this.unitLost(i, FAILED);
        pick -= failure;
        lastUnit = i;
        lastIsRepair = false;
      }
      const repair = this.status[i] === FAILED ? this.repairRate : 0;
      if (repair > 0) {
        if (pick < repair) return this.repaired(i);
        pick -= repair;
        lastUnit = i;
        lastIsRepair = true;
      }
    }
    if (lastUnit < 0) this.upset(mode, random, time);
    else if (lastIsRepair) this.repaired(lastUnit);
    else this.unitLost(lastUnit, FAILED);
  }

  private repaired(i: number): void {
    this.status[i] = OK;
    this.clearDetections(i);
  }

  /** One mission, from its random stream. */
  trial(random: SeededRandom): TrialResult {
    this.status.fill(OK);
    this.detectionCount.fill(0);
    this.active = 0;
    this.lost = false;
    this.missed = 0;
    this.full.reset();
    this.degraded?.reset();
    let time = 0;
    let degradedHours = 0;
    const units = this.status.length;
    for (let events = 0; events < MAX_EVENTS_PER_TRIAL; events++) {
      const mode = this.mode();
      let total = mode.total;
      for (let i = 0; i < units; i++) total += this.failureRate(i) + (this.status[i] === FAILED ? this.repairRate : 0);
      const step = total > 0 ? -Math.log(1 - random.uniform()) / total : Infinity;
      const end = Math.min(time + step, this.horizon);
      if (this.isDegraded()) degradedHours += end - time;
      if (end >= this.horizon) return { success: true, missedCycles: this.missed, degradedHours, events };
      time = end;
      this.event(random.uniform() * total, mode, random, time);
      if (this.lost) return { success: false, missedCycles: this.missed, degradedHours, events: events + 1 };
    }
    throw new TradeStudyInputError(
      `${this.configuration.name}: a trial had more than ${MAX_EVENTS_PER_TRIAL} events (upsets, faults, repairs): the rates are too high for the event-driven model`,
    );
  }
}

/** Running sums of a figure over trials, for its mean and a normal 95% interval: plain data, to cross threads. */
export interface Moments {
  n: number;
  sum: number;
  sumSquares: number;
}

function addTo(moments: Moments, value: number): void {
  moments.n++;
  moments.sum += value;
  moments.sumSquares += value * value;
}

export interface BlockTotals {
  trials: number;
  successes: number;
  /** Missed cycles per year of the mission, and the fraction of it spent degraded, per trial. */
  missedPerYear: Moments;
  degradedFraction: Moments;
  maxEvents: number;
}

export function emptyTotals(): BlockTotals {
  return { trials: 0, successes: 0, missedPerYear: { n: 0, sum: 0, sumSquares: 0 }, degradedFraction: { n: 0, sum: 0, sumSquares: 0 }, maxEvents: 0 };
}

/** Adds a block's totals; blocks are added in block order, so that the sums round the same whatever ran them. */
export function addBlock(totals: BlockTotals, part: BlockTotals): void {
  totals.trials += part.trials;
  totals.successes += part.successes;
  for (const key of ['missedPerYear', 'degradedFraction'] as const) {
    totals[key].n += part[key].n;
    totals[key].sum += part[key].sum;
    totals[key].sumSquares += part[key].sumSquares;
  }
  totals.maxEvents = Math.max(totals.maxEvents, part.maxEvents);
}

/** Trials of block `block` (`count` of them), from the block's own stream. */
export function runBlock(simulator: MissionSimulator, seed: number, block: number, count: number): BlockTotals {
  const random = SeededRandom.wide(seed, `tradestudy/${simulator.configuration.name}/block ${block}`);
  const totals = emptyTotals();
  const years = simulator.parameters.missionYears;
  for (let i = 0; i < count; i++) {
    const result = simulator.trial(random);
    totals.trials++;
    if (result.success) totals.successes++;
    addTo(totals.missedPerYear, result.missedCycles / years);
    addTo(totals.degradedFraction, result.degradedHours / (years * HOURS_PER_YEAR));
    totals.maxEvents = Math.max(totals.maxEvents, result.events);
  }
  return totals;
}

/** The blocks `trials` are drawn in: [block, count] each. */
export function blocksOf(trials: number): Array<[block: number, count: number]> {
  const blocks: Array<[number, number]> = [];
  for (let block = 0; block * TRIALS_PER_BLOCK < trials; block++) blocks.push([block, Math.min(TRIALS_PER_BLOCK, trials - block * TRIALS_PER_BLOCK)]);
  return blocks;
}

/** All trials of one configuration in this thread, block by block in order. */
export function runTrials(configuration: Configuration, parameters: StudyParameters, seed: number, trials: number): BlockTotals {
  const simulator = new MissionSimulator(configuration, parameters);
  const totals = emptyTotals();
  for (const [block, count] of blocksOf(trials)) addBlock(totals, runBlock(simulator, seed, block, count));
  return totals;
}
