// Which function — and, where the flight software carries line information, which source line — a
// campaign's experiments struck, with their outcomes per configuration: the answer to "which part of my
// flight software is vulnerable". Computed after the fact from each record's `site` (the fault-hook site
// its flip fired at, read off the core at no cost to the experiment) and the site table of the result
// file's header, so that a merged campaign attributes exactly as the campaign run whole.
//
// Only instruction-level targets (`result`, `branch`) are attributed: their fault site is an instruction
// of one function. A bit of memory or a global belongs to no function — which function last wrote it or
// will next read it is a property of the data flow, not of the fault — so storage targets are left out
// rather than guessed at (docs/campaigns.md).
import type { BuildVariant } from '../hardenings.js';
import { CONFIG_PARTS, OUTCOMES, type ConfigName, type ExperimentRecord, type OutcomeName, type Target } from './experiment.js';
import { summarizeCount, type CountSummary } from './statistics.js';

export const ATTRIBUTED_TARGETS: readonly Target[] = ['result', 'branch'];

/** A site: its function, and its file and line when known (indices into the table's lists). */
export type SiteEntry = readonly [functionIndex: number] | readonly [functionIndex: number, fileIndex: number, line: number];

/**
 * What a result file's header keeps of the fault-hook sites: for each build of the campaign, the function
 * (and file and line) of each site id, names listed once.
 */
export interface SiteTable {
  readonly functions: readonly string[];
  readonly files: readonly string[];
  /** Per build, by site id. A record's `site` is of the first build's (plain when it has plain configurations), `variants.<v>.site` of build v's. */
  readonly builds: Partial<Record<BuildVariant, readonly SiteEntry[]>>;
  /** Where the plain build's lines come from, or null when the module carries none. */
  readonly lines: 'dwarf' | 'source-map' | null;
  /** Where each function begins in its source ([file, line], the first line of its body), by function index; null where unknown. */
  readonly places?: ReadonlyArray<readonly [fileIndex: number, line: number] | null>;
}

export interface AttributedOutcomes {
  experiments: number;
  outcomes: Record<OutcomeName, CountSummary>;
  silent: CountSummary;
}

export interface FunctionAttribution {
  /** The function; null for experiments that struck no instruction (their cycle executes none, or their core does not run). */
  name: string | null;
  /** Where the function begins in its source (the first line of its body), when known. */
  file?: string;
  line?: number;
  /** Experiments of the attributed targets whose fault site is in the function (in the first build). */
  experiments: number;
  configs: Partial<Record<ConfigName, AttributedOutcomes>>;
}

export interface LineAttribution {
  /** null for the sites with no line (code the compiler made up, or a function whose line table was not understood). */
  file: string | null;
  line: number | null;
  /** The functions the line's instructions are in (a header's line inlined into several). */
  functions: string[];
  experiments: number;
  configs: Partial<Record<ConfigName, AttributedOutcomes>>;
}

export interface Attribution {
  targets: readonly Target[];
  /** Experiments of those targets: what each list's `experiments` add up to. */
  experiments: number;
  lines: SiteTable['lines'];
  byFunction: FunctionAttribution[];
  /** Only with line information; the plain build's configurations. */
  byLine?: LineAttribution[];
}

type Counts = Map<ConfigName, Record<OutcomeName, number>>;

function countInto(counts: Counts, config: ConfigName, outcome: OutcomeName): void {
  let entry = counts.get(config);
  if (!entry) {
    entry = Object.fromEntries(OUTCOMES.map((name) => [name, 0])) as Record<OutcomeName, number>;
    counts.set(config, entry);
  }
  entry[outcome]++;
}

function tablesOf(counts: Counts, configs: readonly ConfigName[]): Partial<Record<ConfigName, AttributedOutcomes>> {
  const tables: Partial<Record<ConfigName, AttributedOutcomes>> = {};
  for (const config of configs) {
    const entry = counts.get(config);
    if (!entry) continue;
    const trials = OUTCOMES.reduce((sum, outcome) => sum + entry[outcome], 0);
    tables[config] = {
      experiments: trials,
      outcomes: Object.fromEntries(OUTCOMES.map((outcome) => [outcome, summarizeCount(entry[outcome], trials)])) as Record<OutcomeName, CountSummary>,
      silent: summarizeCount(entry.sdc + entry['pointing-violation'], trials),
    };
  }
  return tables;
}

/** The builds of a campaign in the order it runs them; the first is the one a record's own fields describe. */
export function firstBuildOf(configs: readonly ConfigName[], order: readonly BuildVariant[]): BuildVariant {
  const variants = new Set(configs.map((config) => CONFIG_PARTS[config].variant));
  return order.find((variant) => variants.has(variant)) ?? 'plain';
}

/**
 * The experiments of the attributed targets by function and by line, per configuration. Null when the
 * campaign strikes no such target or its file predates site tables. `firstBuild` is the build a record's
 * `site` refers to.
 */
export function attribute(records: readonly ExperimentRecord[], table: SiteTable | undefined, configs: readonly ConfigName[], targets: readonly Target[], firstBuild: BuildVariant): Attribution | null {
  const attributed = ATTRIBUTED_TARGETS.filter((target) => targets.includes(target));
  if (!table || attributed.length === 0) return null;
  const siteOf = (record: ExperimentRecord, variant: BuildVariant): number | undefined => (variant === firstBuild ? record.site : record.variants?.[variant as Exclude<BuildVariant, 'plain'>]?.site);
  // Key -1: no site. Functions by table index; lines by "file line" of the plain build.
  const byFunction = new Map<number, { experiments: number; counts: Counts }>();
  const byLine = new Map<string, { file: number | null; line: number | null; functions: Set<number>; experiments: number; counts: Counts }>();
  const plain = table.builds.plain;
  const withLines = table.lines !== null && plain !== undefined;
  let experiments = 0;
  for (const record of records) {
    if (!attributed.includes(record.target)) continue;
    experiments++;
    const own = siteOf(record, firstBuild);
    const ownEntry = own === undefined ? undefined : table.builds[firstBuild]?.[own];
    const key = ownEntry ? ownEntry[0] : -1;
    let fn = byFunction.get(key);
    if (!fn) byFunction.set(key, (fn = { experiments: 0, counts: new Map() }));
    fn.experiments++;
    const plainSite = siteOf(record, 'plain');
    const plainEntry = withLines && plainSite !== undefined ? plain![plainSite] : undefined;
    const lineKey = plainEntry && plainEntry.length === 3 ? `${plainEntry[1]} ${plainEntry[2]}` : 'none';
    let line = withLines ? byLine.get(lineKey) : undefined;
    if (withLines && !line) {
      line = { file: plainEntry?.length === 3 ? plainEntry[1] : null, line: plainEntry?.length === 3 ? plainEntry[2] : null, functions: new Set(), experiments: 0, counts: new Map() };
      byLine.set(lineKey, line);
    }
    if (line) {
      line.experiments++;
      if (plainEntry) line.functions.add(plainEntry[0]);
    }
    for (const [config, outcome] of Object.entries(record.outcomes) as Array<[ConfigName, { outcome: OutcomeName }]>) {
      const variant = CONFIG_PARTS[config].variant;
      // A hardened configuration's experiment landed elsewhere in its own build: attributed there.
      const site = variant === firstBuild ? own : siteOf(record, variant);
      const entry = site === undefined ? undefined : table.builds[variant]?.[site];
      const configKey = entry ? entry[0] : -1;
      let target = byFunction.get(configKey);
      if (!target) byFunction.set(configKey, (target = { experiments: 0, counts: new Map() }));
      countInto(target.counts, config, outcome.outcome);
      if (line && variant === 'plain') countInto(line.counts, config, outcome.outcome);
    }
  }
  const functions: FunctionAttribution[] = [...byFunction].map(([index, entry]) => {
    const place = index < 0 ? null : (table.places?.[index] ?? null);
    return {
      name: index < 0 ? null : table.functions[index],
      ...(place ? { file: table.files[place[0]], line: place[1] } : {}),
      experiments: entry.experiments,
      configs: tablesOf(entry.counts, configs),
    };
  });
  functions.sort((a, b) => b.experiments - a.experiments || (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff'));
  const result: Attribution = { targets: attributed, experiments, lines: table.lines, byFunction: functions };
  if (withLines) {
    const lines: LineAttribution[] = [...byLine.values()].map((entry) => ({
      file: entry.file === null ? null : table.files[entry.file],
      line: entry.line,
      functions: [...entry.functions].map((index) => table.functions[index]).sort(),
      experiments: entry.experiments,
      configs: tablesOf(entry.counts, configs),
    }));
    lines.sort((a, b) => b.experiments - a.experiments || (a.file ?? '\uffff').localeCompare(b.file ?? '\uffff') || (a.line ?? 0) - (b.line ?? 0));
    result.byLine = lines;
  }
  return result;
}

/** The site table of a campaign's builds, from each build's site sources. */
export function siteTableOf(
  builds: ReadonlyArray<{ variant: BuildVariant; siteSources: ReadonlyArray<{ function: string; file?: string; line?: number }> }>,
  lines: SiteTable['lines'],
  functionLines: ReadonlyMap<string, { file: string; line: number }>,
): SiteTable {
  const functions: string[] = [];
  const files: string[] = [];
  const indexIn = (list: string[], lookup: Map<string, number>, name: string) => {
    let index = lookup.get(name);
    if (index === undefined) {
      index = list.length;
      list.push(name);
      lookup.set(name, index);
    }
    return index;
  };
  const functionIndex = new Map<string, number>();
  const fileIndex = new Map<string, number>();
  const tables: SiteTable['builds'] = {};
  for (const build of builds) {
    tables[build.variant] = build.siteSources.map((site) => {
      const fn = indexIn(functions, functionIndex, site.function);
      return site.file !== undefined && site.line !== undefined ? [fn, indexIn(files, fileIndex, site.file), site.line] : [fn];
    });
  }
  const places = functions.map((name) => {
    const place = functionLines.get(name);
    return place ? ([indexIn(files, fileIndex, place.file), place.line] as const) : null;
  });
  return { functions, files, builds: tables, lines, ...(places.some((place) => place !== null) ? { places } : {}) };
}

/** Why a header's site table cannot be one, or null. */
export function siteTableProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object') return 'is not an object';
  const table = value as Record<string, unknown>;
  const names = (list: unknown) => Array.isArray(list) && list.every((name) => typeof name === 'string');
  if (!names(table.functions)) return 'functions is not a list of names';
  if (!names(table.files)) return 'files is not a list of names';
  if (table.lines !== null && table.lines !== 'dwarf' && table.lines !== 'source-map') return 'lines is not "dwarf", "source-map" or null';
  if (!table.builds || typeof table.builds !== 'object') return 'builds is not an object';
  const functions = (table.functions as string[]).length;
  const files = (table.files as string[]).length;
  if (table.places !== undefined) {
    const place = (entry: unknown) => entry === null || (Array.isArray(entry) && entry.length === 2 && entry.every((n) => Number.isSafeInteger(n) && n >= 0) && entry[0] < files);
    if (!Array.isArray(table.places) || table.places.length !== functions || !table.places.every(place)) return 'places is not a [file, line] or null per function';
  }
  for (const [variant, sites] of Object.entries(table.builds as Record<string, unknown>)) {
    if (!Array.isArray(sites)) return `builds.${variant} is not a list`;
    for (let i = 0; i < sites.length; i++) {
      const site = sites[i] as unknown;
      const ok =
        Array.isArray(site) &&
        (site.length === 1 || site.length === 3) &&
        site.every((n) => Number.isSafeInteger(n) && n >= 0) &&
        site[0] < functions &&
        (site.length === 1 || site[1] < files);
      if (!ok) return `builds.${variant}[${i}] is not [function] or [function, file, line] of the lists`;
    }
  }
  return null;
}

/** The functions struck most, as the campaign's table prints them: experiments and the silent rate per configuration. */
export function formatAttribution(attribution: Pick<Attribution, 'targets' | 'experiments' | 'lines' | 'byFunction'>, configs: readonly ConfigName[], most = 10): string {
  const width = 28;
  const label = (entry: FunctionAttribution) => `${entry.name ?? '(no instruction struck)'}${entry.file !== undefined ? ` ${entry.file}:${entry.line}` : ''}`;
  const nameWidth = Math.min(72, Math.max(20, ...attribution.byFunction.slice(0, most).map((entry) => label(entry).length)));
  const silent = (entry: FunctionAttribution, config: ConfigName) => {
    const table = entry.configs[config];
    if (!table || table.experiments === 0) return '—';
    const [lo, hi] = table.silent.ci95;
    return `${table.silent.count}/${table.experiments} [${(lo * 100).toFixed(1)}, ${(hi * 100).toFixed(1)}]%`;
  };
  const lines = [
    `  by function (${attribution.targets.join(', ')}: ${attribution.experiments} experiments${attribution.lines ? `; lines from the ${attribution.lines === 'dwarf' ? 'DWARF line tables' : 'source map'}` : ''}), sdc + pointing per configuration`,
    `    ${'function'.padEnd(nameWidth)} ${'experiments'.padStart(11)}${configs.map((config) => config.padStart(width)).join('')}`,
  ];
  for (const entry of attribution.byFunction.slice(0, most)) {
    lines.push(`    ${label(entry).slice(0, nameWidth).padEnd(nameWidth)} ${String(entry.experiments).padStart(11)}${configs.map((config) => silent(entry, config).padStart(width)).join('')}`);
  }
  if (attribution.byFunction.length > most) lines.push(`    … ${attribution.byFunction.length - most} more functions in the JSON summary (byFunction)`);
  return lines.join('\n');
}
