// The requirements a mission file may name for the CI gates of `fly`, `hil` and `campaign`: each gate's
// requirement ID (carried into the JSON and JUnit outputs), whether it is waived, and the limits a gate
// takes from the file (missed deadlines, silent-failure rates per configuration). Kept apart from the
// mission schema so that the gates stay one additive field of it.
import { z } from 'zod';

const requirementId = z.string().min(1).max(200).describe('your requirement ID (e.g. "ADCS-012"), carried into the JSON and JUnit outputs');
const waived = z.boolean().describe('evaluated and reported, but never failing the run (JUnit: skipped)');

const gate = (description: string) =>
  z.object({ id: requirementId.optional(), waived: waived.optional() }).strict().describe(description);

export const requirementsSchema = z
  .object({
    undetectedDivergence: gate('no upset changes released commands unseen').optional(),
    pointing: gate('the pointing requirement (pointing.requirementDeg after pointing.settleTime) is met').optional(),
    missedDeadlines: z
      .object({
        id: requirementId.optional(),
        waived: waived.optional(),
        max: z.number().int().min(0).optional().describe('most missed deadlines allowed (default 0 with a hot spare, no limit without one); --max-missed overrides it'),
      })
      .strict()
      .optional()
      .describe('missed deadlines stay within max'),
    commandStream: gate('the released commands equal those of the fault-free run, bit for bit').optional(),
    silentFailures: z
      .object({
        id: requirementId.optional(),
        max: z
          .record(z.string(), z.number().min(0).max(1))
          .optional()
          .describe('per protection configuration ("pair+spare"), the largest allowed upper end of the 95% interval of its silent-failure rate; --max-silent overrides it'),
      })
      .strict()
      .optional()
      .describe('campaign: silent failures (sdc and pointing violations) per configuration stay below their bound'),
  })
  .strict()
  .describe('requirement IDs and limits of the CI gates: fly, hil and campaign exit non-zero when one is not met');

export type Requirements = z.output<typeof requirementsSchema>;

/** The flight gates, in the order of their exit codes (most severe first). */
export const FLIGHT_REQUIREMENTS = ['undetectedDivergence', 'pointing', 'missedDeadlines', 'commandStream'] as const;
export type FlightRequirement = (typeof FLIGHT_REQUIREMENTS)[number];
export type RequirementName = FlightRequirement | 'silentFailures';
