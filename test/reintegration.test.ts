// Reintegration over the cross-strap link: for every mode, a failover whose failed processor comes back
// with no second fault during it leaves the command stream and the state reached equal to the
// fault-free run's; a second fault while the spare is being reintegrated is a rollback (no spare); and
// a bit flipped in a commit's stream in transit is caught and sent again, never reaching the spare.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Fault } from '../src/faults/fault.js';
import { parseMission, type MissionInput } from '../src/mission/config.js';
import { prepareFlight, simulate, type RunResult } from '../src/mission/fly.js';
import type { ControllerState } from '../src/spare/controller.js';

const CYCLES = 400;
const BASE: MissionInput = { duration: CYCLES * 0.1, upsets: { count: 0 } };

/**
 * A flip the primary's comparator catches: the sign bit of one of the reference software's estimated
 * attitude's components (`which` 0–3), read every cycle. A failover follows within the epoch.
 */
const failoverAt = (cycle: number, which = 3): Fault => ({ cycle, target: 'memory', processor: 'primary', core: 'A', location: 1024 + 8 * which + 7, bit: 7, width: 1 });

interface Flown {
  run: RunResult;
  finalState: { memory: Buffer; globals: unknown[] };
  states: ControllerState[];
}

function fly(input: MissionInput, upsets: Fault[]): Flown {
  const setup = prepareFlight(parseMission({ ...BASE, ...input }, 'reintegration test'));
  let finalState: Flown['finalState'] | null = null;
  const states: ControllerState[] = [];
  const run = simulate(setup, {
    upsets,
    oracle: true,
    onCycle: ({ cycle, computer }) => {
      states.push(computer.controllerState);
      if (cycle === setup.cycles - 1) {
        const core = computer.primary.cores[0];
        finalState = { memory: Buffer.from(core.memoryBytes()), globals: core.globals.map((global) => global.value) };
      }
    },
  });
  return { run, finalState: finalState!, states };
}

/** The default link, and one fast enough for a stop-and-copy to fit a period's slack. */
const FAST_LINK = { bandwidthBytesPerSecond: 10e6 };

describe('reintegration over the cross-strap link', () => {
  let faultFree: Flown;
  beforeAll(() => {
    faultFree = fly({}, []);
  });

  for (const [mode, link] of [
    ['precopy', {}],
    ['instant', {}],
    ['stop-and-copy', FAST_LINK],
  ] as const) {
    it(`property (${mode}): with no second fault during it, the command stream and the state reached equal the fault-free run's`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 20, max: CYCLES - 120 }), (cycle) => {
          const flown = fly({ reintegration: mode, link }, [failoverAt(cycle)]);
          expect(flown.run.failovers).toBe(1);
          expect(flown.run.missedDeadlines).toBe(0);
          expect(flown.run.reintegration).toMatchObject({ mode, downtimeCycles: 0 });
          if (mode !== 'instant') expect(flown.run.reintegration.count).toBe(1);
          expect(flown.run.commandDigest).toBe(faultFree.run.commandDigest);
          expect(flown.finalState.memory.equals(faultFree.finalState.memory)).toBe(true);
          expect(flown.finalState.globals).toEqual(faultFree.finalState.globals);
          expect(flown.states.at(-1)).toBe('duplex');
        }),
        { numRuns: 4 },
      );
    });
  }

  it('precopy at the defaults: rounds in the slack, no downtime, no missed deadline; stop-and-copy at the defaults stops the primary', () => {
    const precopy = fly({ reintegration: 'precopy' }, [failoverAt(40)]);
    expect(precopy.run.reintegration.count).toBe(1);
    expect(precopy.run.reintegration.roundsMean).toBeGreaterThanOrEqual(2);
    expect(precopy.run.reintegration.simplexSecondsTotal).toBeGreaterThan(0);
    expect(precopy.states).toContain('reintegrating');
    expect(precopy.run.missedDeadlines).toBe(0);
    const stop = fly({ reintegration: 'stop-and-copy' }, [failoverAt(40)]);
    expect(stop.run.reintegration.downtimeCycles).toBeGreaterThan(0);
    expect(stop.run.missedDeadlines).toBe(stop.run.reintegration.downtimeCycles);
    expect(stop.states).toContain('stopped-for-copy');
  });

  it('a second fault while the spare is being reintegrated is a rollback: the cycle is lost, no failover', () => {
    const first = failoverAt(40);
    const clean = fly({ reintegration: 'precopy' }, [first]);
    const window = clean.states.map((state, cycle) => (state === 'reintegrating' ? cycle : -1)).filter((cycle) => cycle >= 0);
    expect(window.length).toBeGreaterThan(2);
    // Struck inside the window, caught at the next epoch's end while there is still no spare.
    const second = failoverAt(window[0] + 1, 2);
    const flown = fly({ reintegration: 'precopy' }, [first, second]);
    expect(flown.run.failovers).toBe(1);
    expect(flown.run.detections.mismatch).toBe(2);
    expect(flown.run.missedDeadlines).toBe(1);
    expect(flown.run.events.some((event) => event.kind === 'missed-deadline')).toBe(true);
    expect(flown.run.commandDigest).not.toBe(faultFree.run.commandDigest);
    expect(flown.run.undetectedDivergences).toBe(0);
    expect(flown.run.reintegration.count).toBe(1);
  });

  it('property: a bit flipped in a commit\'s stream in transit is caught and sent again; nothing reaches the spare', () => {
    const interval = 16;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: CYCLES / interval - 1 }), fc.nat(200), fc.nat(7), fc.integer({ min: 1, max: 4 }), (epoch, byte, bit, width) => {
        const fault: Fault = { cycle: epoch * interval - 1, target: 'link', location: byte, bit, width };
        const flown = fly({}, [fault]);
        expect(flown.run.commandDigest).toBe(faultFree.run.commandDigest);
        expect(flown.run.detections).toEqual(faultFree.run.detections);
        // Every commit streams more than 200 bytes on the reference software: the flip always lands.
        expect(flown.run.checkpoint.compressedBytesPerCommitMax).toBeGreaterThan(200);
        expect(flown.run.checkpoint.resends).toBe(1);
        expect(flown.finalState.memory.equals(faultFree.finalState.memory)).toBe(true);
      }),
      { numRuns: 6 },
    );
  });
});
