// A processor: two cores — two instances of one compiled module — in lock-step behind a comparator.
// Both cores read one latched input frame, run the same cycle under the same instruction budget, and
// the comparator decides whether the processor's outputs may be released. Sequential execution of the
// two instances stands for simultaneous execution: the modelled time of a cycle is that of the slower
// core, and a trap is detected when the trapping core stops. A processor built without lock-step has
// one core and no comparator: what a campaign's `single` configuration is, flown.
import { INPUT_CHANNELS } from '../abi/channels.js';
import { Core, type CycleResult, type OutputCapture } from '../core/core.js';
import type { FlightModule } from '../core/flight-module.js';
import { ALL_BLOCKS } from '../core/state.js';
import { compareCores, decisionInstructions, judgeLoneCore, type MismatchKind, type Verdict } from './comparator.js';

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
}

export class Processor {
  /** The input frame the cores read until a cycle brings its own (boot reads this one: all zero). */
  readonly inputs = new Float64Array(INPUT_CHANNELS.length);
  /** Two cores in lock-step, or one. */
  readonly cores: readonly Core[];

  constructor(
    readonly flightModule: FlightModule,
    readonly name: string,
    memoryLimitBytes = Number.POSITIVE_INFINITY,
    readonly lockstep = true,
  ) {
    const a = new Core(flightModule, `${name}.A`, this.inputs, memoryLimitBytes);
    this.cores = lockstep ? [a, new Core(flightModule, `${name}.B`, this.inputs, memoryLimitBytes)] : [a];
    this.last = { verdict: 'agreed', mismatch: null, results: [a.result, this.cores[this.cores.length - 1].result], decisionInstructions: 0, written: 0, blocks: 0 };
  }

  /** Outputs to release when the verdict is 'agreed' (core A's, equal to core B's). */
  get outputs(): OutputCapture {
    return this.cores[0].outputs;
  }

  boot(budget: number, compareState = true): ProcessorCycle {
    const a = this.cores[0];
    if (!this.lockstep) return this.decide(a.boot(budget), a.result, false, ALL_BLOCKS, ALL_BLOCKS);
    return this.decide(a.boot(budget), this.cores[1].boot(budget), compareState, ALL_BLOCKS, ALL_BLOCKS);
  }

  /**
   * Runs one cycle on the cores. Outputs are compared every cycle; the state only at the end of an
   * epoch (`endOfEpoch`), and only when `compareState`.
   * @param scrubBlocks blocks to compare (and commit) although no core wrote them: the rotating scrub
   *   that finds latent upsets in memory the flight software only reads.
   */
  runCycle(inputs: Float64Array, budget: number, compareState: boolean, endOfEpoch = true, scrubBlocks = 0): ProcessorCycle {
    const a = this.cores[0];
    // The cores read the one latched frame (which must not change during the cycle): no copy needed.
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
  private readonly last: ProcessorCycle;

  private decide(resultA: CycleResult, resultB: CycleResult, compareState: boolean, written: number, blocks: number): ProcessorCycle {
    const comparison = this.lockstep ? compareCores(this.cores[0], this.cores[1], resultA, resultB, compareState, blocks) : judgeLoneCore(resultA);
    const last = this.last;
    last.verdict = comparison.verdict;
    last.mismatch = comparison.mismatch;
    last.decisionInstructions = decisionInstructions(comparison.verdict, resultA, resultB);
    last.written = written;
    last.blocks = blocks;
    return last;
  }
}
