// The golden run's memory: per-cycle data in packed arrays, core snapshots holding only the blocks the
// golden run writes (over one base image), and snapshots spaced by a memory budget. Restoring an earlier
// snapshot and stepping forward reaches the same state, so the budget changes no record: the same
// experiments run with a roomy and a tight budget give identical records, for the reference flight
// software and the C one, for every target. (How many bytes a cycle costs is a benchmark's business:
// `lockstep bench` reports memory.goldenRun.)
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CampaignContext, campaignSpecOf, type CampaignSpec } from '../src/campaign/context.js';
import type { ExperimentRecord, Target } from '../src/campaign/experiment.js';
import { goldenRunBytes, loadFrame } from '../src/campaign/golden.js';
import { INPUT_CHANNELS, OUTPUT_CHANNELS } from '../src/abi/channels.js';
import { createSpacecraft } from '../src/plant/spacecraft.js';
import { Core } from '../src/core/core.js';
import { parseMission } from '../src/mission/config.js';
import { REFERENCE_FSW } from '../src/mission/fly.js';

const C_FSW = fileURLToPath(new URL('../examples/c-adcs/adcs.wasm', import.meta.url));

function specFor(fsw: string, targets: Target[]): CampaignSpec {
  return campaignSpecOf(parseMission({ fsw, duration: 150, seed: 23, upsets: { count: 0 } }, 'test'), { targets });
}

const TIGHT = 48 * 1024; // a dozen snapshots of the used blocks: the interval doubles several times

describe('golden-run snapshots spaced by a memory budget', () => {
  for (const [name, fsw, targets] of [
    ['reference', REFERENCE_FSW, ['memory', 'checkpoint', 'result', 'branch']],
    ['C', C_FSW, ['memory', 'global', 'checkpoint', 'result', 'branch']],
  ] as const) {
    it(`give the records of the spec's interval, whatever the budget (${name} flight software)`, () => {
      const spec = specFor(fsw, [...targets]);
      const roomy = new CampaignContext(spec);
      const tight = new CampaignContext(spec, { snapshotBudgetBytes: TIGHT });
      expect(roomy.golden.snapshots.interval).toBe(spec.snapshotInterval);
      expect(tight.golden.snapshots.interval).toBeGreaterThanOrEqual(8 * spec.snapshotInterval);
      expect(tight.golden.snapshots.payloadBytes).toBeLessThanOrEqual(TIGHT);
      // What the lone core's wrong commands do to the spacecraft, as the runners explain it (the worst
      // pointing error, to three digits): the spacecraft is rebuilt from the snapshot before the cycle.
      const explained = (context: CampaignContext, lines: string[]) => {
        for (const build of context.builds) build.runner.tracer = (cycle, event) => event.startsWith('single:') && lines.push(`${cycle} ${event}`);
      };
      const roomyLines: string[] = [];
      const tightLines: string[] = [];
      explained(roomy, roomyLines);
      explained(tight, tightLines);
      const records: ExperimentRecord[] = [];
      for (let index = 0; index < 500; index++) {
        const record = roomy.run(index);
        expect(tight.run(index), `experiment ${index}`).toEqual(record);
        expect(tightLines, `experiment ${index}`).toEqual(roomyLines);
        records.push(record);
      }
      // The experiments exercise the restore (simulated, between snapshots) and the spacecraft replay
      // (wrong commands flown closed-loop from a cycle between the tight budget's snapshots).
      const between = (record: ExperimentRecord) => record.cycle % tight.golden.snapshots.interval !== 0;
      expect(records.filter((record) => record.simulated > 0 && between(record)).length).toBeGreaterThan(50);
      expect(records.filter((record) => ['sdc', 'pointing-violation'].includes(record.outcomes.single?.outcome ?? '') && between(record)).length).toBeGreaterThan(5);
    });
  }

  it('a snapshot holds only the blocks the golden run wrote, over one base image, and restores the whole state', () => {
    const spec = specFor(REFERENCE_FSW, ['memory', 'checkpoint']);
    const context = new CampaignContext(spec);
    const { golden } = context;
    const snapshots = golden.snapshots;
    expect(snapshots.count).toBe(Math.ceil(golden.cycles / spec.snapshotInterval));
    // Every stored snapshot holds less than a tenth of the memory: the blocks written, not all of it.
    expect(snapshots.payloadBytes / snapshots.count).toBeLessThan(golden.memoryBytes / 10);
    // A core restored to snapshot k equals one that flew the golden inputs from launch to cycle k × interval.
    const flown = new Core(context.runner.module, 'flown', new Float64Array(INPUT_CHANNELS.length), context.setup.computer.memoryLimitBytes);
    flown.boot(context.setup.computer.bootInstructions);
    const restored = new Core(context.runner.module, 'restored', flown.inputs, context.setup.computer.memoryLimitBytes);
    for (let cycle = 0; cycle < golden.cycles; cycle++) {
      if (cycle % snapshots.interval === 0 && (cycle / snapshots.interval) % 7 === 3) {
        snapshots.restore(restored, cycle / snapshots.interval);
        expect(Buffer.compare(restored.memoryBytes(), flown.memoryBytes()), `cycle ${cycle}`).toBe(0);
        expect(restored.globals.map((global) => global.value)).toEqual(flown.globals.map((global) => global.value));
      }
      loadFrame(golden, cycle, flown.inputs);
      flown.step(context.setup.computer.watchdogInstructions);
    }
  });

  it('loadFrame makes every cycle\'s frame exactly as the spacecraft sensed it (the golden run keeps only the sensed channels)', () => {
    const context = new CampaignContext(specFor(REFERENCE_FSW, ['memory', 'checkpoint']));
    const { golden, setup } = context;
    const spacecraft = createSpacecraft(setup.scenario, setup.mission.seed);
    const sensed = new Float64Array(INPUT_CHANNELS.length);
    const loaded = new Float64Array(INPUT_CHANNELS.length);
    const applied = new Float64Array(OUTPUT_CHANNELS.length);
    for (let cycle = 0; cycle < golden.cycles; cycle++) {
      spacecraft.sense(cycle * setup.scenario.controlPeriod, sensed);
      loadFrame(golden, cycle, loaded);
      for (let channel = 0; channel < sensed.length; channel++) {
        if (!Object.is(loaded[channel], sensed[channel])) expect.fail(`cycle ${cycle}, ${INPUT_CHANNELS[channel]}: ${loaded[channel]} loaded, ${sensed[channel]} sensed`);
      }
      for (let channel = 0; channel < applied.length; channel++) {
        if (golden.writtenMasks[cycle] & (1 << channel)) applied[channel] = golden.outputs[cycle * applied.length + channel];
      }
      spacecraft.actuate(applied);
      spacecraft.advance();
    }
  });

  it('the golden run keeps packed arrays, not objects per cycle: its bytes are counted', () => {
    const context = new CampaignContext(specFor(REFERENCE_FSW, ['memory', 'checkpoint']));
    const { golden } = context;
    expect(golden.sensedInputs).toBeInstanceOf(Float64Array);
    const bytes = goldenRunBytes(golden);
    expect(bytes.perCycle).toBeGreaterThan(0);
    expect(bytes.total).toBe(bytes.perCycle * golden.cycles + bytes.snapshots + bytes.base);
  });
});
