// Telemetry as CSV, one row per cycle, written as the flight produces it: rows are gathered into chunks
// and handed to the output as each fills, so memory stays flat however long the mission.
import type { TelemetryRow } from '../mission/fly.js';
import type { OutputFile } from '../output/files.js';

export const TELEMETRY_HEADER = 'cycle,time_s,pointing_error_deg,torque_x,torque_y,torque_z,mode,released,detection,failover,missed_deadline,modelled_ms';

/** Bytes gathered before a write: large enough that writes are few, small enough to stay flat. */
const CHUNK_BYTES = 1 << 16;

export function telemetryLine(row: TelemetryRow): string {
  return [row.cycle, row.time, row.pointingErrorDeg, ...row.torque, row.mode, row.released ? 1 : 0, row.detection, row.failover ? 1 : 0, row.missedDeadline ? 1 : 0, row.modelledMs].join(',');
}

export class TelemetryCsv {
  private chunk: string[] = [];
  private chunkBytes = 0;

  constructor(private readonly output: OutputFile) {
    output.write(`${TELEMETRY_HEADER}\n`);
  }

  add(row: TelemetryRow): void {
    const line = `${telemetryLine(row)}\n`;
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
