// What a flight's HTML report draws, gathered from the telemetry rows as the flight produces them: the
// pointing error, the modelled cycle time and any extra named (debug) values, as min/max envelopes over
// buckets of cycles, and the runs of the hot-swap controller's states. Memory stays bounded however long
// the mission (up to 1e8 cycles): when the buckets are full, neighbours merge and each bucket covers twice
// the cycles, so a flight of up to MAX_BUCKETS cycles is drawn exactly, cycle by cycle, and a longer one
// keeps every peak.
import type { TelemetryRow } from '../../mission/fly.js';

/** Buckets kept at most: a 6,000-cycle flight (the reference mission) is drawn one point per cycle. */
export const MAX_BUCKETS = 16_384;
/** Controller-state runs kept at most (each failover makes a few); past it the report says where they stop. */
export const MAX_STATE_RUNS = 10_000;
/** Extra named values drawn at most: a debug panel of small multiples, not a data dump. */
export const MAX_EXTRA_SERIES = 24;

/** The fields of a telemetry row that the report draws in its own panels; every other numeric one is an extra series. */
const OWN_FIELDS: ReadonlySet<string> = new Set(['cycle', 'time', 'pointingErrorDeg', 'torque', 'mode', 'released', 'detection', 'failover', 'missedDeadline', 'modelledMs', 'controllerState']);

/**
 * The extra named values of a telemetry row — the flight software's debug outputs, whatever shape the row
 * carries them in: a numeric field of its own, an object of named numbers (`debug: { bias_x: … }`, drawn
 * as `bias_x`), or a list of `{ name, value }`.
 */
export function extraValuesOf(row: TelemetryRow): Array<[string, number]> {
  const values: Array<[string, number]> = [];
  for (const [key, value] of Object.entries(row)) {
    if (OWN_FIELDS.has(key)) continue;
    if (typeof value === 'number') values.push([key, value]);
    else if (Array.isArray(value)) {
      for (const item of value) {
        if (item && typeof item === 'object' && typeof item.name === 'string' && typeof item.value === 'number') values.push([item.name, item.value]);
      }
    } else if (value && typeof value === 'object') {
      for (const [name, inner] of Object.entries(value)) if (typeof inner === 'number') values.push([key === 'debug' ? name : `${key}.${name}`, inner]);
    }
  }
  return values;
}

/** Min and max of one value per bucket; NaN where the bucket saw no finite value. */
class Envelope {
  min: Float64Array = new Float64Array(MAX_BUCKETS).fill(Number.NaN);
  max: Float64Array = new Float64Array(MAX_BUCKETS).fill(Number.NaN);

  note(bucket: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const min = this.min[bucket];
    if (!(value >= min)) this.min[bucket] = value;
    const max = this.max[bucket];
    if (!(value <= max)) this.max[bucket] = value;
  }

  /** Merges bucket pairs (2i, 2i+1) into bucket i. */
  halve(): void {
    for (let i = 0; i < MAX_BUCKETS / 2; i++) {
      this.min[i] = lesser(this.min[2 * i], this.min[2 * i + 1]);
      this.max[i] = greater(this.max[2 * i], this.max[2 * i + 1]);
    }
    this.min.fill(Number.NaN, MAX_BUCKETS / 2);
    this.max.fill(Number.NaN, MAX_BUCKETS / 2);
  }
}

const lesser = (a: number, b: number) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.min(a, b));
const greater = (a: number, b: number) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b));

/** One drawn value: per bucket its least and greatest, rounded to what a chart can show. */
export interface SeriesEnvelope {
  readonly name: string;
  readonly min: readonly (number | null)[];
  readonly max: readonly (number | null)[];
}

export interface FlightSeries {
  /** Cycles per bucket (1: every cycle drawn). */
  readonly cyclesPerPoint: number;
  readonly cycles: number;
  readonly pointingErrorDeg: SeriesEnvelope;
  readonly modelledMs: SeriesEnvelope;
  readonly extra: readonly SeriesEnvelope[];
  /** Extra series seen beyond MAX_EXTRA_SERIES, not drawn. */
  readonly extraDropped: readonly string[];
  /** The controller's state after each cycle, as runs: [first cycle, state]. */
  readonly controllerStates: ReadonlyArray<readonly [number, string]>;
  /** The cycle after which no more state runs were kept (null: all kept). */
  readonly controllerStatesTruncatedAt: number | null;
}

/** Five significant digits: what a chart shows, and a report a fifth the size of full doubles. */
const rounded = (value: number): number | null => (Number.isNaN(value) ? null : Number(value.toPrecision(5)));

export class FlightSeriesRecorder {
  private cyclesPerBucket = 1;
  private cycles = 0;
  private readonly pointing = new Envelope();
  private readonly modelled = new Envelope();
  private readonly extra = new Map<string, Envelope>();
  private readonly extraDropped = new Set<string>();
  private readonly states: Array<[number, string]> = [];
  private statesTruncatedAt: number | null = null;

  add(row: TelemetryRow): void {
    const cycle = row.cycle;
    while (Math.floor(cycle / this.cyclesPerBucket) >= MAX_BUCKETS) this.halve();
    const bucket = Math.floor(cycle / this.cyclesPerBucket);
    this.cycles = Math.max(this.cycles, cycle + 1);
    this.pointing.note(bucket, row.pointingErrorDeg);
    this.modelled.note(bucket, row.modelledMs);
    for (const [name, value] of extraValuesOf(row)) {
      let envelope = this.extra.get(name);
      if (!envelope) {
        if (this.extra.size >= MAX_EXTRA_SERIES) {
          this.extraDropped.add(name);
          continue;
        }
        envelope = new Envelope();
        // A series that appears late has no values before: its earlier buckets stay empty.
        this.extra.set(name, envelope);
      }
      envelope.note(bucket, value);
    }
    const state = row.controllerState;
    if (state !== undefined && this.statesTruncatedAt === null && this.states.at(-1)?.[1] !== state) {
      if (this.states.length >= MAX_STATE_RUNS) this.statesTruncatedAt = cycle;
      else this.states.push([cycle, state]);
    }
  }

  private halve(): void {
    this.cyclesPerBucket *= 2;
    this.pointing.halve();
    this.modelled.halve();
    for (const envelope of this.extra.values()) envelope.halve();
  }

  series(): FlightSeries {
    const buckets = Math.ceil(this.cycles / this.cyclesPerBucket);
    const envelope = (name: string, source: Envelope): SeriesEnvelope => ({
      name,
      min: Array.from(source.min.subarray(0, buckets), rounded),
      max: Array.from(source.max.subarray(0, buckets), rounded),
    });
    return {
      cyclesPerPoint: this.cyclesPerBucket,
      cycles: this.cycles,
      pointingErrorDeg: envelope('pointing error', this.pointing),
      modelledMs: envelope('modelled cycle time', this.modelled),
      // Sorted by name: the panel's order does not depend on the order fields happen to be written in.
      extra: [...this.extra.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, source]) => envelope(name, source)),
      extraDropped: [...this.extraDropped].sort(),
      controllerStates: this.states,
      controllerStatesTruncatedAt: this.statesTruncatedAt,
    };
  }
}
