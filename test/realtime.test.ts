// Real time: the pacer's arithmetic on a clock the test drives (boundaries, latency from the boundary,
// overruns past the next one, percentiles), and a 20-s real-time flight with failovers that keeps up
// (no overrun) and releases exactly the commands it releases flown as fast as it can.
import { describe, expect, it } from 'vitest';
import { parseMission } from '../src/mission/config.js';
import { prepareFlight, simulate } from '../src/mission/fly.js';
import { percentile, RealTimePacer } from '../src/mission/realtime.js';

describe('the pacer', () => {
  it('measures latency from each boundary, counts commands past the next boundary as overruns, and waits for boundaries', () => {
    let now = 1_000_000_000n;
    const pacer = new RealTimePacer(0.1, 2, 4, () => now); // 50 ms wall-clock period
    pacer.awaitBoundary(0);
    now += 3_000_000n;
    pacer.commandsOut(0); // 3 ms
    now += 47_000_000n; // at the boundary of cycle 1
    pacer.awaitBoundary(1);
    now += 60_000_000n;
    pacer.commandsOut(1); // 60 ms: an overrun
    pacer.awaitBoundary(2); // already late: 10 ms past its boundary, no wait
    now += 1_000_000n;
    pacer.commandsOut(2); // 11 ms from its boundary
    const summary = pacer.summary();
    expect(summary).toMatchObject({ factor: 2, periodMs: 50, overruns: 1, cycles: 3, latencyMaxMs: 60, latencyP50Ms: 11 });
    expect(summary.jitterP99Ms).toBe(10);
  });

  it('waits on the real clock until the boundary', () => {
    const pacer = new RealTimePacer(0.02, 1, 3);
    const start = process.hrtime.bigint();
    pacer.awaitBoundary(0);
    pacer.commandsOut(0);
    pacer.awaitBoundary(2);
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeGreaterThanOrEqual(39.9);
  });

  it('percentiles by nearest rank', () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(sorted, 0.5)).toBe(5);
    expect(percentile(sorted, 0.99)).toBe(10);
    expect(percentile(new Float64Array(0), 0.5)).toBe(0);
  });

  it('refuses a factor that is no speed', () => {
    for (const factor of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new RealTimePacer(0.1, factor, 1)).toThrow(RangeError);
  });
});

describe('fly --realtime', () => {
  it('a 20-s real-time flight with failovers has no overrun and releases the same commands as flown at full speed', () => {
    const setup = prepareFlight(parseMission({ duration: 20, seed: 3, upsets: { count: 30 } }, 'test'));
    const fast = simulate(setup, { upsets: setup.upsets, oracle: true });
    const paced = simulate(setup, { upsets: setup.upsets, oracle: true, realTimeFactor: 1 });
    expect(fast.failovers).toBeGreaterThan(0);
    expect(paced.commandDigest).toBe(fast.commandDigest);
    expect(paced.realtime).toMatchObject({ factor: 1, periodMs: 100, cycles: 200, overruns: 0 });
    expect(fast.realtime).toBeUndefined();
  });
});
