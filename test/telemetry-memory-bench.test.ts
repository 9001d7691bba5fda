// The telemetry memory benchmark works end to end (its figures are the benchmark's, not the test's):
// each mission is flown by the command in a child process under one fixed heap, and its CSV grows with it.
import { describe, expect, it } from 'vitest';
import { benchTelemetryMemory, formatTelemetryMemoryBench, HEAP_LIMIT_MB } from '../src/bench/telemetry-memory-bench.js';

describe('benchTelemetryMemory', () => {
  it('flies each length under the fixed heap and reports its peak memory and CSV size', () => {
    const bench = benchTelemetryMemory([5, 20]);
    expect(bench.heapLimitMb).toBe(HEAP_LIMIT_MB);
    expect(bench.points.map((point) => point.durationS)).toEqual([5, 20]);
    for (const point of bench.points) expect(point.maxRssMb).toBeGreaterThan(10);
    expect(bench.points[1].telemetryBytes).toBeGreaterThan(3 * bench.points[0].telemetryBytes);
    expect(formatTelemetryMemoryBench(bench)).toMatch(/within a 96 MB heap at every length/);
  });
});
