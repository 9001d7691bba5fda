// `campaign --report FILE.html` (and `merge --report`): a campaign as one self-contained page — the outcome
// rates per configuration and target with their 95% intervals drawn, the distribution of detection
// latencies, MWTF with its interval, the per-function table when the summary has one, the silent-failure
// bounds' verdicts and the text the command prints.
import { OUTCOMES, type ConfigName, type ExperimentRecord, type OutcomeName, type Target } from '../../campaign/experiment.js';
import { formatCampaignReport, type CampaignReport } from '../../campaign/report.js';
import type { CampaignSummary, OutcomeTable } from '../../campaign/summary.js';
import type { RequirementVerdict } from '../requirements.js';
import { verdictClass } from './flight-report.js';
import { escapeHtml, htmlPage } from './page.js';

/** The configurations' colours, in the order the campaign names them (assets/report/charts.js has the same palette). */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** The rows of the rate charts: every outcome, then the silent failures a coverage goal is about. */
const RATE_ROWS: ReadonlyArray<OutcomeName | 'silent'> = [...OUTCOMES, 'silent'];
const rowLabel = (row: OutcomeName | 'silent') => (row === 'silent' ? 'sdc + pointing' : row);

type Estimate = { readonly value: number; readonly lo: number; readonly hi: number } | null;

/** The data campaign.js draws (assets/report/campaign.js): the one place its shape is defined. */
export interface CampaignReportData {
  readonly configs: readonly string[];
  readonly colors: readonly string[];
  readonly outcomeLabels: readonly string[];
  /** Per target (and over all targets), per configuration, per outcome row: the rate and its 95% interval. */
  readonly rates: ReadonlyArray<{ readonly id: string; readonly values: ReadonlyArray<readonly Estimate[]> }>;
  /** Per configuration: detected experiments by cycles from injection to detection (index = cycles). */
  readonly latency: ReadonlyArray<{ readonly config: string; readonly counts: readonly number[] }>;
  readonly mwtf: { readonly variants: readonly string[]; readonly values: readonly Estimate[]; readonly yMax: number } | null;
  /** The functions with the highest silent-failure rates (byFunction), at most MOST_VULNERABLE. */
  readonly functions: { readonly names: readonly string[]; readonly values: readonly Estimate[] } | null;
}

/** Functions drawn at most: the chart is for spotting the vulnerable ones; the table has them all. */
export const MOST_VULNERABLE = 20;

/** The functions to draw: highest silent-failure rate first, then most experiments, then by name. */
function mostVulnerable(rows: readonly FunctionRow[] | null): CampaignReportData['functions'] {
  if (!rows) return null;
  const drawn = rows
    .filter((row) => row.experiments > 0)
    .sort((a, b) => b.silentRate - a.silentRate || b.interval[1] - a.interval[1] || b.experiments - a.experiments || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, MOST_VULNERABLE);
  return drawn.length > 0 ? { names: drawn.map((row) => row.name), values: drawn.map((row) => ({ value: row.silentRate, lo: row.interval[0], hi: row.interval[1] })) } : null;
}

/** One row of the per-function table, as the summary's `byFunction` holds it (read leniently: see functionRowsOf). */
export interface FunctionRow {
  readonly name: string;
  readonly experiments: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly silentRate: number;
  readonly interval: readonly [number, number];
}

export interface CampaignHtmlInput {
  readonly report: CampaignReport;
  readonly summary: CampaignSummary;
  /** The records the report is of: the latency distribution is drawn from them. */
  readonly records: readonly ExperimentRecord[];
  readonly requirements: readonly RequirementVerdict[];
  /** The command's first line ("lockstep campaign — 1000 experiments, …"). */
  readonly heading: string;
}

/**
 * The first line `campaign` prints. `speed` (experiments/s, jobs) is the terminal's only: the page leaves
 * it out, so that the same campaign gives the same bytes on any machine.
 */
export function campaignHeading(report: CampaignReport, speed?: string): string {
  return `lockstep campaign — ${report.experiments} experiments${report.shard ? ` (shard ${report.shard})` : ''}, seed ${report.seed}, horizon ${report.horizon} cycles, ${speed ? `${speed}, ` : ''}${report.meanSimulatedCycles.toFixed(1)} lock-step cycles simulated per experiment`;
}

const DETECTED: ReadonlySet<OutcomeName> = new Set(['detected', 'recovered', 'failover-failed']);

/** Detected experiments by detection latency, per configuration: what the summary's mean and max are of. */
export function latencyDistribution(records: readonly ExperimentRecord[], configs: readonly ConfigName[]): CampaignReportData['latency'] {
  return configs.map((config) => {
    const counts: number[] = [];
    for (const record of records) {
      const outcome = record.outcomes[config];
      if (!outcome || !DETECTED.has(outcome.outcome) || outcome.latency === undefined) continue;
      while (counts.length <= outcome.latency) counts.push(0);
      counts[outcome.latency]++;
    }
    return { config, counts };
  });
}

const estimateOf = (entry: OutcomeTable | undefined, row: OutcomeName | 'silent'): Estimate => {
  if (!entry || entry.experiments === 0) return null;
  const { rate, ci95 } = row === 'silent' ? entry.silent : entry.outcomes[row];
  return { value: rate, lo: ci95[0], hi: ci95[1] };
};

/**
 * The summary's `byFunction`, when it has one: rows with a name, experiments, outcome counts (numbers, or
 * counts with rates), the silent rate and its interval. Anything else is no table rather than a broken one.
 */
export function functionRowsOf(value: unknown): FunctionRow[] | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const rows: FunctionRow[] = [];
  for (const item of value) {
    if (!item || typeof item !== 'object') return null;
    const { name, experiments, outcomes, silentRate, interval } = item as Record<string, unknown>;
    if (typeof name !== 'string' || typeof experiments !== 'number' || typeof silentRate !== 'number') return null;
    if (!Array.isArray(interval) || interval.length !== 2 || !interval.every((end) => typeof end === 'number')) return null;
    const counts: Record<string, number> = {};
    if (outcomes && typeof outcomes === 'object') {
      for (const [outcome, count] of Object.entries(outcomes)) {
        const n = typeof count === 'number' ? count : count && typeof count === 'object' && typeof (count as { count?: unknown }).count === 'number' ? (count as { count: number }).count : null;
        if (n !== null) counts[outcome] = n;
      }
    }
    rows.push({ name, experiments, outcomes: counts, silentRate, interval: [interval[0], interval[1]] });
  }
  return rows;
}

const percent = (rate: number) => `${(rate * 100).toFixed(rate > 0 && rate < 0.001 ? 4 : 2)}%`;

export function campaignReportHtml({ report, summary, records, requirements, heading }: CampaignHtmlInput): string {
  const configs = Object.keys(summary.configs) as ConfigName[];
  const targets = [...new Set(configs.flatMap((config) => Object.keys(summary.configs[config]!.targets)))] as Target[];
  const groups: Array<{ id: string; title: string; entryOf: (config: ConfigName) => OutcomeTable | undefined }> = targets.map((target) => ({
    id: `target-${target}`,
    title: target,
    entryOf: (config) => summary.configs[config]!.targets[target],
  }));
  if (targets.length > 1) groups.push({ id: 'all-targets', title: 'all targets', entryOf: (config) => summary.configs[config] });

  const functions = functionRowsOf((report as { byFunction?: unknown }).byFunction ?? (summary as { byFunction?: unknown }).byFunction);
  const mwtfVariants = Object.keys(report.mwtf);
  const mwtfFigures = mwtfVariants.map((variant) => report.mwtf[variant as keyof typeof report.mwtf]!);
  const finite = mwtfFigures.flatMap((figure) => [figure.value, figure.ci95[0], figure.ci95[1]]).filter((v) => Number.isFinite(v));
  const mwtfMax = finite.length > 0 ? Math.max(...finite) * 1.5 : 1;
  const data: CampaignReportData = {
    configs,
    colors: configs.map((_, i) => PALETTE[i % PALETTE.length]),
    outcomeLabels: RATE_ROWS.map(rowLabel),
    rates: groups.map((group) => ({ id: group.id, values: configs.map((config) => RATE_ROWS.map((row) => estimateOf(group.entryOf(config), row))) })),
    latency: latencyDistribution(records, configs),
    // An unbounded figure (no silent failure in the hardened build) is drawn as its interval up to the chart's top.
    mwtf:
      mwtfVariants.length > 0
        ? {
            variants: mwtfVariants,
            values: mwtfFigures.map((figure) =>
              Number.isNaN(figure.value) ? null : { value: Number.isFinite(figure.value) ? figure.value : Math.min(mwtfMax, Math.max(figure.ci95[0], 0)), lo: figure.ci95[0], hi: Math.min(figure.ci95[1], mwtfMax) },
            ),
            yMax: mwtfMax,
          }
        : null,
    functions: mostVulnerable(functions),
  };

  const title = `lockstep campaign — ${report.experiments} experiments, seed ${report.seed}`;
  const legend = `<p class="legend">${configs.map((config, i) => `<span><i class="box" style="background:${data.colors[i]}"></i>${escapeHtml(config)}</span>`).join(' ')} · dot: the rate; whiskers: its 95% Clopper–Pearson interval; y axis linear below 1e-4, logarithmic above</p>`;
  const rateSections = groups
    .map((group) => {
      const sizes = configs.map((config) => `${config} ${group.entryOf(config)?.experiments ?? 0}`).join(', ');
      return `<h3>${escapeHtml(group.title)} <span class="note">(${escapeHtml(sizes)} experiments)</span></h3>
<div class="chart" id="rates-${group.id}" data-chart="outcome rates, ${escapeHtml(group.title)}"></div>
<details><summary>the numbers</summary>${rateTable(configs, group.entryOf)}</details>`;
    })
    .join('\n');
  const latencyLine = configs
    .map((config) => {
      const latency = summary.configs[config]!.detectionLatency;
      return `${escapeHtml(config)}: ${latency ? `mean ${latency.mean.toFixed(1)}, max ${latency.max}` : '—'}`;
    })
    .join(' · ');
  const body = `<header>
<h1>${escapeHtml(title)}</h1>
<p class="subtitle">${escapeHtml(report.fsw)} · targets ${escapeHtml(report.targets.join(', '))} · configurations ${escapeHtml(configs.join(', '))} · horizon ${report.horizon} cycles · ${report.width}-bit upsets${report.complete ? '' : ` · <strong>INCOMPLETE: ${report.missing.count} of ${report.plannedExperiments} experiments missing</strong>`}</p>
${requirementsTable(requirements)}
</header>
<section>
<h2>Outcome rates per configuration and target</h2>
${legend}
${rateSections}
</section>
<section>
<h2>Detection latency</h2>
<p class="legend">Detected experiments (detected, recovered, failover-failed) by cycles from the injection to the detection. ${latencyLine}</p>
<div class="chart" id="latency-chart" data-chart="detection latency"></div>
</section>
<section>
<h2>MWTF</h2>
${mwtfSection(report, summary, data.mwtf !== null)}
</section>
${functions ? functionSection(functions, data.functions !== null) : ''}
<section>
<h2>Summary</h2>
<pre>${escapeHtml(`${heading}\n${formatCampaignReport(report, summary)}`)}</pre>
</section>`;
  return htmlPage({ title, body, data, script: 'campaign.js' });
}

function rateTable(configs: readonly ConfigName[], entryOf: (config: ConfigName) => OutcomeTable | undefined): string {
  const head = `<tr><th>outcome</th>${configs.map((config) => `<th>${escapeHtml(config)}</th>`).join('')}</tr>`;
  const rows = RATE_ROWS.map((row) => {
    const cells = configs.map((config) => {
      const entry = entryOf(config);
      if (!entry || entry.experiments === 0) return '<td class="num">—</td>';
      const { count, rate, ci95 } = row === 'silent' ? entry.silent : entry.outcomes[row];
      return `<td class="num">${count} · ${percent(rate)} [${percent(ci95[0])}, ${percent(ci95[1])}]</td>`;
    });
    return `<tr><td>${escapeHtml(rowLabel(row))}</td>${cells.join('')}</tr>`;
  });
  return `<table><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function requirementsTable(requirements: readonly RequirementVerdict[]): string {
  if (requirements.length === 0) return '';
  const rows = requirements
    .map(
      (verdict) =>
        `<tr><td>${escapeHtml(verdict.requirement)}${verdict.config ? ` ${escapeHtml(verdict.config)}` : ''}${verdict.id ? ` <span class="id">${escapeHtml(verdict.id)}</span>` : ''}</td><td class="${verdictClass(verdict.status)}">${escapeHtml(verdict.status)}</td><td>${escapeHtml(verdict.detail)}</td></tr>`,
    )
    .join('\n');
  return `<table class="requirements"><thead><tr><th>requirement</th><th>verdict</th><th>detail</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function mwtfSection(report: CampaignReport, summary: CampaignSummary, drawn: boolean): string {
  if (!drawn) {
    return '<p class="note">MWTF compares a hardened lone core with the plain one: run the campaign with <code>--configs single,swift</code> (or another hardening: docs/hardening.md) to see it.</p>';
  }
  const rows = Object.entries(report.mwtf)
    .map(([variant, figure]) => {
      const value = figure!.value === Number.POSITIVE_INFINITY ? `≥ ${figure!.ci95[0].toPrecision(3)} (no silent failure in ${summary.configs[variant as ConfigName]!.experiments})` : Number.isNaN(figure!.value) ? 'undefined (no silent failure in either)' : figure!.value.toPrecision(3);
      const interval = Number.isNaN(figure!.value) ? '—' : `[${figure!.ci95[0].toPrecision(3)}, ${Number.isFinite(figure!.ci95[1]) ? figure!.ci95[1].toPrecision(3) : '∞'}]`;
      return `<tr><td>${escapeHtml(variant)}</td><td class="num">${value}</td><td class="num">${interval}</td><td class="num">${figure!.runtimeRatio.toFixed(2)}×</td></tr>`;
    })
    .join('');
  return `<p class="legend">Mean work to failure of each hardened lone core against the plain one (COAST): (1 / runtime ratio) × (plain silent-failure rate / hardened silent-failure rate); above 1 (dashed), the hardening pays for its runtime. Dot: the figure; whiskers: its 95% interval (an unbounded end is drawn to the top).</p>
<div class="chart" id="mwtf-chart" data-chart="MWTF"></div>
<table><thead><tr><th>hardening</th><th>MWTF vs single</th><th>95% interval</th><th>runtime</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function functionSection(rows: readonly FunctionRow[], drawn: boolean): string {
  const outcomes = [...new Set(rows.flatMap((row) => Object.keys(row.outcomes)))];
  const ordered = [...OUTCOMES.filter((outcome) => outcomes.includes(outcome)), ...outcomes.filter((outcome) => !(OUTCOMES as readonly string[]).includes(outcome))];
  const head = `<tr><th>function</th><th>experiments</th>${ordered.map((outcome) => `<th>${escapeHtml(outcome)}</th>`).join('')}<th>silent rate</th><th>95% interval</th></tr>`;
  const body = rows
    .map(
      (row) =>
        `<tr><td><code>${escapeHtml(row.name)}</code></td><td class="num">${row.experiments}</td>${ordered.map((outcome) => `<td class="num">${row.outcomes[outcome] ?? 0}</td>`).join('')}<td class="num">${percent(row.silentRate)}</td><td class="num">[${percent(row.interval[0])}, ${percent(row.interval[1])}]</td></tr>`,
    )
    .join('\n');
  return `<section>
<h2>Per function</h2>
<p class="legend">Where the faults struck, by function of the flight software: the outcomes of its experiments and its silent-failure rate (sdc + pointing) with the 95% interval.${drawn ? ` The chart: the ${Math.min(MOST_VULNERABLE, rows.filter((row) => row.experiments > 0).length)} functions with the highest rates.` : ''}</p>
${drawn ? '<div class="chart" id="functions-chart" data-chart="silent rate by function"></div>' : ''}
<table class="functions"><thead>${head}</thead><tbody>
${body}
</tbody></table>
</section>`;
}
