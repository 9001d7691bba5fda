// Lasting faults and health management (issue 14, parts 1 and 2): a dead processor is failed over once
// and declared failed; a dead spare is noticed within the heartbeat bound; a stuck bit is caught again
// after each resync until the fail threshold removes its processor, which is never reintegrated; a
// babbling core is outvoted by its comparator; upset files name the entry they get wrong.
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Fault } from '../src/faults/fault.js';
import { readUpsetFile } from '../src/faults/upset-file.js';
import { randomFaults } from '../src/faults/draw.js';
import { faultDomains, ALL_CORES } from '../src/faults/fault-space.js';
import { simulate } from '../src/mission/fly.js';
import './fast-check-seed.js';
import { fly, setupFor } from './support.js';

const SHORT = { duration: 30 };
/** A bit of the reference software's state that rewrites every epoch with either value (a low mantissa bit of its estimator state). */
const STUCK_ONE: Fault = { cycle: 60, kind: 'stuck', stuckAt: 1, target: 'memory', processor: 'P1', core: 'A', location: 1024, bit: 0, width: 1 };

describe('lasting faults', () => {
  it('a dead P1 gives exactly one failover, no missed deadline, P1 declared failed, and the mission flies on in simplex', () => {
    const setup = setupFor(SHORT);
    const clean = fly(setup, []).result;
    let finalState = '';
    const run = simulate(setup, {
      upsets: [{ cycle: 100, kind: 'dead', target: 'memory', processor: 'P1', location: 0, bit: 0, width: 1 }],
      oracle: true,
      onCycle: ({ computer }) => (finalState = computer.controllerState),
    });
    expect(run.failovers).toBe(1);
    expect(run.detections.watchdog).toBe(1);
    expect(run.missedDeadlines).toBe(0);
    expect(run.health).toEqual({ failedProcessors: ['P1'], degradedAtCycle: 100, spareFailuresDetected: 0, heartbeatLatencyCyclesMax: 0 });
    expect(run.reintegration.count).toBe(0);
    expect(finalState).toBe('simplex');
    expect(run.commandDigest).toBe(clean.commandDigest);
  });

  it('a dead spare is noticed within the heartbeat bound, whatever the core, cycle and bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 25 }), fc.integer({ min: 0, max: 150 }), fc.constantFrom<'A' | 'B' | undefined>('A', 'B', undefined), (heartbeatCycles, cycle, core) => {
        const setup = setupFor({ duration: 20, health: { heartbeatCycles } });
        const dead: Fault = { cycle, kind: 'dead', target: 'memory', processor: 'P2', ...(core ? { core } : {}), location: 0, bit: 0, width: 1 };
        const { result } = fly(setup, [dead], false);
        expect(result.failovers).toBe(0);
        expect(result.health.spareFailuresDetected).toBe(1);
        expect(result.health.failedProcessors).toEqual(['P2']);
        expect(result.health.heartbeatLatencyCyclesMax).toBeGreaterThanOrEqual(1);
        expect(result.health.heartbeatLatencyCyclesMax).toBeLessThanOrEqual(heartbeatCycles);
        expect(result.health.degradedAtCycle! - cycle + 1).toBe(result.health.heartbeatLatencyCyclesMax);
      }),
      { numRuns: 6 },
    );
  });

  it('a stuck bit is caught again after each resync until the threshold removes its processor, never to be reintegrated', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), (failThreshold) => {
        const setup = setupFor({ duration: 120, health: { failThreshold, failWindowSeconds: 600 } });
        let retiredAt = -1;
        let reintegrationsAtRetirement = -1;
        const run = simulate(setup, {
          upsets: [STUCK_ONE],
          oracle: false,
          onCycle: ({ cycle, computer }) => {
            if (retiredAt < 0 && computer.health.isRetired('P1')) {
              retiredAt = cycle;
              reintegrationsAtRetirement = computer.reintegrations.count;
            }
            if (retiredAt >= 0) {
              // Never trusted again: P1 never flies, no spare is brought back, the computer stays simplex.
              expect(computer.primary.name).toBe('P2');
              expect(['simplex', 'rollback']).toContain(computer.controllerState);
              expect(computer.reintegrations.count).toBe(reintegrationsAtRetirement);
            }
          },
        });
        expect(retiredAt).toBeGreaterThan(0);
        expect(run.health.failedProcessors).toEqual(['P1']);
        // One detection as primary, then one per scrub of the spare until the threshold.
        expect(run.failovers).toBe(1);
        expect(run.health.spareFailuresDetected).toBe(failThreshold - 1);
        expect(run.missedDeadlines).toBe(0);
        expect(run.undetectedDivergences).toBe(0);
      }),
      { numRuns: 3 },
    );
  });

  it('without a threshold a stuck processor is reintegrated and its scrub keeps finding the bit', () => {
    const { result } = fly(setupFor({ duration: 120 }), [STUCK_ONE], false);
    expect(result.health.failedProcessors).toEqual([]);
    expect(result.health.spareFailuresDetected).toBeGreaterThanOrEqual(2);
    expect(result.reintegration.count).toBeGreaterThanOrEqual(1);
  });

  it('a babbling core is caught by its comparator at once, and the spare flies the fault-free commands', () => {
    const setup = setupFor(SHORT);
    const clean = fly(setup, []).result;
    const { result } = fly(setup, [{ cycle: 150, kind: 'babbling', target: 'memory', processor: 'primary', core: 'B', location: 0, bit: 0, width: 1 }]);
    expect(result.detectionsByMismatch.outputs).toBeGreaterThanOrEqual(1);
    expect(result.events.find((event) => event.kind === 'detection')?.cycle).toBe(150);
    expect(result.failovers).toBe(1);
    expect(result.undetectedDivergences).toBe(0);
    expect(result.commandDigest).toBe(clean.commandDigest);
  });

  it('random draws give lasting kinds only where asked, from their own stream: the places stay those of flips', () => {
    const domains = faultDomains({ memoryBytes: 65536, globalTypes: ['i32'] }, ['memory', 'global', 'checkpoint'], ALL_CORES);
    const plan = { seed: 3, cycles: 1000, controlPeriod: 0.1, count: 200, width: 1 };
    const flips = randomFaults(domains, plan);
    const mixed = randomFaults(domains, { ...plan, kinds: ['flip', 'stuck', 'dead', 'babbling'] });
    expect(randomFaults(domains, { ...plan, kinds: ['flip'] })).toEqual(flips);
    expect(mixed.map(({ cycle, target, location }) => [cycle, target, location])).toEqual(flips.map(({ cycle, target, location }) => [cycle, target, location]));
    const kinds = new Set(mixed.map((fault) => fault.kind ?? 'flip'));
    expect([...kinds].sort()).toEqual(['babbling', 'dead', 'flip', 'stuck']);
    for (const fault of mixed) {
      if (fault.target === 'checkpoint') expect(fault.kind).toBeUndefined();
      if (fault.kind === 'stuck') expect([0, 1]).toContain(fault.stuckAt);
    }
  });
});

describe('upset files with lasting faults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-health-'));
  const write = (upsets: unknown[]) => {
    const path = join(dir, `upsets-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify({ upsets }));
    return path;
  };
  const pair = { processors: ['P1', 'P2'] as const, description: 'a lock-step pair with a hot spare' };

  it('reads kinds, identities and old entries alike', () => {
    const faults = readUpsetFile(
      write([
        { cycle: 1000, kind: 'dead', processor: 'P1' },
        { cycle: 5, target: 'memory', address: 64, bit: 1 },
        { cycle: 7, kind: 'stuck', target: 'global', global: 0, bit: 3, value: 0, processor: 'P2', core: 'B' },
        { cycle: 9, kind: 'babbling', processor: 'spare', core: 'A' },
      ]),
      2000,
      pair,
    );
    expect(faults.map((fault) => [fault.cycle, fault.kind, fault.processor, fault.core])).toEqual([
      [5, undefined, 'primary', 'A'],
      [7, 'stuck', 'P2', 'B'],
      [9, 'babbling', 'spare', 'A'],
      [1000, 'dead', 'P1', undefined],
    ]);
    expect(faults[1].stuckAt).toBe(0);
  });

  it.each([
    [[{ cycle: 1, kind: 'melted', processor: 'P1' }], /upsets\[0\]\.kind: .*"flip"\|"stuck"\|"dead"\|"babbling"/],
    [[{ cycle: 1, target: 'memory', address: 0, bit: 0 }, { cycle: 2, kind: 'dead', processor: 'P3' }], /upsets\[1\]\.processor: P3 is not a processor of a lock-step pair with a hot spare \(it has P1, P2\)/],
    [[{ cycle: 1, kind: 'stuck', target: 'memory', address: 0, bit: 0 }], /upsets\[0\]\.value: required for a stuck upset/],
    [[{ cycle: 1, kind: 'stuck', target: 'checkpoint', address: 0, bit: 0, value: 1 }], /upsets\[0\]\.target: a stuck upset holds bits of a core's memory or global/],
    [[{ cycle: 1, kind: 'dead', processor: 'P1', address: 4 }], /upsets\[0\]\.address: not a field of a dead upset/],
    [[{ cycle: 1, target: 'memory', address: 0, bit: 0, value: 1 }], /upsets\[0\]\.value: only a stuck upset holds a value/],
    [[{ cycle: 1, kind: 'flip', address: 0, bit: 0 }], /upsets\[0\]\.target: required/],
  ])('refuses %j, naming the entry', (upsets, message) => {
    expect(() => readUpsetFile(write(upsets), 100, pair)).toThrow(message);
  });
});
