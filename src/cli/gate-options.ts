// The CI gates' options shared by `fly` and `hil`: --max-missed, --waive and --junit, and the end of a run
// that did not meet its requirements (exit code of the most severe, src/cli/errors.ts).
import type { Command } from 'commander';
import { FLIGHT_REQUIREMENTS, type FlightRequirement } from '../mission/requirements.js';
import { failed, RequirementsNotMetError, type FlightGateOptions, type RequirementVerdict } from '../reports/requirements.js';
import { UsageError } from './errors.js';
import { integerOption, listOption } from './options.js';

export interface GateCommandOptions {
  maxMissed?: number;
  waive?: string[];
  junit?: string;
}

export function addGateOptions(command: Command): Command {
  return command
    .option('--max-missed <n>', 'most missed deadlines allowed (default: 0 with a hot spare, no limit without one)', integerOption('--max-missed', 0))
    .option('--waive <list>', `requirements judged but not failing the run: ${FLIGHT_REQUIREMENTS.join(',')}`, listOption)
    .option('--junit <file.xml>', 'write JUnit XML: one test case per requirement');
}

export function gatesOf(options: GateCommandOptions): FlightGateOptions {
  for (const name of options.waive ?? []) {
    if (!FLIGHT_REQUIREMENTS.includes(name as FlightRequirement)) throw new UsageError(`--waive: "${name}" is not one of ${FLIGHT_REQUIREMENTS.join(', ')}`);
  }
  return { maxMissed: options.maxMissed, waive: options.waive as FlightRequirement[] | undefined };
}

/** Ends a run whose outputs are written: throws if a requirement is not met. */
export function enforce(verdicts: readonly RequirementVerdict[]): void {
  const notMet = failed(verdicts);
  if (notMet.length > 0) throw new RequirementsNotMetError(notMet);
}
