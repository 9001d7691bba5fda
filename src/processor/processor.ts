// A processor: two cores — two instances of one compiled module — in lock-step behind a comparator.
// Both cores read one latched input frame, run the same cycle under the same instruction budget, and
// the comparator decides whether the processor's outputs may be released. Sequential execution of the
// two instances stands for simultaneous execution: the modelled time of a cycle is that of the slower
// core, and a trap is detected when the trapping core stops. A processor built without lock-step has
// one core and no comparator: what a campaign's `single` configuration is, flown. A voting group is three
// cores behind a voter instead (TMR, src/processor/voter.ts): each core is a processor of its own (P1, P2,
// P3) in the hardware, the group is what the flight computer flies as its primary; losing a core for good
// leaves a lock-step pair.
import { INPUT_CHANNELS } from '../abi/channels.js';
import { Bus } from '../core/bus.js';
import { Core, type CycleResult, type OutputCapture } from '../core/core.js';
import type { FlightModule } from '../core/flight-module.js';
import { ALL_BLOCKS } from '../core/state.js';
import { compareCores, decisionInstructions, judgeLoneCore, type MismatchKind, type Verdict } from './comparator.js';
import { voteOfThree } from './voter.js';

export interface ProcessorCycle {
  verdict: Verdict;
  mismatch: MismatchKind | null;
  /** The cores' results (a lone core's twice). */
  results: [CycleResult, CycleResult];
  /** Modelled instructions from the start of the cycle until the comparator decided. */
  decisionInstructions: number;
  /** At the end of an epoch: memory blocks the cores wrote since the last commit or restore (0 within). */
  written: number;
  /** At the end of an epoch: the blocks the comparator checked, `written` plus the scrub blocks. */
  blocks: number;
  /** A voting group: the cores the others outvoted this cycle (bit i: core i; 0: none). */
  outvoted: number;
  /** Of `outvoted`, those outvoted on their outputs (or stopped): resynchronised whole, not block by block. */
  outvotedWhole: number;
  /** The state vote's repairs (src/processor/voter.ts), valid until the next cycle. */
  repairs: readonly number[];
  byteRepairs: readonly number[];
}

export class Processor {
  /** The input frame the cores read until a cycle brings its own (boot reads this one: all zero). */
  readonly inputs = new Float64Array(INPUT_CHANNELS.length);
  /** Two cores in lock-step, one, or three voting. */
  get cores(): readonly Core[] {
    return this.members;
  }

  private readonly members: Core[];
  /**
   * The bus the processor's cores read their inputs from: one frame, latched once per cycle for all of
   * them, where each core latching its own copy cost a copy per core and cycle.
   */
  private readonly inputBus = new Bus(INPUT_CHANNELS.length);
  /** The core whose outputs are released: core A, or a core of the voting majority. */
  private releasing = 0;

  /**
   * @param coreNames a voting group's cores, each named as the processor it is (P1, P2, P3); otherwise
   *   the cores are `${name}.A` (and `.B` in lock-step).
   */
  constructor(
    readonly flightModule: FlightModule,
    readonly name: string,
    memoryLimitBytes = Number.POSITIVE_INFINITY,
    readonly lockstep = true,
    coreNames?: readonly string[],
  ) {
    const names = coreNames ?? (lockstep ? [`${name}.A`, `${name}.B`] : [`${name}.A`]);
    this.members = names.map((coreName) => new Core(flightModule, coreName, this.inputs, memoryLimitBytes, this.inputBus));
    const a = this.members[0];
    this.last = { verdict: 'agreed', mismatch: null, results: [a.result, this.members[this.members.length - 1].result], decisionInstructions: 0, written: 0, blocks: 0, outvoted: 0, outvotedWhole: 0, repairs: [], byteRepairs: [] };
  }

  /** Whether three cores vote (TMR) rather than two comparing. */
  get voting(): boolean {
    return this.members.length === 3;
  }

  /** Outputs to release when the verdict is 'agreed' (core A's, equal to core B's; a voting majority's). */
  get outputs(): OutputCapture {
    return this.members[this.releasing].outputs;
  }

  /** The core whose outputs the last cycle released: core A, or one of the voting majority. */
  get majority(): Core {
    return this.members[this.releasing];
  }

  /** A voting group's core at `index` is replaced (by the spare's core) or, with none given, removed: two cores left are a lock-step pair. */
  replaceCore(index: number, by?: Core): void {
    if (!this.voting) throw new Error(`processor ${this.name}: only a voting group's cores are replaced`);
    if (by) {
      by.inputs = this.inputs;
      this.members[index] = by;
    } else this.members.splice(index, 1);
    this.releasing = 0;
  }

  boot(budget: number, compareState = true): ProcessorCycle {
    if (this.voting) {
      const cores = this.members;
      for (const core of cores) bootCore(core, budget);
      // Boot must agree whole: a voting group starts from one state.
      const first = this.decide(cores[0].result, cores[1].result, compareState, ALL_BLOCKS, ALL_BLOCKS);
      if (first.verdict !== 'agreed') return first;
      return this.decide(cores[0].result, cores[2].result, compareState, ALL_BLOCKS, ALL_BLOCKS, cores[2]);
    }
    const a = this.cores[0];
    if (!this.lockstep) return this.decide(bootCore(a, budget), a.result, false, ALL_BLOCKS, ALL_BLOCKS);
    return this.decide(bootCore(a, budget), bootCore(this.cores[1], budget), compareState, ALL_BLOCKS, ALL_BLOCKS);
  }

  /**
   * Runs one cycle on the cores. Outputs are compared every cycle; the state only at the end of an
   * epoch (`endOfEpoch`), and only when `compareState`.
   * @param scrubBlocks blocks to compare (and commit) although no core wrote them: the rotating scrub
   *   that finds latent upsets in memory the flight software only reads.
   */
  runCycle(inputs: Float64Array, budget: number, compareState: boolean, endOfEpoch = true, scrubBlocks = 0): ProcessorCycle {
    if (this.voting) return this.runVote(inputs, budget, compareState && endOfEpoch, endOfEpoch, scrubBlocks);
    const a = this.cores[0];
    // The cores read the one frame (which must not change during the cycle), latched once for all of them.
    this.latch(inputs);
    a.inputs = inputs;
    const resultA = a.step(budget);
    if (!this.lockstep) {
      const written = endOfEpoch ? a.dirtyBlocks() : 0;
      return this.decide(resultA, resultA, false, written, written | scrubBlocks);
    }
    const b = this.cores[1];
    b.inputs = inputs;
    const resultB = b.step(budget);
    const written = endOfEpoch ? a.dirtyBlocks() | b.dirtyBlocks() : 0;
    return this.decide(resultA, resultB, compareState && endOfEpoch, written, written | scrubBlocks);
  }

  /**
   * The verdict of the last cycle, updated in place (the per-cycle path allocates nothing): read it before
   * the processor runs again. `results` are the cores' own result records.
   */
  readonly last: ProcessorCycle;

  private readonly voteResults: CycleResult[] = [];

  private runVote(inputs: Float64Array, budget: number, compareState: boolean, endOfEpoch: boolean, scrubBlocks: number): ProcessorCycle {
    const cores = this.members;
    let written = 0;
    this.latch(inputs);
    for (const core of cores) {
      core.inputs = inputs;
      core.step(budget);
      if (endOfEpoch) written |= core.dirtyBlocks();
    }
    const results = this.voteResults;
    for (let i = 0; i < 3; i++) results[i] = cores[i].result;
    const blocks = written | scrubBlocks;
    const vote = voteOfThree(cores, results, compareState, blocks);
    const last = this.last;
    last.verdict = vote.verdict;
    last.mismatch = vote.mismatch;
    // A stopped core's result first, for the detection's trap kind.
    let stopped = 0;
    while (stopped < 2 && results[stopped].status === 'ok') stopped++;
    last.results[0] = results[results[stopped].status === 'ok' ? 0 : stopped];
    last.results[1] = results[vote.majority >= 0 ? vote.majority : 1];
    last.decisionInstructions = vote.decisionInstructions;
    last.written = written;
    last.blocks = blocks;
    last.outvoted = vote.outvotedWhole | vote.outvotedState;
    last.outvotedWhole = vote.outvotedWhole;
    last.repairs = vote.repairs;
    last.byteRepairs = vote.byteRepairs;
    this.releasing = Math.max(0, vote.majority);
    return last;
  }

  /**
   * Latches the cycle's input frame into the processor's bus, for all the cores that read it, and into the
   * bus of any core that reads another's (a spare's core that took a voter's place reads its own processor's).
   */
  private latch(inputs: Float64Array): void {
    const bus = this.inputBus;
    bus.latch(inputs);
    const cores = this.members;
    for (let i = 0; i < cores.length; i++) if (cores[i].inputBus !== bus) cores[i].inputBus.latch(inputs);
  }

  private decide(resultA: CycleResult, resultB: CycleResult, compareState: boolean, written: number, blocks: number, b = this.cores[1]): ProcessorCycle {
    const comparison = this.lockstep ? compareCores(this.cores[0], b, resultA, resultB, compareState, blocks) : judgeLoneCore(resultA);
    const last = this.last;
    last.verdict = comparison.verdict;
    last.mismatch = comparison.mismatch;
    last.decisionInstructions = decisionInstructions(comparison.verdict, resultA, resultB);
    last.written = written;
    last.blocks = blocks;
    last.outvoted = 0;
    last.results[0] = resultA;
    last.results[1] = resultB;
    return last;
  }
}

/** Boots a core on the frame it holds, latched first: a processor's cores do not latch their own inputs. */
function bootCore(core: Core, budget: number): CycleResult {
  core.latchInputs();
  return core.boot(budget);
}
