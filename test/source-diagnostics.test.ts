// Source-level diagnostics on both flight programs (the AssemblyScript reference with its source map, the
// C example with DWARF line tables): every fault site is named by its function and, where the compiler
// left lines, its line; a campaign's byFunction and byLine name real functions and files and add up to
// the campaign's totals; replay names the function and file:line struck; debug sections change nothing
// a core does; old result files without sites stay readable; inspect --profile adds up to the cycle cost.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignReport } from '../src/campaign/report.js';
import type { ExperimentRecord } from '../src/campaign/experiment.js';
import { prepareFaultModule } from '../src/core/fault-core.js';
import { inspectFlightModule } from '../src/mission/inspect.js';
import { parseMission } from '../src/mission/config.js';
import binaryen from '../src/passes/binaryen.js';
import { definedFunctions } from '../src/passes/expressions.js';
import { CORE_PASSES, PASSES, readModule, transformBinary } from '../src/passes/index.js';
import { sectionsOf, stripDebugSections } from '../src/passes/wasm-binary.js';
import { parseDwarfLines } from '../src/source/dwarf-line.js';
import { siteSourcesOf } from '../src/source/site-sources.js';
import { sourceLinesOf } from '../src/source/source-lines.js';
import { campaignReport as buildCampaignReport } from '../src/campaign/report.js';
import { readResults } from '../src/campaign/results-file.js';
import { campaignReportHtml, functionRowsOf } from '../src/reports/html/campaign-report.js';
import { cli } from './harden-support.js';

const PROGRAMS = [
  { name: 'AssemblyScript reference', path: 'build/adcs.wasm', lines: 'source-map', sourceFile: /^(assembly\/\w+\.ts|~lib\/.+)$/ },
  { name: 'C example', path: 'examples/c-adcs/adcs.wasm', lines: 'dwarf', sourceFile: /^\w+\.[ch]$/ },
] as const;

const functionNames = (bytes: Uint8Array): string[] => {
  const module = readModule(bytes, 'test');
  try {
    return definedFunctions(module).map((fn) => binaryen.getFunctionInfo(fn).name);
  } finally {
    module.dispose();
  }
};

const sourcePath = (program: (typeof PROGRAMS)[number], file: string) => (program.lines === 'dwarf' ? join('examples/c-adcs', file) : file);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-srcdiag-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(PROGRAMS)('$name', (program) => {
  const bytes = new Uint8Array(readFileSync(program.path));

  it('names the function and the source line of every fault site', () => {
    const { report } = prepareFaultModule(bytes, program.path);
    const { sites, lines } = siteSourcesOf(bytes, program.path, report.sites);
    expect(lines).toBe(program.lines);
    expect(sites).toHaveLength(report.sites.length);
    const names = new Set(functionNames(bytes));
    for (const site of sites) expect(names).toContain(site.function);
    // clang marks a few instructions as line 0 (made up by the compiler); asc maps every one.
    const lined = sites.filter((site) => site.line !== undefined);
    expect(lined.length / sites.length).toBeGreaterThan(program.lines === 'dwarf' ? 0.95 : 0.99);
    for (const site of lined) {
      expect(site.file).toMatch(program.sourceFile);
      if (!site.file!.startsWith('~lib/')) {
        const text = readFileSync(sourcePath(program, site.file!), 'utf8').split('\n');
        expect(site.line!).toBeLessThanOrEqual(text.length);
      }
    }
  });

  it('builds the same core with or without the debug sections', () => {
    const stripped = stripDebugSections(bytes);
    expect(stripped.length).toBeLessThan(bytes.length);
    expect(sectionsOf(stripped).map((section) => section.name)).toContain('name');
    expect(Buffer.from(transformBinary(bytes, CORE_PASSES, 'with').binary)).toEqual(Buffer.from(transformBinary(stripped, CORE_PASSES, 'without').binary));
  });

  it('campaign: byFunction names real functions and byFunction and byLine add up to the totals; replay names function and file:line', async () => {
    const out = join(dir, `${program.lines}.jsonl`);
    const json = join(dir, `${program.lines}.json`);
    const run = await cli(['campaign', '--fsw', program.path, '--duration', '20', '--experiments', '120', '--targets', 'memory,result,branch', '--out', out, '--json', json, '--jobs', '1', '--quiet']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as CampaignReport;
    const attributed = ['result', 'branch'] as const;
    expect(report.attribution).toEqual({ targets: attributed, experiments: 80, lines: program.lines });
    const names = new Set(functionNames(bytes));
    const byFunction = report.byFunction!;
    for (const entry of byFunction) if (entry.name !== null) expect(names).toContain(entry.name);
    expect(byFunction.filter((entry) => entry.name !== null).length).toBeGreaterThan(1);
    expect(byFunction.reduce((sum, entry) => sum + entry.experiments, 0)).toBe(80);
    const byLine = report.byLine!;
    expect(byLine.reduce((sum, entry) => sum + entry.experiments, 0)).toBe(80);
    for (const [config, summary] of Object.entries(report.configs)) {
      const total = attributed.reduce((sum, target) => sum + (summary!.targets[target]?.experiments ?? 0), 0);
      const silent = attributed.reduce((sum, target) => sum + (summary!.targets[target]?.silent.count ?? 0), 0);
      const of = (list: Array<{ configs: Record<string, { experiments: number; silent: { count: number } } | undefined> }>, field: 'experiments' | 'silent') =>
        list.reduce((sum, entry) => sum + (field === 'experiments' ? (entry.configs[config]?.experiments ?? 0) : (entry.configs[config]?.silent.count ?? 0)), 0);
      expect(of(byFunction as never, 'experiments')).toBe(total);
      expect(of(byFunction as never, 'silent')).toBe(silent);
      expect(of(byLine as never, 'experiments')).toBe(total);
    }
    for (const entry of byFunction.filter((candidate) => candidate.name !== null)) {
      const table = Object.values(entry.configs)[0]!;
      expect(table.silent.ci95[0]).toBeLessThanOrEqual(table.silent.rate);
      expect(table.silent.ci95[1]).toBeGreaterThanOrEqual(table.silent.rate);
    }

    // The HTML report draws lockstep's own byFunction (the first configuration's), with where each function is.
    const rows0 = functionRowsOf(byFunction, 'single')!;
    expect(rows0.map((row) => row.name).sort()).toEqual(byFunction.filter((entry) => entry.name !== null && entry.configs.single).map((entry) => entry.name).sort());
    const { header: resultsHeader, records } = readResults(out);
    const built = buildCampaignReport(resultsHeader, records);
    const html = campaignReportHtml({ report: built.report, summary: built.summary, records, requirements: [], heading: 'lockstep campaign' });
    expect(html).toContain('Per function');
    expect(html).toContain(`${byFunction.find((entry) => entry.name !== null)!.file}:`);

    // Replay of a result fault that struck a site with a line.
    const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((line) => JSON.parse(line) as ExperimentRecord);
    const header = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]);
    const struck = rows.find((row) => row.target === 'result' && row.site !== undefined && header.sites.builds.plain[row.site].length === 3)!;
    const [fn, file, line] = header.sites.builds.plain[struck.site!];
    const replay = await cli(['replay', out, '--index', String(struck.index)]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(`in function ${header.sites.functions[fn]} at ${header.sites.files[file]}:${line}`);
    expect(replay.stdout).toContain('the stored record is reproduced exactly');
  });

  it('inspect --profile: instructions per function per cycle that add up to the cycle cost', () => {
    const mission = parseMission({ upsets: { count: 0 } }, 'test');
    const { result } = inspectFlightModule(program.path, mission, 20, { profile: true });
    const profile = result.profile!;
    expect(profile.cycles).toBe(20);
    const names = new Set(functionNames(bytes));
    for (const fn of profile.functions) expect(names).toContain(fn.name);
    const total = profile.functions.reduce((sum, fn) => sum + fn.total, 0);
    expect(Math.round(total / profile.cycles)).toBe(result.cycleCost!.meanInstructions);
    expect(profile.functions.reduce((sum, fn) => sum + fn.share, 0)).toBeCloseTo(1, 9);
  });
});

/** A module's line table as llvm-dwarfdump reads it: "address file:line" rows, "address END" at a sequence's end. */
function dwarfdumpRows(path: string): string[] {
  const rows: string[] = [];
  let files: Record<string, string> = {};
  let current = '';
  for (const line of execFileSync('llvm-dwarfdump', ['--debug-line', path], { encoding: 'utf8' }).split('\n')) {
    let match;
    if (/^debug_line\[/.test(line)) files = {};
    if ((match = /^file_names\[\s*(\d+)\]/.exec(line))) current = match[1];
    if ((match = /^\s+name: "(.*)"/.exec(line))) files[current] = match[1];
    if ((match = /^(0x[0-9a-f]+)\s+(\d+)\s+\d+\s+(\d+)/.exec(line))) rows.push(`${parseInt(match[1], 16)} ${line.includes('end_sequence') ? 'END' : `${files[match[3]]}:${match[2]}`}`);
  }
  return rows.sort();
}

function ourRows(path: string): string[] {
  const bytes = new Uint8Array(readFileSync(path));
  const section = (name: string) => {
    const found = sectionsOf(bytes).find((candidate) => candidate.name === name);
    return found ? bytes.subarray(found.payload, found.end) : undefined;
  };
  const table = parseDwarfLines({ line: section('.debug_line')!, lineStr: section('.debug_line_str'), str: section('.debug_str') });
  return table.addresses.map((address, i) => `${address} ${table.lines[i] ? `${table.lines[i]!.file}:${table.lines[i]!.line}` : 'END'}`).sort();
}

const dwarfdump = spawnSync('llvm-dwarfdump', ['--version']).status === 0;
const clang = spawnSync('clang', ['--version']).status === 0 && spawnSync('wasm-ld', ['--version']).status === 0;

describe('the DWARF line reader', () => {
  if (!dwarfdump) it.skip('is checked against llvm-dwarfdump, which is not installed (Debian: apt-get install llvm)', () => {});
  if (dwarfdump && !clang) it.skip('is checked on a DWARF 5 build of the C example with clang and wasm-ld, which are not installed', () => {});
  it.skipIf(!dwarfdump)('reads the C example\'s line table (DWARF 4) row for row as llvm-dwarfdump does', () => {
    expect(ourRows('examples/c-adcs/adcs.wasm')).toEqual(dwarfdumpRows('examples/c-adcs/adcs.wasm'));
  });

  it.skipIf(!dwarfdump || !clang)('and the same program built with -gdwarf-5', () => {
    const here = join(process.cwd(), 'examples/c-adcs');
    const objects = ['main', 'estimator', 'controller'].map((name) => {
      const object = join(dir, `${name}.o`);
      execFileSync('clang', ['--target=wasm32', '-mcpu=mvp', '-O2', '-ffreestanding', '-fno-builtin', `-ffile-prefix-map=${here}=.`, '-gline-tables-only', '-gdwarf-5', '-c', '-o', object, `${name}.c`], { cwd: here });
      return object;
    });
    const module = join(dir, 'dwarf5.wasm');
    execFileSync('wasm-ld', ['--no-entry', '--stack-first', '-z', 'stack-size=8192', '--initial-memory=65536', '--max-memory=65536', '-o', module, ...objects]);
    const rows = ourRows(module);
    expect(rows.length).toBeGreaterThan(100);
    expect(rows).toEqual(dwarfdumpRows(module));
  });
});

describe('a source map that cannot be the module\'s', () => {
  it('is refused naming the module and the map: broken JSON, or offsets past the module', () => {
    const bytes = new Uint8Array(readFileSync('build/adcs.wasm'));
    const module = join(dir, 'adcs.wasm');
    writeFileSync(module, bytes);
    writeFileSync(`${module}.map`, '{"version":3');
    expect(() => sourceLinesOf(bytes, module)).toThrow(/adcs\.wasm: its line information cannot be read: .*adcs\.wasm\.map: not JSON/);
    writeFileSync(`${module}.map`, JSON.stringify({ version: 3, sources: ['a.ts'], mappings: 'gggggE,AAAA' }));
    expect(() => sourceLinesOf(bytes, module)).toThrow(/maps byte 67108864, past the end of the 4\d{3}-byte module/);
  });
});

describe('every pass keeps the name section', () => {
  const bytes = new Uint8Array(readFileSync('examples/c-adcs/adcs.wasm'));
  const original = functionNames(bytes);
  // Each pass where it runs: the instrumentation after the core passes, a hardening on the module as compiled.
  const pipelines = [...PASSES.keys()].map((name) => (CORE_PASSES.includes(name as never) ? [...CORE_PASSES] : ['track-read-memory', 'fault-hooks', 'profile-functions'].includes(name) ? [...CORE_PASSES, name] : [name]));
  it.each(pipelines.map((passes) => [passes.join(', '), passes]))('%s', (_label, passes) => {
    const { binary } = transformBinary(bytes, passes as string[], 'c-adcs');
    const names = functionNames(binary);
    for (const name of original) expect(names).toContain(name);
  });
});

describe('result files written before lockstep recorded fault sites', () => {
  it('are read without attribution, replay still reproduces their rows, and merge refuses to mix them with new ones', async () => {
    const fresh = join(dir, 'fresh.jsonl');
    expect((await cli(['campaign', '--fsw', 'examples/c-adcs/adcs.wasm', '--duration', '10', '--experiments', '12', '--targets', 'result', '--shard', '0/2', '--out', fresh, '--jobs', '1', '--quiet'])).code).toBe(0);
    const [headerLine, ...rowLines] = readFileSync(fresh, 'utf8').trim().split('\n');
    const { sites: _sites, ...oldHeader } = JSON.parse(headerLine);
    const old = join(dir, 'old.jsonl');
    const oldRows = rowLines.map((line) => {
      const { site: _site, ...row } = JSON.parse(line);
      return JSON.stringify(row);
    });
    writeFileSync(old, `${JSON.stringify(oldHeader)}\n${oldRows.join('\n')}\n`);
    const json = join(dir, 'old.json');
    const merged = await cli(['merge', old, '--json', json, '--allow-incomplete', '--quiet']);
    expect(merged.code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).byFunction).toBeUndefined();
    const replay = await cli(['replay', old, '--index', String(JSON.parse(oldRows[0]).index)]);
    expect(replay.stdout).toContain('the stored record is reproduced exactly');
    expect(replay.code).toBe(0);

    const other = join(dir, 'other.jsonl');
    expect((await cli(['campaign', '--fsw', 'examples/c-adcs/adcs.wasm', '--duration', '10', '--experiments', '12', '--targets', 'result', '--shard', '1/2', '--out', other, '--jobs', '1', '--quiet'])).code).toBe(0);
    const mixed = await cli(['merge', old, other, '--quiet']);
    expect(mixed.code).toBe(8);
    expect(mixed.stderr).toMatch(/table of fault sites differs .*did not record sites/);
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });
});
