// Side-by-side timing, the way every lockstep benchmark measures: configurations replay the same recorded
// frames, interleaved round by round (the order rotated, so that none always runs on the coldest cache),
// after one warm-up round that lets the engine tier up; each figure is the median over rounds of
// nanoseconds per cycle. Ratios of figures taken this way survive a noisy, shared machine.

export type Runner = (frame: Float64Array, cycle: number) => void;

export interface RoundOptions {
  readonly rounds: number;
  readonly cyclesPerRound: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Times each runner over rounds of `cyclesPerRound` cycles. `frames` must hold (rounds + 1) ×
 * cyclesPerRound frames: the warm-up round's, then each timed round's, so that cycles run in order.
 */
export function timeInterleaved<K extends string>(runners: Readonly<Record<K, Runner>>, frames: readonly Float64Array[], options: RoundOptions): Record<K, number> {
  const order = Object.keys(runners) as K[];
  const samples = Object.fromEntries(order.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = -1; round < options.rounds; round++) {
    const first = (round + 1) * options.cyclesPerRound;
    for (let k = 0; k < order.length; k++) {
      const name = order[(k + Math.max(round, 0)) % order.length];
      const run = runners[name];
      const start = process.hrtime.bigint();
      for (let cycle = first; cycle < first + options.cyclesPerRound; cycle++) run(frames[cycle], cycle);
      const elapsed = Number(process.hrtime.bigint() - start);
      if (round >= 0) samples[name].push(elapsed / options.cyclesPerRound);
    }
  }
  return Object.fromEntries(order.map((name) => [name, median(samples[name])])) as Record<K, number>;
}
