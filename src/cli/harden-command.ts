// `lockstep harden IN.wasm -o OUT.wasm --mode swift|eddi|<a named hardening>`: adds EDDI or SWIFT (duplicated
// instructions and checks before what leaves the sphere of replication) to any module, and says what it
// added. `--mode` takes any name of the table of hardenings (src/hardenings.ts: swift-cfc...), whose
// options the other flags then override. The output is written whole, only after the module was
// hardened and validated.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CHECK_FAMILIES, HARDENINGS, HARDENING_NAMES, hardenModule, HardenOptionsError, type CheckFamily, type HardenOptions, type HardeningMode } from '../harden.js';
import { ModuleError } from '../passes/index.js';
import { jsonText, OutputSet } from '../output/files.js';
import { UsageError } from './errors.js';
import { listOption } from './options.js';

interface HardenCommandOptions {
  output: string;
  mode: string;
  checks?: string[];
  only?: string[];
  skip?: string[];
  copyLoads?: boolean;
  pureImports?: string[];
  json?: string;
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
    .option('--json <file>', 'write what was added as JSON')
    .action((input: string, options: HardenCommandOptions) => hardenAction(input, options));
}

function hardenAction(input: string, options: HardenCommandOptions): void {
  if (options.only && options.skip) throw new UsageError('--only and --skip: give one of them');
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
  let result;
  try {
    result = hardenModule(bytes, {
      ...named,
      mode: named.mode as HardeningMode,
      families: (options.checks as CheckFamily[] | undefined) ?? named.families,
      functions: options.only ? { include: options.only } : options.skip ? { exclude: options.skip } : undefined,
      source: input,
      swiftLoads: options.copyLoads ? 'copy' : named.swiftLoads,
      pureImports: options.pureImports ?? named.pureImports,
    });
  } catch (error) {
    if (error instanceof HardenOptionsError) throw new UsageError(`${FLAGS[error.option]}: ${error.detail}`);
    throw error;
  }
  outputs.get('-o')!.write(result.binary);
  const report = result.report;
  outputs.get('--json')?.write(jsonText(report));
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
}
