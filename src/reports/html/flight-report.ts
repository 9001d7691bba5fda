// `fly --report FILE.html`: the flight as one self-contained page — the pointing error over time with the
// upsets, detections, failovers and the controller's states marked, the modelled cycle time against the
// deadline, any extra named (debug) values in the telemetry, the requirements' verdicts and the summary.
import type { FlightEvent } from '../../mission/fly.js';
import { formatFlightSummary, type FlySummary } from '../flight-summary.js';
import type { FlightSeries } from './flight-series.js';
import { escapeHtml, htmlPage } from './page.js';

/** How each kind of event is marked: one table for the chart, its legend and the events table. */
export const EVENT_MARKS: Readonly<Record<FlightEvent['kind'], { readonly color: string; readonly label: string }>> = {
  upset: { color: '#ff7f0e', label: 'upset' },
  detection: { color: '#d62728', label: 'detection' },
  failover: { color: '#2ca02c', label: 'failover' },
  'missed-deadline': { color: '#000000', label: 'missed deadline' },
  'undetected-divergence': { color: '#9400d3', label: 'undetected divergence' },
  replica: { color: '#8c564b', label: 'replica checksum' },
  health: { color: '#e377c2', label: 'health (processor declared failed, spare failure)' },
};

/** The shading of the controller's resting states (src/spare/controller.ts); duplex and voting (TMR), the normal states, are left clear. */
export const STATE_SHADES: Readonly<Record<string, string>> = {
  simplex: 'rgba(255, 193, 7, 0.35)',
  reintegrating: 'rgba(23, 190, 207, 0.3)',
  'spare-booting': 'rgba(214, 39, 40, 0.25)',
  'stopped-for-copy': 'rgba(127, 127, 127, 0.4)',
};

/** The deadline's dashed line, in the chart (flight.js reads it from the data) and its legend. */
const DEADLINE_COLOR = '#d62728';

/** The data flight.js draws (assets/report/flight.js): the one place its shape is defined. */
export interface FlightReportData {
  readonly periodS: number;
  readonly cycles: number;
  readonly cyclesPerPoint: number;
  readonly pointing: { readonly max: readonly (number | null)[]; readonly min: readonly (number | null)[] | null };
  readonly requirementDeg: number;
  readonly settleTimeS: number;
  readonly modelled: { readonly max: readonly (number | null)[]; readonly min: readonly (number | null)[] | null };
  readonly deadlineMs: number;
  readonly deadlineColor: string;
  readonly extra: ReadonlyArray<{ readonly name: string; readonly max: readonly (number | null)[]; readonly min: readonly (number | null)[] | null }>;
  readonly events: ReadonlyArray<readonly [number, FlightEvent['kind']]>;
  readonly eventColors: Readonly<Record<string, string>>;
  readonly states: ReadonlyArray<readonly [number, string]>;
  readonly stateShades: Readonly<Record<string, string>>;
}

export const verdictClass = (status: string) => (status === 'met' ? 'met' : status === 'not-met' ? 'not-met' : 'other');

export function flightReportHtml(summary: FlySummary, series: FlightSeries): string {
  const periodS = summary.timing.controlPeriodMs / 1000;
  // One point per cycle: the least of a bucket of one is its greatest, and is not sent twice.
  const envelope = (s: FlightSeries['pointingErrorDeg']) => ({ max: s.max, min: series.cyclesPerPoint > 1 ? s.min : null });
  const data: FlightReportData = {
    periodS,
    cycles: series.cycles,
    cyclesPerPoint: series.cyclesPerPoint,
    pointing: envelope(series.pointingErrorDeg),
    requirementDeg: summary.pointing.requirementDeg,
    settleTimeS: summary.pointing.settleTimeS,
    modelled: envelope(series.modelledMs),
    deadlineMs: summary.timing.controlPeriodMs,
    deadlineColor: DEADLINE_COLOR,
    extra: series.extra.map((s) => ({ name: s.name, ...envelope(s) })),
    events: summary.events.map((event) => [event.cycle, event.kind] as const),
    eventColors: Object.fromEntries(Object.entries(EVENT_MARKS).map(([kind, mark]) => [kind, mark.color])),
    states: series.controllerStates,
    stateShades: STATE_SHADES,
  };
  const title = `lockstep fly — ${summary.scenario} mission, seed ${summary.seed}, spare ${summary.spare}`;
  const decimated =
    series.cyclesPerPoint > 1
      ? `<p class="note">${series.cycles} cycles: each point is the greatest (line) and least (band) of ${series.cyclesPerPoint} cycles, so no peak is lost.</p>`
      : '';
  const eventCount = summary.upsetsInjected + summary.detections.mismatch + summary.detections.trap + summary.detections.watchdog + summary.detections.check + summary.failovers + summary.missedDeadlines;
  const eventsNote = summary.events.length < eventCount ? `<p class="note">The first ${summary.events.length} events are marked, as the JSON summary keeps them; the counts above are exact.</p>` : '';
  const statesNote = series.controllerStatesTruncatedAt !== null ? `<p class="note">Controller states are shaded up to cycle ${series.controllerStatesTruncatedAt}.</p>` : '';
  const body = `<header>
<h1>${escapeHtml(title)}</h1>
<p class="subtitle">${escapeHtml(summary.fsw)} · ${summary.cycles} cycles of ${summary.timing.controlPeriodMs} ms · ${summary.upsetsInjected} upsets · ${summary.failovers} failovers · ${summary.missedDeadlines} missed deadlines · command stream ${summary.matchesFaultFree ? 'identical to the fault-free run' : 'DIFFERS from the fault-free run'}</p>
${requirementsTable(summary)}
</header>
<section>
<h2>Pointing error</h2>
<p class="legend">${Object.values(EVENT_MARKS)
    .map((mark) => `<span><i class="line" style="background:${mark.color}"></i>${escapeHtml(mark.label)}</span>`)
    .join(' ')} <span><i class="dash"></i>requirement ${summary.pointing.requirementDeg}° after ${summary.pointing.settleTimeS} s</span> ${Object.entries(STATE_SHADES)
    .map(([state, shade]) => `<span><i class="box" style="background:${shade}"></i>${escapeHtml(state)}</span>`)
    .join(' ')}</p>
<div class="chart" id="pointing-chart" data-chart="pointing error"></div>
${decimated}${eventsNote}${statesNote}
</section>
<section>
<h2>Modelled cycle time against the deadline</h2>
<p class="legend"><span><i class="dash" style="border-top-color:${DEADLINE_COLOR}"></i>deadline: the control period, ${summary.timing.controlPeriodMs} ms</span> · max ${summary.timing.maxCycleMs.toFixed(3)} ms, mean ${summary.timing.meanCycleMs.toFixed(3)} ms, worst detection + recovery ${summary.timing.maxRecoveryMs.toFixed(3)} ms</p>
<div class="chart" id="timing-chart" data-chart="modelled cycle time"></div>
</section>
${debugSection(series)}
<section>
<h2>Summary</h2>
<pre>${escapeHtml(formatFlightSummary(summary))}</pre>
${eventsTable(summary)}
</section>`;
  return htmlPage({ title, body, data, script: 'flight.js' });
}

function requirementsTable(summary: FlySummary): string {
  if (summary.requirements.length === 0) return '';
  const rows = summary.requirements
    .map(
      (verdict) =>
        `<tr><td>${escapeHtml(verdict.requirement)}${verdict.config ? ` ${escapeHtml(verdict.config)}` : ''}${verdict.id ? ` <span class="id">${escapeHtml(verdict.id)}</span>` : ''}</td><td class="${verdictClass(verdict.status)}">${escapeHtml(verdict.status)}</td><td>${escapeHtml(verdict.detail)}</td></tr>`,
    )
    .join('\n');
  return `<table class="requirements"><thead><tr><th>requirement</th><th>verdict</th><th>detail</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The extra named values of the telemetry (the flight software's debug outputs), one small chart each. */
function debugSection(series: FlightSeries): string {
  if (series.extra.length === 0) return '';
  const charts = series.extra.map((s, i) => `<figure><figcaption>${escapeHtml(s.name)}</figcaption><div class="chart small" id="extra-chart-${i}" data-chart="${escapeHtml(s.name)}"></div></figure>`).join('\n');
  const dropped = series.extraDropped.length > 0 ? `<p class="note">Not drawn (${series.extraDropped.length} more than the panel holds): ${escapeHtml(series.extraDropped.join(', '))}.</p>` : '';
  return `<section>
<h2>Debug values</h2>
<div class="grid">
${charts}
</div>
${dropped}
</section>`;
}

function eventsTable(summary: FlySummary): string {
  if (summary.events.length === 0) return '';
  const periodS = summary.timing.controlPeriodMs / 1000;
  const rows = summary.events
    .map((event) => `<tr><td>${event.cycle}</td><td>${(event.cycle * periodS).toFixed(1)}</td><td><i class="line" style="background:${EVENT_MARKS[event.kind].color}"></i>${escapeHtml(EVENT_MARKS[event.kind].label)}</td><td>${escapeHtml(event.detail)}</td></tr>`)
    .join('\n');
  return `<details><summary>${summary.events.length} events</summary>
<table class="events"><thead><tr><th>cycle</th><th>time, s</th><th>event</th><th>detail</th></tr></thead><tbody>
${rows}
</tbody></table>
</details>`;
}
