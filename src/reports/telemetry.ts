// Telemetry as CSV, one row per cycle, written as the flight produces it: rows are gathered into chunks
// and handed to the output as each fills, so memory stays flat however long the mission. A module's debug
// outputs (docs/abi.md) are columns `debug.NAME` after the fixed ones.
import type { TelemetryRow } from '../mission/fly.js';
import type { OutputFile } from '../output/files.js';

export const TELEMETRY_HEADER = 'cycle,time_s,pointing_error_deg,torque_x,torque_y,torque_z,mode,released,detection,failover,missed_deadline,modelled_ms';

/** The header line's columns for a module with these debug outputs. */
export function telemetryHeader(debugOutputs: readonly string[] = []): string {
  return [TELEMETRY_HEADER, ...debugOutputs.map((name) => `debug.${name}`)].join(',');
}

/** Bytes gathered before a write: large enough that writes are few, small enough to stay flat. */
const CHUNK_BYTES = 1 << 16;

export function telemetryLine(row: TelemetryRow, debugOutputs: readonly string[] = []): string {
  const fixed = [row.cycle, row.time, row.pointingErrorDeg, ...row.torque, row.mode, row.released ? 1 : 0, row.detection, row.failover ? 1 : 0, row.missedDeadline ? 1 : 0, row.modelledMs];
  // A debug output not yet released is an empty cell, not a number.
  return [...fixed, ...debugOutputs.map((name) => (Number.isNaN(row.debug[name]) ? '' : row.debug[name]))].join(',');
}

export class TelemetryCsv {
  private chunk: string[] = [];
  private chunkBytes = 0;

  constructor(
    private readonly output: OutputFile,
    /** The module's debug outputs, in its order (FlightModule.debugOutputs). */
    private readonly debugOutputs: readonly string[] = [],
  ) {
    output.write(`${telemetryHeader(debugOutputs)}\n`);
  }

  add(row: TelemetryRow): void {
    const line = `${telemetryLine(row, this.debugOutputs)}\n`;
    this.chunk.push(line);
    this.chunkBytes += line.length;
    if (this.chunkBytes >= CHUNK_BYTES) this.flush();
  }

  /** Writes what is gathered; call once the flight is over. */
  flush(): void {
    if (this.chunk.length === 0) return;
    this.output.write(this.chunk.join(''));
    this.chunk = [];
    this.chunkBytes = 0;
  }
}
