// User mistakes and how the CLI answers them: one line naming the file, field or export at fault, and a
// distinct exit code per kind of mistake, never a stack trace. Anything else is a bug of lockstep and is
// reported as such (with its stack, exit code 1).
import { IncompleteResultsError, ResultsFileError } from '../campaign/results-file.js';
import { CampaignOptionError } from '../campaign/run.js';
import { ConfigError } from '../mission/config.js';
import { FlightSoftwareError } from '../mission/fly.js';
import { ModuleError } from '../passes/index.js';
import { OutputError } from '../output/files.js';
import { FaultError } from '../faults/fault.js';
import { UpsetFileError } from '../faults/upset-file.js';
import { AcProtocolError, type AcProtocolErrorKind } from '../hil/ac-errors.js';
import { MappingError } from '../hil/mapping.js';
import { Nasa42BuildError } from '../hil/nasa42-build.js';
import { Nasa42RunError } from '../hil/nasa42-run.js';
import { Nasa42TruthError } from '../hil/nasa42-truth.js';
import type { RequirementName } from '../mission/requirements.js';
import { RequirementsNotMetError } from '../reports/requirements.js';
import { TradeStudyInputError } from '../tradestudy/errors.js';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  module: 4,
  upsets: 5,
  flightSoftware: 6,
  output: 7,
  results: 8,
  incomplete: 9,
  nasa42: 10,
  /** 42 broke the protocol otherwise: a bad acknowledgement, more than a message, a step past the mission, silence. */
  peer: 11,
  /** Nothing accepted the connection (no 42 on that port). */
  peerRefused: 12,
  /** 42 closed the connection in the middle of the run (it died). */
  peerClosed: 13,
  /** A message stopped short. */
  peerShort: 14,
  /** Absurd array sizes, buffer lengths or table parameters. */
  peerAbsurd: 15,
  // The CI gates, numbered from the most severe: when several fail, the run exits with the lowest.
  /** fly, hil: an upset changed released commands unseen (the protection failed silently). */
  undetectedDivergence: 16,
  /** fly, hil: the pointing requirement is not met (the mission's own requirement). */
  pointing: 17,
  /** fly, hil: more missed deadlines than --max-missed. */
  missedDeadlines: 18,
  /** fly: the released commands differ from the fault-free run's. */
  commandStream: 19,
  /** campaign: the upper end of a configuration's silent-failure interval is above --max-silent. */
  silentFailures: 20,
} as const;

const REQUIREMENT_EXIT: Readonly<Record<RequirementName, number>> = {
  undetectedDivergence: EXIT.undetectedDivergence,
  pointing: EXIT.pointing,
  missedDeadlines: EXIT.missedDeadlines,
  commandStream: EXIT.commandStream,
  silentFailures: EXIT.silentFailures,
};

const PEER_EXIT: Readonly<Record<AcProtocolErrorKind, number>> = {
  refused: EXIT.peerRefused,
  closed: EXIT.peerClosed,
  short: EXIT.peerShort,
  sizes: EXIT.peerAbsurd,
  lengths: EXIT.peerAbsurd,
  table: EXIT.peerAbsurd,
  timeout: EXIT.peer,
  ack: EXIT.peer,
  excess: EXIT.peer,
};

export class UsageError extends Error {}

export function exitCodeFor(error: unknown): number | null {
  if (error instanceof UsageError || error instanceof CampaignOptionError) return EXIT.usage;
  if (error instanceof ConfigError) return EXIT.config;
  // A trade study's inputs (campaign summary, rates, policy) are the mission's, like its file.
  if (error instanceof TradeStudyInputError) return EXIT.config;
  if (error instanceof ModuleError) return EXIT.module;
  if (error instanceof UpsetFileError || error instanceof FaultError) return EXIT.upsets;
  if (error instanceof FlightSoftwareError) return EXIT.flightSoftware;
  if (error instanceof OutputError) return EXIT.output;
  if (error instanceof ResultsFileError) return EXIT.results;
  if (error instanceof IncompleteResultsError) return EXIT.incomplete;
  if (error instanceof Nasa42BuildError || error instanceof Nasa42RunError || error instanceof Nasa42TruthError) return EXIT.nasa42;
  if (error instanceof AcProtocolError) return PEER_EXIT[error.kind];
  // A mapping naming a field 42 does not send is the mission file's mistake.
  if (error instanceof MappingError) return EXIT.config;
  if (error instanceof RequirementsNotMetError) return Math.min(...error.verdicts.map((verdict) => REQUIREMENT_EXIT[verdict.requirement]));
  return null;
}
