// `lockstep harden IN.wasm -o OUT.wasm --mode swift|eddi|<a named hardening>`: adds EDDI or SWIFT (duplicated
// instructions and checks before what leaves the sphere of replication) to any module, and says what it
// added. `--mode` takes any name of the table of hardenings (src/hardenings.ts: swift-cfc...), whose
// options the other flags then override. The output is written whole, only after the module was
// hardened and validated. With `--profile C.jsonl --budget R` it hardens only the parts that remove the
// most of a plain-build campaign's silent failures within a predicted runtime ratio (hardening/selective.ts).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CHECK_FAMILIES, DEFAULT_FAMILIES, HARDENINGS, HARDENING_NAMES, hardenModule, HardenOptionsError, type CheckFamily, type HardenOptions, type HardenReport, type HardeningMode } from '../harden.js';
import { ModuleError } from '../passes/index.js';
import { hardenSelectively, type SelectiveReport } from '../hardening/selective.js';
import { jsonText, OutputSet } from '../output/files.js';
import { UsageError } from './errors.js';
import { listOption, numberOption } from './options.js';

interface HardenCommandOptions {
  output: string;
  mode: string;
  checks?: string[];
  only?: string[];
  skip?: string[];
  copyLoads?: boolean;
  pureImports?: string[];
  json?: string;
  profile?: string;
  budget?: number;
}

/** The command-line flag of each library option. */
const FLAGS: Record<HardenOptionsError['option'], string> = {
  mode: '--mode',
  families: '--checks',
  functions: '--only and --skip',
  include: '--only',
  exclude: '--skip',
  swiftLoads: '--copy-loads',
  pureImports: '--pure-imports',
  edgePlacement: '--mode',
  functionFamilies: '--profile',
};

export function registerHarden(program: Command): void {
  program
    .command('harden')
    .description('add EDDI or SWIFT to a module: duplicated instructions, and checks that survive the optimizers')
    .argument('<in.wasm>', 'the module')
    .requiredOption('-o, --output <out.wasm>', 'the hardened module')
    .requiredOption('--mode <mode>', `${HARDENING_NAMES.join(' | ')}`)
    .option('--checks <list>', `check families: ${CHECK_FAMILIES.join(',')} (default: all but loads)`, listOption)
    .option('--only <functions>', 'harden only these functions (names or export names)', listOption)
    .option('--skip <functions>', 'leave these functions alone', listOption)
    .option('--copy-loads', 'SWIFT as published: copy a loaded value into its shadow instead of loading it again (cheaper; a faulty load goes unseen)')
    .option('--pure-imports <list>', 'imports to call again for the shadow instead of copying their result: module.name or module.* (bus.* for flight software: its inputs are latched)', listOption)
    .option('--profile <campaign.jsonl>', 'harden selectively: the functions (and levels of them) that remove the most of the silent failures this plain-build campaign (--targets result,branch --configs single) found, within --budget')
    .option('--budget <ratio>', 'with --profile: the predicted runtime over the plain build\'s to stay within, e.g. 1.3', numberOption('--budget'))
    .option('--json <file>', 'write what was added as JSON')
    .action((input: string, options: HardenCommandOptions) => hardenAction(input, options));
}

function hardenAction(input: string, options: HardenCommandOptions): void {
  if (options.only && options.skip) throw new UsageError('--only and --skip: give one of them');
  if ((options.profile === undefined) !== (options.budget === undefined)) throw new UsageError('--profile and --budget: give both (selective hardening) or neither');
  if (options.profile && (options.only || options.skip)) throw new UsageError('--profile chooses the functions itself: not with --only or --skip');
  if (options.budget !== undefined && !(options.budget >= 1)) throw new UsageError(`--budget: ${options.budget} is not a runtime ratio of at least 1`);
  const outputs = new OutputSet([{ option: '-o', path: options.output }, options.json ? { option: '--json', path: options.json } : null]);
  outputs.produce(() => harden(input, options, outputs));
}

function harden(input: string, options: HardenCommandOptions, outputs: OutputSet): void {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(input);
  } catch (error) {
    throw new ModuleError(input, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  // A named hardening gives its options (swift and eddi are named hardenings too); flags override them.
  if (!Object.hasOwn(HARDENINGS, options.mode)) throw new UsageError(`--mode: "${options.mode}" is not a hardening (${HARDENING_NAMES.join(', ')})`);
  const named: Partial<HardenOptions> = HARDENINGS[options.mode as keyof typeof HARDENINGS];
  const base = {
    ...named,
    mode: named.mode as HardeningMode,
    families: (options.checks as CheckFamily[] | undefined) ?? named.families,
    source: input,
    swiftLoads: options.copyLoads ? 'copy' : named.swiftLoads,
    pureImports: options.pureImports ?? named.pureImports,
  } satisfies HardenOptions;
  let result: { binary: Uint8Array; report: HardenReport };
  let selective: SelectiveReport | null = null;
  try {
    if (options.profile !== undefined) {
      const chosen = hardenSelectively(bytes, { ...base, families: base.families ?? DEFAULT_FAMILIES }, options.profile, options.budget!);
      selective = chosen.report;
      result = { binary: chosen.binary, report: chosen.report.hardening };
    } else {
      result = hardenModule(bytes, { ...base, functions: options.only ? { include: options.only } : options.skip ? { exclude: options.skip } : undefined });
    }
  } catch (error) {
    if (error instanceof HardenOptionsError) throw new UsageError(`${FLAGS[error.option]}: ${error.detail}`);
    throw error;
  }
  outputs.get('-o')!.write(result.binary);
  const report = result.report;
  // Selective: the hardening report as without, and what was chosen under `selective`.
  outputs.get('--json')?.write(jsonText(selective ? { ...report, selective: { ...selective, hardening: undefined } } : report));
  const families = Object.entries(report.checks.byFamily)
    .filter(([, count]) => count > 0)
    .map(([family, count]) => `${family} ${count}`)
    .join(', ');
  process.stdout.write(
    [
      `lockstep harden — ${input} → ${options.output} (${report.mode}${report.mode === 'swift' ? `, loads ${report.loadShadows}` : ''})`,
      `  functions hardened    ${report.functions.hardened.length}${report.functions.leftAlone.length ? ` (left alone: ${report.functions.leftAlone.join(', ')})` : ''}`,
      `  instructions duplicated ${report.instructionsDuplicated}, values seeded into shadows ${report.valuesSeeded}, shadow globals ${report.shadowGlobals}${report.importCallsRepeated ? `, import calls made twice ${report.importCallsRepeated}` : ''}`,
      `  checks                ${report.checks.total} (${families || 'none'})`,
      `  size                  ${report.bytes.original} → ${report.bytes.hardened} bytes (${report.bytes.ratio.toFixed(2)}×)`,
      ...(report.memory
        ? [`  memory                ${report.memory.originalPages} → ${report.memory.hardenedPages} pages (shadow copy in the lower half; the program's data moved up by ${report.memory.programOffset === 'dynamic' ? 'its size, as it grows' : `${report.memory.programOffset} bytes`})`]
        : []),
    ].join('\n') + '\n',
  );
  if (selective) process.stdout.write(`${formatSelective(selective)}\n`);
}

/** What selective hardening chose, and its predicted and measured runtime. */
function formatSelective(report: SelectiveReport): string {
  const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
  const width = Math.max(20, ...report.parts.map((part) => part.function.length));
  return [
    `  selective             budget ${report.budget.toFixed(2)}× from ${report.profile.file} (${report.profile.silent} silent failures in ${report.profile.experiments} result and branch experiments)`,
    ...report.parts.map((part) => `    ${part.function.padEnd(width)} ${part.families.join(',').padEnd(44)} removes ${String(part.silentRemoved).padStart(5)} silent, +${percent(part.addedCost)} runtime`),
    `  silent covered        ${report.silentCovered.count} of ${report.profile.silent} (${percent(report.silentCovered.share)}) predicted`,
    `  runtime               ${report.predictedRatio.toFixed(2)}× plain predicted, ${report.measuredRatio.toFixed(2)}× measured (one core, side by side on the mission's fault-free cycles)${report.choiceBudget < report.budget ? `; chosen within ${report.choiceBudget.toFixed(2)}×, a choice within the budget having measured over it` : ''}`,
  ].join('\n');
}
