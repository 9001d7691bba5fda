// `lockstep inspect FILE.wasm`: checks a module against the flight-software ABI and prints what it found
// — exports, imports wired to bus channels, memory, globals, functions and their instruction counts, the
// measured cost of a cycle on the reference mission, and the fault space each upset target offers.
// A module that breaks the contract gets every problem listed and exit code 4; so does one that conforms
// but fails with no upset (init, or one of the fault-free cycles flown, traps or overruns its budget).
import type { Command } from 'commander';
import { parseMission, readMissionFile } from '../mission/config.js';
import { inspectFlightModule, type InspectResult } from '../mission/inspect.js';
import { ModuleError } from '../passes/index.js';
import { jsonText, OutputFile } from '../output/files.js';
import { integerOption } from './options.js';

interface InspectOptions {
  config?: string;
  cycles: number;
  json?: string;
  profile?: boolean;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('check a flight-software module against the ABI and print what it exports, imports and costs')
    .argument('<file.wasm>', 'the module')
    .option('--config <file>', 'mission file whose channel map and memory limit apply')
    .option('--cycles <n>', 'fault-free cycles of the mission to fly, checking that they complete and measuring their cost (0: init only)', integerOption('--cycles', 0), 100)
    .option('--json <file>', 'write the report as JSON')
    .option('--profile', 'dynamic instructions per function per cycle over the cycles flown (each function\'s own code)')
    .action((file: string, options: InspectOptions) => inspectAction(file, options));
}

function inspectAction(file: string, options: InspectOptions): void {
  const json = options.json ? OutputFile.open(options.json) : null;
  try {
    inspect(file, options, json);
  } finally {
    json?.discard();
  }
}

function inspect(file: string, options: InspectOptions, json: OutputFile | null): void {
  const mission = parseMission(options.config ? readMissionFile(options.config) : { upsets: { count: 0 } }, options.config ?? 'command line');
  const { result, failureText } = inspectFlightModule(file, mission, options.cycles, { profile: options.profile });
  const problems = result.problems;
  const conforms = result.conforms;
  if (json) {
    // The report is the result, conforming or not: it is kept even when inspect then exits non-zero.
    json.write(jsonText(result));
    json.commit();
  }
  process.stdout.write(`${formatInspection(result)}\n`);
  if (failureText) throw new ModuleError(file, failureText);
  if (!conforms) throw new ModuleError(file, `breaks the flight-software ABI in ${problems.length} way${problems.length === 1 ? '' : 's'} (listed above)`);
}

const count = (n: number) => n.toLocaleString('en-US');

export function formatInspection(result: InspectResult): string {
  const inputs = result.imports.filter((entry) => entry.direction === 'input');
  const outputs = result.imports.filter((entry) => entry.direction === 'output');
  const wired = (list: typeof inputs) => list.map((entry) => (entry.channel === entry.name ? entry.name : `${entry.name}→${entry.channel}`)).join(', ') || 'none';
  const mutable = result.globals.filter((global) => global.mutable && !global.imported);
  const lines = [
    `lockstep inspect ${result.source} — ${result.conforms ? 'conforms to the flight-software ABI' : 'does NOT conform to the flight-software ABI'}`,
    `  size          ${count(result.bytes)} bytes`,
    `  exports       ${result.exports.map((entry) => (entry.signature ? `${entry.name} ${entry.signature}` : `${entry.name} (${entry.kind})`)).join(', ') || 'none'}`,
    `  bus inputs    ${wired(inputs)}`,
    `  bus outputs   ${wired(outputs)}`,
    ...(result.debugOutputs.length > 0 ? [`  debug outputs ${result.debugOutputs.join(', ')} (compared, to telemetry only)`] : []),
    ...(result.importsAbort ? ['  abort         env.abort (AssemblyScript): an abort is a detection, its message, file and line reported'] : []),
    `  memory        ${result.memory ? `${result.memory.initialPages} page(s) (${count(result.memory.initialPages * 64)} KiB) initially, ${result.memory.maxPages === null ? 'no maximum' : `at most ${result.memory.maxPages}`}${result.memory.exported ? '' : ', not exported (lockstep exports it)'}` : 'none'}`,
    `  globals       ${mutable.length} mutable (state)${mutable.length ? `: ${mutable.map((global) => `${global.name} ${global.type}`).join(', ')}` : ''}; ${result.globals.length - mutable.length} other`,
    `  functions     ${result.functions.defined} defined, ${result.functions.imported} imported; ${count(result.functions.instructions)} instructions; largest: ${result.functions.largest.slice(0, 5).map((fn) => `${fn.name} ${count(fn.instructions)}`).join(', ')}`,
  ];
  lines.push(`  persistent    ${result.persistent ? `${count(result.persistent.length)} bytes at 0x${result.persistent.offset.toString(16)} (persistent_offset, persistent_length): replicated to the other processor, a cold spare boots with it` : 'none declared (a cold spare boots from the initial image)'}`);
  if (result.cycleCost) {
    lines.push(`  cycle cost    ${count(result.cycleCost.meanInstructions)} instructions per cycle on average, ${count(result.cycleCost.maxInstructions)} at most (first ${result.cycleCost.cycles} cycles of the mission)`);
  }
  if (result.profile) {
    lines.push(`  profile       instructions per cycle by function (its own code, callees not included), ${result.profile.cycles} cycles:`);
    const width = Math.min(60, Math.max(8, ...result.profile.functions.map((fn) => fn.name.length)));
    lines.push(`    ${'function'.padEnd(width)} ${'mean'.padStart(10)} ${'max'.padStart(10)} ${'share'.padStart(7)}`);
    for (const fn of result.profile.functions) {
      lines.push(`    ${fn.name.slice(0, width).padEnd(width)} ${count(Math.round(fn.meanPerCycle)).padStart(10)} ${count(fn.maxPerCycle).padStart(10)} ${`${(fn.share * 100).toFixed(1)}%`.padStart(7)}`);
    }
  }
  const space = result.faultSpace;
  lines.push(
    `  fault space   per core: memory ${count(space.memoryBitsPerCore)} bits, globals ${count(space.globalBitsPerCore)} bits; checkpoint ${count(space.checkpointBits)} bits`,
    `                (memory and globals: four cores — both cores of the primary and of the spare; multiply by the cycles of a mission for bits × cycles)`,
  );
  if (!result.conforms) {
    lines.push('  problems');
    for (const problem of result.problems) lines.push(`    ✗ ${problem}`);
  }
  return lines.join('\n');
}
