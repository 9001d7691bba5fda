// Real time: a rig keeps wall-clock time, and the flight computer must show whether it keeps up. The pacer
// starts each control cycle on its wall-clock period boundary (the control period divided by a speed-up
// factor), notes when the cycle actually started (jitter) and when its commands left (latency from the
// boundary), and counts the cycles whose commands left after their deadline, the next boundary
// (overruns). Waiting sleeps through Atomics.wait and spins only for the last fraction of a millisecond,
// so a boundary is met to a few microseconds without burning a core for the whole period. What it
// measures depends on the machine: it is reported beside the modelled timing, never in the digests.

/** How much of the wait is spun rather than slept: the sleep's own wake-up latency. */
const SPIN_NS = 300_000n;

export interface RealTimeSummary {
  /** Simulated seconds per wall-clock second (1: real time). */
  readonly factor: number;
  /** Wall-clock period of a cycle, ms. */
  readonly periodMs: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  /** 99th percentile of how late a cycle started after its boundary, ms. */
  readonly jitterP99Ms: number;
  /** Cycles whose commands left after their wall-clock deadline. */
  readonly overruns: number;
  readonly cycles: number;
}

/** The value below which a fraction `q` of the sorted samples lie (nearest rank). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export class RealTimePacer {
  private readonly periodNs: bigint;
  private start = 0n;
  private readonly latencies: Float64Array;
  private readonly jitters: Float64Array;
  private count = 0;
  private overrunCount = 0;
  private cycleStart = 0n;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    controlPeriodSeconds: number,
    readonly factor: number,
    cycles: number,
    private readonly now: () => bigint = () => process.hrtime.bigint(),
  ) {
    if (!(factor > 0 && Number.isFinite(factor))) throw new RangeError(`real-time factor must be a positive number, not ${factor}`);
    this.periodNs = BigInt(Math.max(1, Math.round((controlPeriodSeconds / factor) * 1e9)));
    this.latencies = new Float64Array(cycles);
    this.jitters = new Float64Array(cycles);
  }

  /** Waits for cycle `cycle`'s boundary (the first call sets the clock's origin) and notes how late it starts. */
  awaitBoundary(cycle: number): void {
    if (this.count === 0 && cycle === 0) this.start = this.now();
    const boundary = this.start + BigInt(cycle) * this.periodNs;
    // Bounded: each pass sleeps or spins towards a boundary that does not move.
    for (;;) {
      const left = boundary - this.now();
      if (left <= 0n) break;
      if (left > SPIN_NS) Atomics.wait(this.sleeper, 0, 0, Number((left - SPIN_NS) / 1_000_000n) || 0);
    }
    this.cycleStart = boundary;
    this.jitters[cycle] = Number(this.now() - boundary) / 1e6;
  }

  /** The cycle's commands have left: latency from its boundary, and an overrun if past the next one. */
  commandsOut(cycle: number): void {
    const latencyNs = this.now() - this.cycleStart;
    this.latencies[cycle] = Number(latencyNs) / 1e6;
    if (latencyNs > this.periodNs) this.overrunCount++;
    this.count = Math.max(this.count, cycle + 1);
  }

  summary(): RealTimeSummary {
    const latencies = this.latencies.slice(0, this.count).sort();
    const jitters = this.jitters.slice(0, this.count).sort();
    return {
      factor: this.factor,
      periodMs: Number(this.periodNs) / 1e6,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
      latencyMaxMs: latencies.length > 0 ? latencies[latencies.length - 1] : 0,
      jitterP99Ms: percentile(jitters, 0.99),
      overruns: this.overrunCount,
      cycles: this.count,
    };
  }
}
