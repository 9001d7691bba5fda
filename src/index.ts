// lockstep as a library (`import { fly } from 'lockstep'`): the functions the commands call, for
// flight-software teams testing from their own suites. Thin: each is what its command does, without the
// terminal and the files. Documented in docs/library.md.
import { runCampaign, type CampaignRequest, type CampaignRun } from './campaign/run.js';
import { hardenModule, type HardenOptions, type HardenResult } from './harden.js';
import { parseMission, readMissionFile, type Mission, type MissionInput } from './mission/config.js';
import { prepareFlight } from './mission/fly.js';
import { inspectFlightModule, type InspectResult } from './mission/inspect.js';
import { flyMission, type FlyMissionOptions } from './reports/flight.js';
import type { FlySummary } from './reports/flight-summary.js';
import { judgeCampaign, silentLimitsOf, type RequirementVerdict, type SilentLimits } from './reports/requirements.js';
import { campaignHeading, campaignReportHtml } from './reports/html/campaign-report.js';
import { flightReportHtml } from './reports/html/flight-report.js';
import { FlightSeriesRecorder } from './reports/html/flight-series.js';

/** A mission: the object a mission file holds (schema/mission.schema.json), or the path of a mission file. */
export type MissionSource = MissionInput | string;

function missionOf(source: MissionSource | undefined): { mission: Mission; name: string } {
  if (typeof source === 'string') return { mission: parseMission(readMissionFile(source), source), name: source };
  return { mission: parseMission(source ?? {}, 'mission'), name: 'mission' };
}

export interface FlyOptions extends FlyMissionOptions {
  /** Default: the reference mission with 20 random upsets, as `lockstep fly`. */
  readonly mission?: MissionSource;
}

/**
 * Flies a mission as `lockstep fly` does: a fault-free reference run, then the run with the upsets and a
 * fault-free oracle beside it, and the summary of `fly --json` with each requirement's verdict. A
 * requirement not met is a verdict in `requirements`, not an exception.
 * @throws ConfigError (a bad mission), ModuleError (a bad module), UpsetFileError, FlightSoftwareError (software failing with no upset)
 */
export function fly(options: FlyOptions = {}): FlySummary {
  const { mission, name } = missionOf(options.mission);
  return flyMission(prepareFlight(mission, undefined, name), options);
}

/**
 * Flies a mission as `fly()` does and writes, beside the summary, the HTML report of `fly --report`: one
 * self-contained page (docs/reports.md), the same bytes for the same mission.
 * @throws as `fly()`
 */
export function flyWithReport(options: FlyOptions = {}): { summary: FlySummary; html: string } {
  const recorder = new FlightSeriesRecorder();
  const summary = fly({
    ...options,
    onTelemetry: (row) => {
      recorder.add(row);
      options.onTelemetry?.(row);
    },
  });
  return { summary, html: flightReportHtml(summary, recorder.series()) };
}

export interface CampaignOptions extends Omit<CampaignRequest, 'mission' | 'missionFile' | 'source' | 'openResults' | 'durationGiven'> {
  /** The mission the experiments are drawn from (its upsets are ignored). Default: the reference mission. */
  readonly mission?: MissionSource;
  /** Bounds on the upper end of each configuration's silent-failure interval, over the mission file's. */
  readonly maxSilent?: SilentLimits;
}

/** What `campaign --json` writes, with the verdict of each silent-failure bound. */
export type CampaignResult = CampaignRun['report'] & { requirements: RequirementVerdict[] };

/**
 * Runs a fuzz upset-injection campaign as `lockstep campaign` does (without a results file): experiments
 * of one fault each, classified under each protection configuration, with 95% intervals.
 * @throws CampaignOptionError (an option out of range, named by its flag), ConfigError, ModuleError, FlightSoftwareError
 */
export async function campaign(options: CampaignOptions = {}): Promise<CampaignResult> {
  return (await runLibraryCampaign(options)).result;
}

/**
 * Runs a campaign as `campaign()` does and writes, beside its result, the HTML report of
 * `campaign --report` (docs/reports.md).
 * @throws as `campaign()`
 */
export async function campaignWithReport(options: CampaignOptions = {}): Promise<{ result: CampaignResult; html: string }> {
  const { result, run } = await runLibraryCampaign(options);
  const html = campaignReportHtml({ report: run.report, summary: run.summary, records: run.records, requirements: result.requirements, heading: campaignHeading(run.report) });
  return { result, html };
}

async function runLibraryCampaign(options: CampaignOptions): Promise<{ result: CampaignResult; run: CampaignRun }> {
  const { mission: source, maxSilent, ...request } = options;
  const input = typeof source === 'string' ? readMissionFile(source) : (source ?? {});
  const name = typeof source === 'string' ? source : 'mission';
  const mission = parseMission({ ...input, upsets: { count: 0 } }, name);
  const limits = silentLimitsOf(mission, name, maxSilent);
  const run = await runCampaign({ ...request, mission: input, source: name, missionFile: typeof source === 'string' ? source : undefined });
  return { result: { ...run.report, requirements: judgeCampaign(run.summary, limits, mission.requirements?.silentFailures?.id ?? null) }, run };
}

/**
 * Adds SWIFT or EDDI to a WebAssembly module, as `lockstep harden` does.
 * @throws HardenOptionsError (a bad option), ModuleError (a module that is not valid WebAssembly)
 */
export function harden(module: Uint8Array, options: HardenOptions): HardenResult {
  return hardenModule(module, options);
}

export interface InspectOptions {
  /** Its channel map and memory limit apply. Default: the reference mission. */
  readonly mission?: MissionSource;
  /** Cycles flown to measure the cost of a cycle (default 100). */
  readonly cycles?: number;
  /** Also count the instructions of each function per cycle (`profile` in the result), as `inspect --profile`. */
  readonly profile?: boolean;
}

/**
 * Checks a flight-software module against the ABI, as `lockstep inspect` does: `conforms` and `problems`
 * say whether it may fly (failing with no upset is one of the problems).
 * @throws ModuleError (a file that cannot be read or is not WebAssembly), ConfigError
 */
export function inspect(file: string, options: InspectOptions = {}): InspectResult {
  const { mission } = missionOf(options.mission ?? { upsets: { count: 0 } });
  return inspectFlightModule(file, mission, options.cycles ?? 100, { profile: options.profile }).result;
}

export { CampaignOptionError } from './campaign/run.js';
export { HardenOptionsError } from './harden.js';
export { ConfigError } from './mission/config.js';
export { FlightSoftwareError } from './mission/fly.js';
export { ModuleError } from './passes/index.js';
export { UpsetFileError } from './faults/upset-file.js';
export { FaultError } from './faults/fault.js';
export { ReportAssetError } from './reports/html/page.js';
export { missionJsonSchema, type Mission, type MissionInput } from './mission/config.js';

export type { FlySummary, RunSummary } from './reports/flight-summary.js';
export type { HealthSummary } from './computer/health.js';
export type { HilSummary } from './reports/hil-summary.js';
export type { RequirementVerdict, RequirementStatus, SilentLimits, FlightGateOptions } from './reports/requirements.js';
export type { RequirementName, FlightRequirement, Requirements } from './mission/requirements.js';
export type { DebugOutputSummary, FlightEvent, TelemetryRow } from './mission/fly.js';
export type { CampaignReport } from './campaign/report.js';
export type { CampaignSummary, ConfigSummary, OutcomeTable } from './campaign/summary.js';
export type { CountSummary } from './campaign/statistics.js';
export type { ConfigName, OutcomeName, Target, FaultyCore } from './campaign/experiment.js';
export type { CampaignRequest } from './campaign/run.js';
export type { InspectResult, CycleCost, FunctionProfile } from './mission/inspect.js';
export type { Attribution, FunctionAttribution, LineAttribution, AttributedOutcomes } from './campaign/attribution.js';
export type { HardenOptions, HardenResult, HardenReport } from './harden.js';
export type { FlyMissionOptions } from './reports/flight.js';
