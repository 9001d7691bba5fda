// Memory of `fly --telemetry` against mission length: telemetry is streamed as the flight produces it, so
// a process's peak memory must stay flat however long the mission (before streaming, one day of
// telemetry needed 1.07 GB and five days died with an invalid string length). Each mission is flown by
// the command itself in a child process whose JavaScript heap is capped at HEAP_LIMIT_MB, the same for
// every length: memory that grew with the mission would run out there. The peak resident memory (the
// kernel's figure, wasm memories and code included) is reported beside it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The heap every flight must fit, whatever its length. */
export const HEAP_LIMIT_MB = 96;

export interface TelemetryMemoryPoint {
  readonly durationS: number;
  readonly telemetryBytes: number;
  readonly maxRssMb: number;
}

export interface TelemetryMemoryBench {
  readonly heapLimitMb: number;
  readonly points: readonly TelemetryMemoryPoint[];
  /** Peak memory of the longest mission over the shortest's: 1 is flat. */
  readonly longestVsShortest: number;
}

/** Flies the reference mission fault-free for each duration with telemetry to a file, and reads each run's peak memory. */
export function benchTelemetryMemory(durations: readonly number[] = [600, 6_000, 36_000]): TelemetryMemoryBench {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-telemetry-bench-'));
  try {
    const points = durations.map((durationS) => {
      const csv = join(dir, `t-${durationS}.csv`);
      // The child (the compiled command, whether this runs from dist/ or under the test runner from src/)
      // reports its own peak (ru_maxrss, KiB) as its last act, after the command has written everything.
      const script = `process.on('exit', () => process.stderr.write('maxrss ' + process.resourceUsage().maxRSS + '\\n')); const { main } = await import(${JSON.stringify(new URL('../../dist/cli/main.js', import.meta.url).href)}); process.exitCode = await main(process.argv.slice(1));`;
      const run = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MB}`, '--input-type=module', '-e', script, 'fly', '--duration', String(durationS), '--upsets', '0', '--quiet', '--telemetry', csv], { encoding: 'utf8', timeout: 3_600_000 });
      const match = /maxrss (\d+)/.exec(run.stderr);
      if (run.status !== 0 || !match) throw new Error(`bench: fly --duration ${durationS} --telemetry failed (${run.status}): ${run.stderr.trim()}`);
      return { durationS, telemetryBytes: statSync(csv).size, maxRssMb: Number(match[1]) / 1024 };
    });
    return { heapLimitMb: HEAP_LIMIT_MB, points, longestVsShortest: points[points.length - 1].maxRssMb / points[0].maxRssMb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatTelemetryMemoryBench(bench: TelemetryMemoryBench): string {
  const points = bench.points.map((point) => `${point.durationS} s ${point.maxRssMb.toFixed(0)} MB (${(point.telemetryBytes / 1e6).toFixed(1)} MB of CSV)`).join(', ');
  return `  fly --telemetry within a ${bench.heapLimitMb} MB heap at every length; peak resident memory ${points}; longest over shortest ${bench.longestVsShortest.toFixed(2)}×`;
}
