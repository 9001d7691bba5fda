// The inputs of a trade study besides the campaign: environment, hardware, health policy and mission, in the
// units reliability engineers quote (upsets per bit per day, FIT, hours, years), each checked by name.
import { TradeStudyInputError } from './errors.js';

export const HOURS_PER_YEAR = 8766; // 365.25 days
export const HOURS_PER_DAY = 24;

/** Which upset outcomes end the mission: every silent corruption (sdc, pointing violation), or only pointing violations. */
export type FatalOutcomes = 'silent' | 'pointing';
export const FATAL_CHOICES: readonly FatalOutcomes[] = ['silent', 'pointing'];

export interface HealthPolicy {
  /** A processor with this many detections within `windowHours` is declared failed, never reintegrated (0: never). */
  readonly failThreshold: number;
  readonly windowHours: number;
  /** Mean hours to repair (power-cycle and reintegrate) a processor with a permanent fault; null: no repair. */
  readonly repairHours: number | null;
}

export interface StudyParameters {
  readonly upsetRatePerBitPerDay: number;
  /** Permanent failures per 10⁹ hours of one core; a processor of k cores fails at k × this. */
  readonly fitPerCore: number;
  /** A powered-off (cold) spare fails at this fraction of the powered rate. */
  readonly dormantFactor: number;
  readonly policy: HealthPolicy;
  readonly missionYears: number;
  readonly fatal: FatalOutcomes;
  readonly controlPeriodSeconds: number;
  readonly coldBootSeconds: number;
}

function check(ok: boolean, option: string, value: unknown, allowed: string): void {
  if (!ok) throw new TradeStudyInputError(`${option} must be ${allowed}, not ${value}`);
}

/** Refuses parameters that mean nothing (negative rates, a mission of no time), naming the option. */
export function checkParameters(p: StudyParameters): void {
  const finite = (value: number) => Number.isFinite(value);
  check(finite(p.upsetRatePerBitPerDay) && p.upsetRatePerBitPerDay >= 0 && p.upsetRatePerBitPerDay <= 1, '--upset-rate', p.upsetRatePerBitPerDay, 'from 0 to 1 upsets per bit per day');
  check(finite(p.fitPerCore) && p.fitPerCore >= 0 && p.fitPerCore <= 1e9, '--fit', p.fitPerCore, 'from 0 to 1e9 failures per 10⁹ hours');
  check(finite(p.dormantFactor) && p.dormantFactor >= 0 && p.dormantFactor <= 1, '--dormant-factor', p.dormantFactor, 'from 0 to 1');
  check(finite(p.missionYears) && p.missionYears > 0 && p.missionYears <= 100, '--years', p.missionYears, 'more than 0 and at most 100');
  check(Number.isSafeInteger(p.policy.failThreshold) && p.policy.failThreshold >= 0, '--fail-threshold', p.policy.failThreshold, 'a whole number ≥ 0 (0: never)');
  check(finite(p.policy.windowHours) && p.policy.windowHours > 0, '--fail-window', p.policy.windowHours, 'a positive number of hours');
  if (p.policy.repairHours !== null) check(finite(p.policy.repairHours) && p.policy.repairHours > 0, '--repair-hours', p.policy.repairHours, 'a positive number of hours');
  check(finite(p.controlPeriodSeconds) && p.controlPeriodSeconds > 0 && p.controlPeriodSeconds <= 10, '--period', p.controlPeriodSeconds, 'more than 0 and at most 10 s');
  check(finite(p.coldBootSeconds) && p.coldBootSeconds >= 0 && p.coldBootSeconds <= 3600, '--cold-boot', p.coldBootSeconds, 'from 0 to 3600 s');
  check(FATAL_CHOICES.includes(p.fatal), '--fatal', p.fatal, FATAL_CHOICES.join(' or '));
}

/** Permanent failure rate of one core, per hour. */
export function coreFailureRatePerHour(p: StudyParameters): number {
  return p.fitPerCore * 1e-9;
}

/** Control cycles a cold spare's boot holds the commands for. */
export function coldBootCycles(p: StudyParameters): number {
  return Math.ceil(p.coldBootSeconds / p.controlPeriodSeconds - 1e-9);
}
