// Campaign speed of two builds of lockstep, side by side: both builds' dist/ are imported into one process
// and run the same experiments in interleaved rounds of about 250 ms (after a warm-up), so that the ratio
// survives a noisy, shared machine. It also checks that both give the same records. A baseline build
// of another commit: `git worktree add /tmp/base <commit> --detach && (cd /tmp/base && npm ci)`.
//
//   node scripts/compare-campaign-speed.mjs <before-root> <after-root> [fsw] [duration s] [used|all]
import { loadavg } from 'node:os';
import { isDeepStrictEqual } from 'node:util';

const [beforeRoot, afterRoot, fsw = 'build/adcs.wasm', duration = '600', memoryRange = 'used'] = process.argv.slice(2);
if (!beforeRoot || !afterRoot) {
  process.stderr.write('usage: node scripts/compare-campaign-speed.mjs <before-root> <after-root> [fsw] [duration s] [used|all]\n');
  process.exit(2);
}
const ROUNDS = 24;

async function contextOf(root) {
  const { CampaignContext, hashFile } = await import(`${root}/dist/campaign/context.js`);
  const { parseMission } = await import(`${root}/dist/mission/config.js`);
  const { FlightModule } = await import(`${root}/dist/core/flight-module.js`);
  const mission = parseMission({ fsw, duration: Number(duration), upsets: { count: 0 } }, 'command line');
  const globals = FlightModule.fromFile(fsw, { channelMap: mission.channels }).stateGlobals.length > 0;
  const targets = globals ? ['memory', 'global', 'checkpoint'] : ['memory', 'checkpoint'];
  const spec = { mission: { ...mission, fsw: undefined }, fsw, fswSha256: hashFile(fsw), seed: 1, targets, configs: ['single', 'pair', 'pair+spare'], horizon: 100, width: 1, snapshotInterval: 10, cores: ['A', 'B'], memoryRange };
  return new CampaignContext(spec);
}

const builds = { before: await contextOf(beforeRoot), after: await contextOf(afterRoot) };
for (const context of Object.values(builds)) for (let index = 0; index < 1500; index++) context.run(1_000_000 + index);
const probe = process.hrtime.bigint();
for (let index = 0; index < 300; index++) builds.before.run(2_000_000 + index);
const round = Math.max(300, Math.round((300 * 0.25) / (Number(process.hrtime.bigint() - probe) / 1e9)));

const samples = { before: [], after: [] };
for (let r = 0; r < ROUNDS; r++) {
  const first = r * round;
  const records = {};
  for (const name of r % 2 ? ['after', 'before'] : ['before', 'after']) {
    const start = process.hrtime.bigint();
    records[name] = [];
    for (let index = first; index < first + round; index++) records[name].push(builds[name].run(index));
    samples[name].push(round / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  if (!isDeepStrictEqual(records.before, records.after)) throw new Error(`experiments ${first}–${first + round - 1}: the two builds' records differ`);
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
};
const paired = median(samples.after.map((rate, r) => rate / samples.before[r]));
process.stdout.write(
  `${fsw}, ${duration} s, memory ${memoryRange}: before ${median(samples.before).toFixed(0)} experiments/s, after ${median(samples.after).toFixed(0)} ` +
    `(${ROUNDS} rounds of ${round}, identical records); after/before ${paired.toFixed(3)} (median of the rounds' ratios; load ${loadavg()[0].toFixed(1)})\n`,
);
