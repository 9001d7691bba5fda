// The mission a run flies: the spacecraft and its sensors, wheels and rates, the manoeuvre and the
// pointing requirement, the flight software and its bus channel map, how the flight computer is built
// and timed, and which upsets strike. One zod schema is the single source of truth: it validates mission
// files and command-line options alike, fills defaults, names the field at fault in every error, and is
// published as a JSON Schema (schema/mission.schema.json) so that editors complete and check missions.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { describeHardenings, HARDENING_NAMES } from '../hardenings.js';
import { INPUT_CHANNELS, OUTPUT_CHANNELS } from '../abi/channels.js';
import { describeZodIssue } from '../input-errors.js';
import { DEFAULT_LINK } from '../spare/link.js';
import { REPLICATION_MODES } from '../spare/persistent-store.js';
import { DEFAULT_MAX_ROUNDS, REINTEGRATION_MODES } from '../spare/reintegration.js';
import { FAULT_KINDS, RANDOM_TARGETS } from '../faults/fault.js';
import { requirementsSchema } from './requirements.js';
import { largeScenario, referenceScenario, type Scenario } from '../plant/scenario.js';
import type { Quat, Vec3 } from '../plant/quaternion.js';

const finite = () => z.number().finite();
const vec3 = (description: string) => z.tuple([finite(), finite(), finite()]).describe(description);
const positiveVec3 = (description: string) => z.tuple([z.number().positive().finite(), z.number().positive().finite(), z.number().positive().finite()]).describe(description);
const quaternion = (description: string) =>
  z
    .tuple([finite(), finite(), finite(), finite()])
    .refine((q) => Math.abs(Math.hypot(...q) - 1) < 1e-6, { message: 'must be a unit quaternion [x, y, z, w] (norm 1 within 1e-6)' })
    .describe(description);

const spacecraftSchema = z
  .object({
    massKg: z.number().positive().finite().describe('mass, kg (reported; the attitude dynamics need only the inertia)'),
    inertia: positiveVec3('principal moments of inertia about body x, y, z, kg·m²'),
    wheels: z
      .object({
        maxTorque: z.number().positive().finite().describe('largest torque a wheel applies, N·m'),
        maxMomentum: z.number().positive().finite().describe('momentum at which a wheel saturates, N·m·s'),
        wheelInertia: z.number().positive().finite().describe('rotor inertia about its spin axis, kg·m²'),
      })
      .strict()
      .describe('three reaction wheels, one per body axis'),
    starTracker: z
      .object({
        noiseArcsec: z
          .tuple([z.number().min(0).finite(), z.number().min(0).finite(), z.number().min(0).finite()])
          .describe('noise 1σ about body x, y, z, arcsec (boresight along body z)'),
      })
      .strict(),
    gyro: z
      .object({
        noiseSigma: z.number().min(0).finite().describe('white noise 1σ per sample, rad/s'),
        biasSigma: z.number().min(0).finite().describe('1σ of the constant bias drawn per run, rad/s'),
        bias: vec3('a fixed bias instead of a drawn one, rad/s').optional(),
      })
      .strict(),
    initialAttitude: quaternion('attitude at launch, inertial to body, [x, y, z, w]'),
    initialRate: vec3('body rate at launch, rad/s'),
    initialWheelMomentum: vec3('wheel momentum at launch, N·m·s'),
  })
  .partial()
  .strict()
  .describe('overrides of the chosen scenario\'s spacecraft; omitted fields keep the scenario\'s values');

export const missionSchema = z
  .object({
    $schema: z.string().optional().describe('the JSON Schema of this file, for editors'),
    scenario: z.enum(['reference', 'large']).default('reference').describe('base spacecraft and manoeuvre: reference (100 kg, NASA 42 SC_Simple) or large (750 kg, Basilisk)'),
    spacecraft: spacecraftSchema.optional(),
    controlPeriod: z.number().positive().max(10).finite().optional().describe('control period, s (default 0.1: 10 Hz)'),
    substeps: z.number().int().min(1).max(1000).optional().describe('RK4 integration steps per control period'),
    targetAttitude: quaternion('commanded attitude, inertial to body, [x, y, z, w]').optional(),
    pointing: z
      .object({
        requirementDeg: z.number().positive().finite().describe('largest pointing error allowed once settled, degrees'),
        settleTime: z.number().min(0).finite().describe('mission time from which the requirement applies, s'),
      })
      .partial()
      .strict()
      .optional()
      .describe('the pointing requirement the run is judged against (default: the scenario\'s, 0.05° after settling)'),
    duration: z.number().positive().max(1e7).finite().optional().describe('mission length, s (default: the scenario\'s)'),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1).describe('seed of every random stream of the run (plant noise, upsets)'),
    fsw: z.string().min(1).optional().describe('flight-software module (.wasm); default: the reference AssemblyScript build'),
    channels: z
      .record(z.string(), z.string())
      .optional()
      .describe('bus channel map: module import name → bus channel, for flight software whose imports are named otherwise'),
    harden: z
      .enum(HARDENING_NAMES)
      .optional()
      .describe(`fly the flight software hardened: ${describeHardenings()}`),
    spare: z.enum(['hot', 'cold', 'none']).default('hot').describe('hot: loads the checkpoint and replays the epoch; cold: boots from the initial image; none: rolls back, the cycle is lost'),
    redundancy: z.enum(['pair', 'tmr']).default('pair').describe('pair: each processor is two cores in lock-step behind a comparator (with the spare); tmr: three cores (P1, P2, P3) vote 2 of 3 on outputs every cycle and on state at epoch ends, the outvoted one resynchronised from the majority, no rollback; the spare (P4, one core) replaces a voter declared failed'),
    lockstep: z.boolean().default(true).describe('two cores in lock-step behind a comparator per processor; false: one core each, no comparator (with spare none, what a campaign\'s single configuration flies)'),
    compareState: z.boolean().default(true).describe('compare the cores\' state at every epoch end, not only their outputs'),
    clockHz: z.number().positive().max(1e12).finite().default(10e6).describe('modelled CPU speed, instructions per second'),
    watchdogFraction: z.number().gt(0).max(1).default(0.4).describe('instruction budget of a cycle, as a fraction of the control period at clockHz'),
    checkpointBytesPerSecond: z.number().positive().finite().default(20e6).describe('modelled speed of loading a checkpoint into the spare, bytes/s'),
    link: z
      .object({
        bandwidthBytesPerSecond: z.number().positive().max(1e12).finite().default(DEFAULT_LINK.bandwidthBytesPerSecond).describe('payload bytes per second the cross-strap link between the processors carries (default 125000: 1 Mbit/s)'),
        latencySeconds: z.number().min(0).max(10).finite().default(DEFAULT_LINK.latencySeconds).describe('fixed time of one transfer over the link, s (default 1e-4)'),
        compression: z.enum(['predictive', 'xor-zero-run', 'none']).default('predictive').describe('how commits cross the link: predictive, each 8-byte word as its residual against a stride prediction from the last two commits (after FPC), or the zero runs where smaller; xor-zero-run, each dirty range as its XOR against the committed copy in zero runs (SecondSite); none, the raw bytes'),
      })
      .strict()
      .default({ bandwidthBytesPerSecond: DEFAULT_LINK.bandwidthBytesPerSecond, latencySeconds: DEFAULT_LINK.latencySeconds, compression: 'predictive' })
      .describe('the cross-strap link between the processors, which carries every checkpoint commit and reintegration'),
    persistentStore: z
      .object({
        replication: z
          .enum(REPLICATION_MODES)
          .default('sync')
          .describe('how writes to the flight software\'s persistent region reach the other processor: sync (DRBD protocol C: a cycle\'s commands wait for the replica), async (protocol A: they do not; writes in flight when the primary fails are lost) or off (a cold spare boots from the initial image)'),
      })
      .strict()
      .default({ replication: 'sync' })
      .describe('the replicated persistent store, for flight software that declares a persistent region (docs/abi.md)'),
    reintegration: z
      .enum(REINTEGRATION_MODES)
      .default('precopy')
      .describe('how a hot spare\'s failed processor comes back over the link: precopy, rounds in each period\'s slack while the primary flies, then the remainder at an epoch boundary; stop-and-copy, all at once while the primary stops; instant, at no cost (no link)'),
    reintegrationMaxRounds: z.number().int().min(1).max(100).default(DEFAULT_MAX_ROUNDS).describe('pre-copy rounds before the remainder is sent whatever its size'),
    health: z
      .object({
        failThreshold: z.number().int().min(0).max(1000).default(0).describe('detections within failWindowSeconds that declare a processor failed: never reintegrated, the computer degrades to simplex (0: no threshold)'),
        failWindowSeconds: z.number().positive().max(1e7).finite().default(3600).describe('the window of the fail count, s'),
        heartbeatCycles: z.number().int().min(1).max(100000).default(10).describe('a hot spare answers a heartbeat every this many cycles: a silent (dead) spare is noticed within this bound'),
      })
      .strict()
      .default({ failThreshold: 0, failWindowSeconds: 3600, heartbeatCycles: 10 })
      .describe('health management: fail counts with a threshold in a window (like Pacemaker\'s migration threshold), and the spare\'s heartbeat'),
    checkpointInterval: z.number().int().min(1).max(1000).default(16).describe('cycles per checkpoint epoch: state compared and committed at its end, outputs compared every cycle'),
    coldBootSeconds: z.number().min(0).max(3600).finite().default(1).describe('time a cold spare needs to boot before it can fly, s'),
    memoryLimitPages: z.number().int().min(1).max(65536).default(16).describe('largest linear memory of a core, 64 KiB pages'),
    upsets: z
      .object({
        count: z.number().int().min(0).max(1_000_000).optional().describe('random upsets spread uniformly over the mission'),
        ratePerBitPerDay: z.number().min(0).max(1).finite().optional().describe('random upsets as a Poisson process, per bit per day (RAD750 in GEO: 1e-11; COTS SRAM in LEO: 1e-9–1e-7)'),
        file: z.string().min(1).optional().describe('scripted upsets (JSON: { "upsets": [...] })'),
        targets: z.array(z.enum(RANDOM_TARGETS)).min(1).default(['memory', 'global', 'checkpoint']).describe('where random upsets strike (replica: the persistent store\'s replica, for flight software with a persistent region; link: the bits the cross-strap link carries in a period, which strike what is in transit)'),
        width: z.number().int().min(1).max(64).default(1).describe('adjacent bits per random upset (1: single-bit upsets)'),
        kinds: z.array(z.enum(FAULT_KINDS)).min(1).default(['flip']).describe('what random upsets in a core do, drawn uniformly among these: flip (transient), stuck (the bits held from then on), dead (the core halts), babbling (its outputs are garbage); other targets are always flipped'),
      })
      .strict()
      .default({ count: 20, targets: ['memory', 'global', 'checkpoint'], width: 1, kinds: ['flip'] })
      .describe('the upsets of the run: one of count, ratePerBitPerDay or file'),
    hil: z
      .object({
        inputs: z.array(mappingEntry(INPUT_CHANNELS)).optional().describe('42 input fields → the bus\'s input channels (time, dt and the target come from the bridge)'),
        outputs: z.array(mappingEntry(OUTPUT_CHANNELS)).optional().describe('the bus\'s output channels → 42 command fields'),
      })
      .strict()
      .optional()
      .describe('lockstep hil: how 42\'s fields map onto the flight software\'s bus (default: the reference flight software on lockstep\'s 42 case)'),
    requirements: requirementsSchema.optional(),
  })
  .strict()
  .describe('A lockstep mission: spacecraft, flight software, flight computer and upsets.');

function mappingEntry<C extends string>(channels: readonly [C, ...C[]]) {
  return z
    .object({
      channel: z.enum(channels).describe('the bus channel'),
      field: z.string().min(1).describe('the 42 field by its AcTypes.h name: Gyro[0].Rate, ST[0].qn[3], Whl[1].Tcmd'),
      scale: z.number().finite().default(1).describe('multiplies the value on its way'),
      sign: z.union([z.literal(1), z.literal(-1)]).default(1).describe('-1 flips it (42\'s wheel command is minus the torque on the body)'),
    })
    .strict();
}

export type HilMapping = NonNullable<z.output<typeof missionSchema>['hil']>;
export type HilMappingEntry = NonNullable<HilMapping['inputs']>[number];

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
  missionTiming(mission, source);
  return mission;
}

/**
 * The most cycles a mission may have: generous for real use — a day of a 1 kHz control loop is 8.64e7
 * cycles, and the longest duration allowed (1e7 s) at the default 10 Hz is 1e8 — yet bounded. `fly` flies
 * a mission twice (its fault-free reference, then the faulty run) at some 10^5 cycles per second, so 1e8
 * cycles already take an hour or more; beyond it lies a control period mistyped by orders of magnitude
 * (1e-9 s asks for 1e10 cycles), which would run for days instead of being refused.
 */
export const MAX_MISSION_CYCLES = 1e8;

export interface MissionTiming {
  /** Control cycles of the mission: duration / controlPeriod, rounded. */
  readonly cycles: number;
  /** The watchdog's instruction budget per cycle: watchdogFraction × controlPeriod × clockHz. */
  readonly watchdogInstructions: number;
}

/**
 * The mission's cycles and the watchdog's budget per cycle, refusing (ConfigError, naming the fields)
 * a mission of no cycle, of more than MAX_MISSION_CYCLES, or whose budget is below one instruction or
 * above `maxInstructions` (what the cores can count).
 */
export function missionTiming(mission: Mission, source: string, maxInstructions = Number.POSITIVE_INFINITY): MissionTiming {
  const { duration, controlPeriod } = scenarioOf(mission);
  const cycles = Math.round(duration / controlPeriod);
  if (cycles < 1) throw new ConfigError(`${source}: duration: ${duration} s is less than half a controlPeriod (${controlPeriod} s): a mission must have at least one cycle`);
  if (cycles > MAX_MISSION_CYCLES) {
    throw new ConfigError(`${source}: duration / controlPeriod: ${duration} s / ${controlPeriod} s is ${cycles} cycles; at most ${MAX_MISSION_CYCLES} are flown (a day at 1 kHz is 86400000)`);
  }
  const watchdogInstructions = Math.floor(mission.watchdogFraction * controlPeriod * mission.clockHz);
  const budget = `${source}: clockHz: ${mission.clockHz} Hz × watchdogFraction ${mission.watchdogFraction} × controlPeriod ${controlPeriod} s gives a cycle budget of ${watchdogInstructions} instructions`;
  if (watchdogInstructions < 1) throw new ConfigError(`${budget}; at least 1 is needed`);
  if (watchdogInstructions > maxInstructions) throw new ConfigError(`${budget}; at most ${maxInstructions} are counted`);
  return { cycles, watchdogInstructions };
}

/** The scenario a mission flies: its base scenario with the mission's overrides applied. */
/**
 * Values are taken as given (quaternions are checked to be unit, not renormalised), so that a mission file
 * spelling out a scenario's defaults flies bit for bit like the scenario itself.
 */
export function scenarioOf(mission: Mission): Scenario {
  const base = mission.scenario === 'large' ? largeScenario() : referenceScenario();
  const craft = mission.spacecraft ?? {};
  return {
    ...base,
    massKg: craft.massKg ?? base.massKg,
    inertia: (craft.inertia as Vec3 | undefined) ?? base.inertia,
    wheels: craft.wheels ?? base.wheels,
    starTracker: craft.starTracker ? { noiseArcsec: craft.starTracker.noiseArcsec as Vec3 } : base.starTracker,
    gyro: craft.gyro ? { ...craft.gyro, bias: craft.gyro.bias as Vec3 | undefined } : base.gyro,
    initialAttitude: (craft.initialAttitude as Quat | undefined) ?? base.initialAttitude,
    initialRate: (craft.initialRate as Vec3 | undefined) ?? base.initialRate,
    initialWheelMomentum: (craft.initialWheelMomentum as Vec3 | undefined) ?? base.initialWheelMomentum,
    controlPeriod: mission.controlPeriod ?? base.controlPeriod,
    substeps: mission.substeps ?? base.substeps,
    targetAttitude: (mission.targetAttitude as Quat | undefined) ?? base.targetAttitude,
    pointingRequirementDeg: mission.pointing?.requirementDeg ?? base.pointingRequirementDeg,
    settleTime: mission.pointing?.settleTime ?? base.settleTime,
    duration: mission.duration ?? base.duration,
  };
}

/**
 * Reads a mission file. Paths inside it (the flight software, an upset file) are relative to the file's
 * own directory, as a user who keeps a mission beside its flight software expects.
 */
export function readMissionFile(path: string): MissionInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`${path}: (top level): must be a JSON object`);
  const mission = { ...(json as Record<string, unknown>) };
  const near = (value: unknown) => (typeof value === 'string' && value.length > 0 && !isAbsolute(value) ? resolve(dirname(path), value) : value);
  if ('fsw' in mission) mission.fsw = near(mission.fsw);
  const upsets = mission.upsets;
  if (upsets && typeof upsets === 'object' && !Array.isArray(upsets) && 'file' in upsets) {
    mission.upsets = { ...(upsets as Record<string, unknown>), file: near((upsets as Record<string, unknown>).file) };
  }
  return mission as MissionInput;
}

/** The mission's JSON Schema, with every field's description, for editors and `lockstep init`. */
export function missionJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(missionSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** A complete mission for a scenario, every field spelled out: what `lockstep init` writes. */
export function startingMission(scenarioName: 'reference' | 'large', schemaPath: string): Record<string, unknown> {
  const defaults = parseMission({ scenario: scenarioName }, 'defaults');
  const scenario = scenarioOf(defaults);
  return {
    $schema: schemaPath,
    scenario: scenarioName,
    spacecraft: {
      massKg: scenario.massKg,
      inertia: scenario.inertia,
      wheels: scenario.wheels,
      starTracker: scenario.starTracker,
      gyro: { noiseSigma: scenario.gyro.noiseSigma, biasSigma: scenario.gyro.biasSigma },
      initialAttitude: scenario.initialAttitude,
      initialRate: scenario.initialRate,
      initialWheelMomentum: scenario.initialWheelMomentum,
    },
    controlPeriod: scenario.controlPeriod,
    substeps: scenario.substeps,
    targetAttitude: scenario.targetAttitude,
    pointing: { requirementDeg: scenario.pointingRequirementDeg, settleTime: scenario.settleTime },
    duration: scenario.duration,
    seed: defaults.seed,
    channels: {},
    spare: defaults.spare,
    redundancy: defaults.redundancy,
    lockstep: defaults.lockstep,
    compareState: defaults.compareState,
    clockHz: defaults.clockHz,
    checkpointInterval: defaults.checkpointInterval,
    watchdogFraction: defaults.watchdogFraction,
    checkpointBytesPerSecond: defaults.checkpointBytesPerSecond,
    link: defaults.link,
    persistentStore: defaults.persistentStore,
    reintegration: defaults.reintegration,
    reintegrationMaxRounds: defaults.reintegrationMaxRounds,
    health: defaults.health,
    coldBootSeconds: defaults.coldBootSeconds,
    memoryLimitPages: defaults.memoryLimitPages,
    upsets: defaults.upsets,
  };
}
