// What a campaign measured, as the trade study needs it: per campaign configuration and storage target, the
// count of each outcome among the experiments (the evidence a posterior is drawn from), and the bits an upset
// can strike per core (memory, globals) or once (the checkpoint). Read from `lockstep campaign --json`, each
// field checked, so that a hand-edited or truncated file is refused by name instead of yielding a number.
import { readFileSync } from 'node:fs';
import { OUTCOMES, type OutcomeName } from '../campaign/experiment.js';
import { TradeStudyInputError } from './errors.js';

/** The targets whose size is in bits; instruction targets (result, branch) are not struck by particles per bit. */
export const STORAGE_TARGETS = ['memory', 'global', 'checkpoint'] as const;
export type StorageTarget = (typeof STORAGE_TARGETS)[number];

/** Outcome counts of one campaign configuration on one target, in the order of OUTCOMES. */
export interface OutcomeCounts {
  readonly experiments: number;
  readonly counts: Readonly<Record<OutcomeName, number>>;
}

export interface MeasuredOutcomes {
  readonly file: string;
  readonly experiments: number;
  readonly seed: number | null;
  readonly fsw: string | null;
  /** Bits per core of each core target, and the checkpoint's bits (it exists once). */
  readonly bitsPerCore: Readonly<Partial<Record<'memory' | 'global', number>>>;
  readonly checkpointBits: number;
  /** Per campaign configuration (single, pair, pair+spare, …), per storage target with experiments. */
  readonly tables: Readonly<Record<string, Readonly<Partial<Record<StorageTarget, OutcomeCounts>>>>>;
}

function fail(file: string, field: string, problem: string): never {
  throw new TradeStudyInputError(`${file}: ${field}: ${problem}`);
}

function object(file: string, field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(file, field, 'missing or not an object');
  return value as Record<string, unknown>;
}

function count(file: string, field: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) fail(file, field, `must be a whole number ≥ 0, not ${JSON.stringify(value)}`);
  return value as number;
}

/** Reads and checks a campaign summary (`lockstep campaign --json FILE` or `lockstep merge --json FILE`). */
export function readCampaignOutcomes(file: string): MeasuredOutcomes {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TradeStudyInputError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TradeStudyInputError(`${file}: not JSON (${(error as Error).message}); give the file \`lockstep campaign --json FILE\` writes`);
  }
  return campaignOutcomesOf(json, file);
}

/** The same from parsed JSON: `file` names the source in messages. */
export function campaignOutcomesOf(json: unknown, file: string): MeasuredOutcomes {
  const root = object(file, '(top level)', json);
  if (root.complete === false) fail(file, 'complete', 'the campaign is incomplete (experiments of its plan are missing); merge or resume it first');
  const faultSpace = object(file, 'faultSpace', root.faultSpace);
  const memoryBitsPerCore = count(file, 'faultSpace.memoryBitsPerCore', faultSpace.memoryBitsPerCore);
  const targetBits = (target: StorageTarget): number | undefined =>
    faultSpace[target] === undefined ? undefined : count(file, `faultSpace.${target}.bits`, object(file, `faultSpace.${target}`, faultSpace[target]).bits);
  const memoryBits = targetBits('memory');
  // The campaign's fault space counts its cores (A and B by default); the trade study scales per core.
  const cores = memoryBits !== undefined && memoryBitsPerCore > 0 ? memoryBits / memoryBitsPerCore : 0;
  if (!Number.isInteger(cores) || cores < 1) fail(file, 'faultSpace.memory.bits', `must be a whole multiple of memoryBitsPerCore (${memoryBitsPerCore}), not ${memoryBits}`);
  const globalBits = targetBits('global');
  const bitsPerCore: Partial<Record<'memory' | 'global', number>> = { memory: memoryBitsPerCore };
  if (globalBits !== undefined) bitsPerCore.global = globalBits / cores;
  const configs = object(file, 'configs', root.configs);
  const tables: Record<string, Partial<Record<StorageTarget, OutcomeCounts>>> = {};
  for (const [name, entry] of Object.entries(configs)) {
    const targets = object(file, `configs.${name}.targets`, object(file, `configs.${name}`, entry).targets);
    const perTarget: Partial<Record<StorageTarget, OutcomeCounts>> = {};
    for (const target of STORAGE_TARGETS) {
      if (targets[target] === undefined) continue;
      const field = `configs.${name}.targets.${target}`;
      const table = object(file, field, targets[target]);
      const experiments = count(file, `${field}.experiments`, table.experiments);
      const outcomes = object(file, `${field}.outcomes`, table.outcomes);
      const counts = Object.fromEntries(
        OUTCOMES.map((outcome) => [outcome, count(file, `${field}.outcomes.${outcome}.count`, object(file, `${field}.outcomes.${outcome}`, outcomes[outcome]).count)]),
      ) as Record<OutcomeName, number>;
      const sum = OUTCOMES.reduce((total, outcome) => total + counts[outcome], 0);
      if (sum !== experiments) fail(file, `${field}.outcomes`, `the counts add up to ${sum}, not to the ${experiments} experiments`);
      if (experiments > 0) perTarget[target] = { experiments, counts };
    }
    tables[name] = perTarget;
  }
  return {
    file,
    experiments: count(file, 'experiments', root.experiments),
    seed: typeof root.seed === 'number' ? root.seed : null,
    fsw: typeof root.fsw === 'string' ? root.fsw : null,
    bitsPerCore,
    checkpointBits: targetBits('checkpoint') ?? 0,
    tables,
  };
}

/** A configuration's tables, or a refusal naming the field and how to get it. */
export function tableOf(measured: MeasuredOutcomes, config: string, neededBy: string): Readonly<Partial<Record<StorageTarget, OutcomeCounts>>> {
  const table = measured.tables[config];
  if (!table || Object.keys(table).length === 0) {
    fail(measured.file, `configs.${config}`, `missing (${neededBy} needs its measured outcomes; run \`lockstep campaign --configs single,pair,pair+spare --json FILE\`)`);
  }
  return table;
}
