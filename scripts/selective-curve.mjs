// The curve of docs/hardening.md#selective-hardening: runtime ratio against silent-failure rate of
// selective hardening for several budgets, measured, not predicted. For one flight program and its
// plain-build profile campaign it calibrates the costs once (so that every budget is chosen from the same
// figures), builds the choice of each budget as `harden --profile` does (chosen again within less when it
// measures over the budget) and the full hardening, times each beside the plain build once more (median
// of five pairwise runs), counts their instructions, and runs a campaign of result and branch flips on
// each (config single). Needs `npm run build`.
//
//   node scripts/selective-curve.mjs --fsw build/adcs.wasm --profile adcs-profile.jsonl --out DIR
//        [--mode swift-cfc] [--budgets 1.1,1.2,1.3,1.5,2.0] [--experiments 3000]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hardenModule } from '../dist/harden.js';
import { buildWithinBudget, medianRatios, selectiveCandidates, SELECTIVE_TIMING } from '../dist/hardening/selective.js';
import { HARDENINGS } from '../dist/hardenings.js';
import { inspectFlightBytes } from '../dist/mission/inspect.js';

const { values } = parseArgs({
  options: {
    fsw: { type: 'string' },
    profile: { type: 'string' },
    out: { type: 'string' },
    mode: { type: 'string', default: 'swift-cfc' },
    budgets: { type: 'string', default: '1.1,1.2,1.3,1.5,2.0' },
    experiments: { type: 'string', default: '3000' },
  },
});
if (!values.fsw || !values.profile || !values.out) throw new Error('usage: --fsw F.wasm --profile P.jsonl --out DIR [--mode M] [--budgets LIST] [--experiments N]');
mkdirSync(values.out, { recursive: true });
const bytes = readFileSync(values.fsw);
const named = HARDENINGS[values.mode];
const base = { ...named, families: named.families ?? ['stores', 'branches', 'globals', 'calls', 'returns'], source: values.fsw };
const from = selectiveCandidates(bytes, base, values.profile);
const name = basename(values.fsw, '.wasm');

const builds = [];
for (const budget of values.budgets.split(',').map(Number)) {
  const { binary, report } = buildWithinBudget(bytes, base, from, budget);
  builds.push({ label: `budget ${budget}`, file: join(values.out, `${name}-${budget}.wasm`), binary, report });
}
builds.push({ label: values.mode, file: join(values.out, `${name}-${values.mode}.wasm`), binary: hardenModule(bytes, base).binary, report: null });

const instructions = (binary) => inspectFlightBytes(binary, 'build', from.profile.mission, 300).result.cycleCost.meanInstructions;
const plainInstructions = instructions(bytes);
for (const build of builds) {
  writeFileSync(build.file, build.binary);
  build.time = medianRatios(from.setup, { build: build.binary }, SELECTIVE_TIMING, 5).build;
  build.instructions = instructions(build.binary) / plainInstructions;
  const json = `${build.file}.campaign.json`;
  const run = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/lockstep.js', import.meta.url)), 'campaign', '--fsw', build.file, '--targets', 'result,branch', '--configs', 'single', '--experiments', values.experiments, '--jobs', '1', '--json', json], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`campaign on ${build.file}: ${run.stderr}`);
  build.silent = JSON.parse(readFileSync(json, 'utf8')).configs.single.silent;
}

const percent = (rate) => `${(rate * 100).toFixed(2)}%`;
console.log(`${values.fsw}, ${values.mode}; profile ${values.profile}: ${from.profile.silent} silent of ${from.profile.experiments}`);
console.log(`levels: ${from.levels.map((level) => `${level.families.join(',')} ${level.instructionRatio.toFixed(2)}× instructions, ${level.runtimeRatio.toFixed(2)}× time`).join('; ')}`);
console.log('| build | hardened (function: level) | predicted | measured time | instructions | silent [95%] |');
console.log('|---|---|---|---|---|---|');
for (const build of builds) {
  const parts = build.report ? build.report.parts.map((part) => `${part.function.split('/').pop()}: ${part.families.length === 1 ? 'edges' : 'all'}`).join(', ') || '—' : 'everything';
  const predicted = build.report ? `${build.report.predictedRatio.toFixed(2)}×${build.report.choiceBudget < build.report.budget ? ` (chosen within ${build.report.choiceBudget.toFixed(2)}×)` : ''}` : '';
  const [lo, hi] = build.silent.ci95;
  console.log(`| ${build.label} | ${parts} | ${predicted} | ${build.time.toFixed(2)}× | ${build.instructions.toFixed(2)}× | ${percent(build.silent.rate)} [${percent(lo)}, ${percent(hi)}] |`);
}
