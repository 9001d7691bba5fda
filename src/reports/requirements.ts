// The CI gates: a flight's or a campaign's results judged against its requirements, one verdict per
// requirement with the ID the mission file gave it. The verdicts go into the JSON summaries and the JUnit
// file; the command line turns the failed ones into an exit code (src/cli/errors.ts).
import { CONFIGS, type ConfigName } from '../campaign/experiment.js';
import type { CampaignSummary } from '../campaign/summary.js';
import { ConfigError, type Mission } from '../mission/config.js';
import { FLIGHT_REQUIREMENTS, type FlightRequirement, type RequirementName } from '../mission/requirements.js';

export type RequirementStatus = 'met' | 'not-met' | 'not-evaluated' | 'waived';

export interface RequirementVerdict {
  /** Which gate: undetectedDivergence, pointing, missedDeadlines, commandStream or silentFailures. */
  requirement: RequirementName;
  /** The ID the mission file gave it (`requirements.<name>.id`), or null. */
  id: string | null;
  /** silentFailures: the protection configuration the bound is about. */
  config?: string;
  /**
   * met, not-met; not-evaluated when the run cannot show it (a mission shorter than the settling time, a
   * configuration with no experiment); waived when it was not met but the mission or --waive waived it.
   */
  status: RequirementStatus;
  /** What was measured against what was required, one line. */
  detail: string;
}

/** Limits and waivers the command line (or a library caller) gives on top of the mission file's. */
export interface FlightGateOptions {
  /** Most missed deadlines allowed: overrides `requirements.missedDeadlines.max`. */
  readonly maxMissed?: number;
  /** Requirements judged but not failing the run. */
  readonly waive?: readonly FlightRequirement[];
}

/** What a flight's gates read from its summary. */
export interface JudgedFlight {
  spare: string;
  missedDeadlines: number;
  undetectedDivergences: number;
  undetectedDivergentCycles: number;
  pointing: { requirementDeg: number; settleTimeS: number; maxErrorDegAfterSettling: number; met: boolean; evaluated: boolean };
  /** Absent for a flight with no fault-free reference (hil): that gate is then not judged at all. */
  matchesFaultFree?: boolean;
  commandDigest: string;
  faultFreeCommandDigest?: string;
}

/** Most missed deadlines allowed by default: none with a hot spare; without one, losing cycles is what the mode costs. */
export function defaultMaxMissed(spare: string): number | null {
  return spare === 'hot' ? 0 : null;
}

export function judgeFlight(flight: JudgedFlight, mission: Pick<Mission, 'requirements'>, options: FlightGateOptions = {}): RequirementVerdict[] {
  const given = mission.requirements ?? {};
  const verdicts: RequirementVerdict[] = [];
  const verdict = (requirement: FlightRequirement, met: boolean | null, detail: string) => {
    const waived = Boolean(given[requirement]?.waived) || Boolean(options.waive?.includes(requirement));
    const status: RequirementStatus = met === null ? 'not-evaluated' : met ? 'met' : waived ? 'waived' : 'not-met';
    verdicts.push({ requirement, id: given[requirement]?.id ?? null, status, detail });
  };
  for (const requirement of FLIGHT_REQUIREMENTS) {
    if (requirement === 'undetectedDivergence') {
      const n = flight.undetectedDivergences;
      verdict(requirement, n === 0, n === 0 ? 'no upset changed released commands unseen' : `${n} upset${n === 1 ? '' : 's'} changed released commands unseen (${flight.undetectedDivergentCycles} cycles)`);
    } else if (requirement === 'pointing') {
      const p = flight.pointing;
      verdict(
        requirement,
        p.evaluated ? p.met : null,
        p.evaluated
          ? `max ${p.maxErrorDegAfterSettling.toPrecision(3)}° after ${p.settleTimeS} s ${p.met ? 'within' : 'exceeds'} the ${p.requirementDeg}° required`
          : `the mission ends before the settling time (${p.settleTimeS} s)`,
      );
    } else if (requirement === 'missedDeadlines') {
      const max = options.maxMissed ?? given.missedDeadlines?.max ?? defaultMaxMissed(flight.spare);
      const n = flight.missedDeadlines;
      verdict(requirement, max === null || n <= max, `${n} missed deadline${n === 1 ? '' : 's'}, ${max === null ? `no limit (spare ${flight.spare})` : `at most ${max} allowed`}`);
    } else if (flight.matchesFaultFree !== undefined) {
      verdict(
        requirement,
        flight.matchesFaultFree,
        flight.matchesFaultFree ? 'identical to the fault-free run' : `${flight.commandDigest.slice(0, 16)}… differs from the fault-free run's ${flight.faultFreeCommandDigest?.slice(0, 16)}…`,
      );
    }
  }
  return verdicts;
}

/** The largest allowed upper end of each configuration's silent-failure interval, from the mission and --max-silent. */
export type SilentLimits = Readonly<Partial<Record<ConfigName, number>>>;

/**
 * The bounds a campaign is judged against: the mission file's (`requirements.silentFailures.max`, whose
 * configuration names are checked here: the mission schema sits below the campaign's vocabulary),
 * overridden per configuration by `overrides` (--max-silent).
 */
export function silentLimitsOf(mission: Pick<Mission, 'requirements'>, source: string, overrides: SilentLimits = {}): SilentLimits {
  const limits: Partial<Record<ConfigName, number>> = {};
  for (const [config, rate] of Object.entries(mission.requirements?.silentFailures?.max ?? {})) {
    if (!CONFIGS.includes(config as ConfigName)) throw new ConfigError(`${source}: requirements.silentFailures.max.${config}: not a configuration (${CONFIGS.join(', ')})`);
    limits[config as ConfigName] = rate;
  }
  return { ...limits, ...overrides };
}

/**
 * Campaign gates: per configuration with a bound, the upper end of the 95% interval the campaign reports
 * for its silent failures (Clopper–Pearson, two-sided: a 97.5% one-sided bound, so the gate errs on the
 * side of failing) against the bound.
 */
export function judgeCampaign(summary: CampaignSummary, limits: SilentLimits, id: string | null): RequirementVerdict[] {
  return (Object.entries(limits) as Array<[ConfigName, number]>).map(([config, max]) => {
    const entry = summary.configs[config];
    if (!entry || entry.experiments === 0) return { requirement: 'silentFailures', id, config, status: 'not-evaluated', detail: `no experiment of ${config}` };
    const upper = entry.silent.ci95[1];
    const met = upper <= max;
    return {
      requirement: 'silentFailures',
      id,
      config,
      status: met ? 'met' : 'not-met',
      detail: `${entry.silent.count} silent in ${entry.experiments}, 95% interval up to ${upper.toPrecision(3)}, ${met ? 'within' : 'above'} the ${max} allowed`,
    };
  });
}

/** The verdicts that fail the run. */
export function failed(verdicts: readonly RequirementVerdict[]): RequirementVerdict[] {
  return verdicts.filter((verdict) => verdict.status === 'not-met');
}

/** Requirements not met: the command line exits with the code of the most severe (src/cli/errors.ts). */
export class RequirementsNotMetError extends Error {
  constructor(readonly verdicts: readonly RequirementVerdict[]) {
    super(`requirement${verdicts.length === 1 ? '' : 's'} not met: ${verdicts.map(describeVerdict).join('; ')}`);
  }
}

/** `ID requirement config`: how a verdict is named in messages, the summary and JUnit. */
export function verdictName(verdict: RequirementVerdict): string {
  return `${verdict.id ? `${verdict.id} ` : ''}${verdict.requirement}${verdict.config ? ` ${verdict.config}` : ''}`;
}

export function describeVerdict(verdict: RequirementVerdict): string {
  return `${verdictName(verdict)}: ${verdict.detail}`;
}

/** The lines of the human summary: a count, and a line for each requirement not plainly met. */
export function formatVerdicts(verdicts: readonly RequirementVerdict[]): string[] {
  if (verdicts.length === 0) return [];
  const word: Record<RequirementStatus, string> = { met: 'met', 'not-met': 'NOT MET', 'not-evaluated': 'not evaluated', waived: 'not met, waived' };
  const counts = (Object.keys(word) as RequirementStatus[]).map((status) => [status, verdicts.filter((verdict) => verdict.status === status).length] as const).filter(([, n]) => n > 0);
  const head = counts.length === 1 && counts[0][0] === 'met' ? `all ${verdicts.length} met` : counts.map(([status, n]) => `${n} ${word[status]}`).join(', ');
  return [
    `  requirements         ${head}`,
    ...verdicts
      .filter((verdict) => verdict.status !== 'met')
      .map((verdict) => `    ${`${verdictName(verdict)} `.padEnd(20)}${word[verdict.status]}: ${verdict.detail}`),
  ];
}
