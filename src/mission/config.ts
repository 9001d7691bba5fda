// The mission a run flies: which spacecraft, which flight software, how the flight computer is built
// and timed, and which upsets strike. One zod schema is the single source of truth: it validates config
// files and command-line options alike, fills defaults, and names the field at fault in every error.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeZodIssue } from '../input-errors.js';

export const missionSchema = z
  .object({
    scenario: z.enum(['reference', 'large']).default('reference').describe('spacecraft and manoeuvre (shared/reference-scenario.md)'),
    duration: z.number().positive().max(1e7).optional().describe('mission length, s (default: the scenario\'s)'),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1).describe('seed of every random stream of the run'),
    fsw: z.string().min(1).optional().describe('flight-software module (.wasm); default: the reference AssemblyScript build'),
    spare: z.enum(['hot', 'cold', 'none']).default('hot').describe('hot: checkpointed spare; cold: boots from the initial image; none'),
    compareState: z.boolean().default(true).describe('compare the cores\' whole state each cycle, not only outputs'),
    clockHz: z.number().positive().max(1e12).default(10e6).describe('modelled CPU speed, instructions per second'),
    watchdogFraction: z.number().gt(0).max(1).default(0.4).describe('instruction budget of a cycle, as a fraction of the control period at clockHz'),
    checkpointBytesPerSecond: z.number().positive().default(20e6).describe('modelled speed of loading a checkpoint into the spare'),
    checkpointInterval: z.number().int().min(1).max(1000).default(16).describe('cycles per checkpoint epoch: state compared and committed at its end, outputs every cycle'),
    coldBootSeconds: z.number().min(0).max(3600).default(1).describe('time a cold spare needs to boot before it can fly, s'),
    memoryLimitPages: z.number().int().min(1).max(65536).default(16).describe('largest linear memory of a core, 64 KiB pages'),
    upsets: z
      .object({
        count: z.number().int().min(0).max(1_000_000).optional().describe('random upsets spread uniformly over the mission'),
        ratePerBitPerDay: z.number().min(0).max(1).optional().describe('random upsets as a Poisson process, per bit per day'),
        file: z.string().min(1).optional().describe('scripted upsets (JSON: { "upsets": [...] })'),
        targets: z.array(z.enum(['memory', 'global', 'checkpoint'])).min(1).default(['memory', 'global', 'checkpoint']),
        width: z.number().int().min(1).max(64).default(1).describe('adjacent bits per random upset'),
      })
      .strict()
      .default({ count: 20, targets: ['memory', 'global', 'checkpoint'], width: 1 }),
  })
  .strict();

export type MissionInput = z.input<typeof missionSchema>;
export type Mission = z.output<typeof missionSchema>;

export class ConfigError extends Error {}

export function parseMission(input: unknown, source: string): Mission {
  const parsed = missionSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(describeZodIssue(source, parsed.error.issues[0]));
  const mission = parsed.data;
  const upsets = mission.upsets;
  const sources = [upsets.count !== undefined, upsets.ratePerBitPerDay !== undefined, upsets.file !== undefined].filter(Boolean).length;
  if (sources > 1) throw new ConfigError(`${source}: upsets: give one of count, ratePerBitPerDay or file`);
  return mission;
}

export function readMissionFile(path: string): MissionInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text) as MissionInput;
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}
