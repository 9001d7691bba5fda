// The replicated persistent store (src/spare/persistent-store.ts, docs/persistent-store.md): the ABI's
// optional persistent region and its checks; modules without one fly exactly as before; protocol C never
// releases a command before the replica holds the cycle's write; a cold spare boots with the replica and
// resumes pointing; an upset in the replica is found by its checksum (a cold boot falls back to the
// initial image) and campaigns judge it, never silent.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectModule } from '../src/abi/contract.js';
import { CampaignContext, hashFile, type CampaignSpec } from '../src/campaign/context.js';
import { FlightModule } from '../src/core/flight-module.js';
import type { Fault } from '../src/faults/fault.js';
import { readUpsetFile } from '../src/faults/upset-file.js';
import { parseMission, type MissionInput } from '../src/mission/config.js';
import { prepareFlight, REFERENCE_FSW, simulate, type CycleObservation } from '../src/mission/fly.js';
import { transferSeconds } from '../src/spare/link.js';
import { crc32, PersistentStore, writeBytes } from '../src/spare/persistent-store.js';
import { CrossStrapLink, DEFAULT_LINK } from '../src/spare/link.js';
import { wat } from './support.js';

const C_FSW = fileURLToPath(new URL('../examples/c-adcs/adcs.wasm', import.meta.url));
/** The sign bit of the reference software's estimated attitude w in core B: read every cycle, an outputs mismatch at once. */
const FORCING = (cycle: number): Fault => ({ cycle, target: 'memory', processor: 'primary', core: 'B', location: 1024 + 31, bit: 7, width: 1 });

function moduleWith(exports: string, memoryPages = 1): Uint8Array {
  return wat(`(module
    (memory (export "memory") ${memoryPages})
    (global $g (mut i32) (i32.const 0))
    (func (export "init"))
    (func (export "step") (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.const 1))))
    ${exports})`);
}

function problemsOf(exports: string): string[] {
  return inspectModule(moduleWith(exports), 'store.wasm').problems;
}

function setupFor(input: Partial<MissionInput>, module?: FlightModule) {
  return prepareFlight(parseMission({ upsets: { count: 0 }, ...input }, 'test'), module);
}

describe('the persistent region in the ABI (src/abi/persistent-region.ts)', () => {
  it('reads offset and length from the two constant exports', () => {
    const report = inspectModule(moduleWith('(func (export "persistent_offset") (result i32) (i32.const 64)) (func (export "persistent_length") (result i32) (i32.const 16))'), 'store.wasm');
    expect(report.problems).toEqual([]);
    expect(report.persistent).toEqual({ offset: 64, length: 16 });
    expect(inspectModule(moduleWith(''), 'plain.wasm').persistent).toBeNull();
  });

  it('refuses a declaration that breaks the ABI, naming the export', () => {
    expect(problemsOf('(func (export "persistent_offset") (result i32) (i32.const 64))')).toEqual([expect.stringMatching(/^export "persistent_length": missing/)]);
    expect(problemsOf('(func (export "persistent_offset") (result i32) (i32.add (i32.const 60) (i32.const 4))) (func (export "persistent_length") (result i32) (i32.const 16))')).toEqual([
      expect.stringMatching(/^export "persistent_offset": must return a constant/),
    ]);
    expect(problemsOf('(func (export "persistent_offset") (param i32) (result i32) (i32.const 64)) (func (export "persistent_length") (result i32) (i32.const 16))')).toEqual([
      expect.stringMatching(/^export "persistent_offset": must have the signature \(\) -> \(i32\)/),
    ]);
    expect(problemsOf('(global (export "persistent_offset") i32 (i32.const 64)) (func (export "persistent_length") (result i32) (i32.const 16))')).toEqual([
      expect.stringMatching(/^export "persistent_offset": must be a function/),
    ]);
    expect(problemsOf('(func (export "persistent_offset") (result i32) (i32.const 64)) (func (export "persistent_length") (result i32) (i32.const 0))')).toEqual([
      expect.stringMatching(/^export "persistent_length": returns 0; a persistent region holds 1 to 4096 bytes/),
    ]);
    expect(problemsOf('(func (export "persistent_offset") (result i32) (i32.const 65530)) (func (export "persistent_length") (result i32) (i32.const 16))')).toEqual([
      expect.stringMatching(/^export "persistent_offset": the region 65530\.\.65545 lies beyond the module's initial memory of 65536 bytes/),
    ]);
  });

  it('the reference and the C flight software both declare one', () => {
    expect(FlightModule.fromFile(REFERENCE_FSW).persistent).toEqual({ offset: expect.any(Number), length: 56 });
    expect(FlightModule.fromFile(C_FSW).persistent).toEqual({ offset: expect.any(Number), length: 56 });
  });
});

describe('the replica (src/spare/persistent-store.ts)', () => {
  it('sends only the changed bytes, and its checksum finds a flipped bit', () => {
    const memory = new Uint8Array(256);
    const store = new PersistentStore({ offset: 64, length: 32 }, 'sync', new CrossStrapLink(DEFAULT_LINK), memory);
    expect(store.replicate(memory, 0)).toBe(0);
    memory[70] = 1;
    memory[73] = 2;
    expect(store.replicate(memory, 0)).toBe(transferSeconds(DEFAULT_LINK, writeBytes(4)));
    expect(Array.from(store.replica.subarray(0, 32))).toEqual(Array.from(memory.subarray(64, 96)));
    expect(store.verify()).toBe(true);
    for (let bit = 0; bit < (32 + 4) * 8; bit += 7) {
      store.replica[bit >> 3] ^= 1 << (bit & 7);
      expect(store.verify(), `bit ${bit}`).toBe(false);
      store.replica[bit >> 3] ^= 1 << (bit & 7);
    }
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('protocol A lands writes after the transfer, and loses those in flight when the primary is reset', () => {
    const memory = new Uint8Array(256);
    const store = new PersistentStore({ offset: 0, length: 16 }, 'async', new CrossStrapLink(DEFAULT_LINK), memory);
    memory[3] = 9;
    expect(store.replicate(memory, 1)).toBe(0);
    expect(store.replica[3]).toBe(0);
    store.deliver(1 + transferSeconds(DEFAULT_LINK, writeBytes(1)));
    expect(store.replica[3]).toBe(9);
    memory[4] = 5;
    store.replicate(memory, 2);
    store.senderReset(2);
    expect(store.account.lostWrites).toBe(1);
    expect(store.bootImage(3)![4]).toBe(0);
  });
});

describe('flying with the store', () => {
  it('a module without the region flies exactly as before, whatever the replication setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-store-'));
    const path = join(dir, 'plain.wasm');
    writeFileSync(path, moduleWith(''));
    const runs = (['sync', 'async', 'off'] as const).map((replication) => {
      const setup = setupFor({ fsw: path, duration: 20, spare: 'cold', persistentStore: { replication } });
      const modelled: number[] = [];
      const run = simulate(setup, { upsets: [{ cycle: 30, target: 'memory', processor: 'primary', core: 'A', location: 64, bit: 0, width: 1 }], oracle: true, onCycle: ({ report }) => modelled.push(report.modelledSeconds) });
      expect(run.persistentStore).toBeNull();
      expect(run.failovers).toBe(1);
      return { digest: run.commandDigest, modelled, events: run.events };
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });

  it('protocol C never releases a command before the replica holds the cycle\'s write, and charges the wait to the cycle', () => {
    const setup = setupFor({ duration: 400, spare: 'hot' });
    let released = 0;
    let waited = 0;
    let detached = 0;
    const onCycle = ({ report, computer }: CycleObservation) => {
      const store = computer.persistentStore!;
      const { offset, length } = store.region;
      if (!report.released) return;
      released++;
      // After the hot failover the replica's processor is reintegrated: no replica to wait for until the
      // reintegration's last round brings the region (DRBD's disconnected primary, then resync).
      if (!store.attached) {
        detached++;
        expect(report.linkWaitSeconds).toBe(0);
        return;
      }
      const region = computer.primary.cores[0].memoryBytes().subarray(offset, offset + length);
      expect(Buffer.compare(Buffer.from(store.replica.subarray(0, length)), Buffer.from(region)), `cycle ${report.cycle}`).toBe(0);
      expect(store.verify()).toBe(true);
      if (report.linkWaitSeconds > 0) waited++;
      expect(report.modelledSeconds).toBeGreaterThanOrEqual(report.linkWaitSeconds);
    };
    const run = simulate(setup, { upsets: [FORCING(3500)], oracle: false, onCycle });
    expect(released).toBe(setup.cycles);
    expect(run.reintegration.count).toBe(1);
    expect(detached).toBeGreaterThan(0);
    expect(detached).toBeLessThan(setup.cycles - 3500);
    // The reference software writes its region every cycle it points.
    expect(waited).toBeGreaterThan(setup.cycles / 2);
    expect(run.persistentStore).toMatchObject({ replication: 'sync', regionBytes: 56 });
    expect(run.undetectedDivergences).toBe(0);
  });

  it('one link per flight computer: commits, the reintegration\'s rounds (which bring the replica back) and the store\'s writes share its account', () => {
    const linkOf = (replication: 'sync' | 'async' | 'off') => {
      let account: { bytes: number; busySeconds: number } | null = null;
      let afterReintegration = 0;
      const run = simulate(setupFor({ duration: 400, spare: 'hot', persistentStore: { replication } }), {
        upsets: [FORCING(3500)],
        oracle: false,
        onCycle: ({ computer }) => {
          account = computer.link;
          const store = computer.persistentStore;
          // Back from the reintegration: the replica is the primary's region (protocol C: at every release;
          // A: as its writes land), its checksum holding.
          if (store?.attached && computer.reintegrations.count > 0) {
            const { offset, length } = store.region;
            if (replication === 'sync') expect(Buffer.compare(Buffer.from(store.replica.subarray(0, length)), Buffer.from(computer.primary.cores[0].memoryBytes().subarray(offset, offset + length)))).toBe(0);
            expect(store.verify()).toBe(true);
            afterReintegration++;
          }
        },
      });
      const { bytes } = account!;
      const storeBytes = run.persistentStore?.bytes ?? 0;
      expect(run.reintegration).toMatchObject({ count: 1, downtimeCycles: 0 });
      expect(run.missedDeadlines).toBe(0);
      // Every byte on the link is a commit's, a reintegration round's or the store's: one account.
      expect(bytes).toBe(run.checkpoint.commits * run.checkpoint.compressedBytesPerCommitMean + run.reintegration.bytesTotal + storeBytes);
      if (replication !== 'off') expect(afterReintegration).toBeGreaterThan(0);
      return { utilization: run.checkpoint.linkUtilization, storeBytes, rounds: run.reintegration.bytesTotal };
    };
    const off = linkOf('off');
    const sync = linkOf('sync');
    const async = linkOf('async');
    expect(off.storeBytes).toBe(0);
    expect(sync.storeBytes).toBeGreaterThan(0);
    // The store's traffic shows in the one utilization figure, and its region rides in every round.
    expect(sync.utilization).toBeGreaterThan(off.utilization);
    expect(async.utilization).toBeGreaterThan(off.utilization);
    expect(sync.rounds).toBeGreaterThan(off.rounds);
  });

  it('protocol A does not make the commands wait', () => {
    const run = simulate(setupFor({ duration: 400, persistentStore: { replication: 'async' } }), { upsets: [], oracle: false, onCycle: ({ report }) => expect(report.linkWaitSeconds).toBe(0) });
    expect(run.persistentStore).toMatchObject({ replication: 'async', linkWaitMsMax: 0, lostWrites: 0 });
    expect(run.persistentStore!.bytes).toBeGreaterThan(0);
  });

  for (const fsw of [REFERENCE_FSW, C_FSW]) {
    it(`a cold spare boots with the replica and keeps pointing; without it, it re-learns in rate damping (${fsw === C_FSW ? 'C' : 'AssemblyScript'})`, () => {
      const failover = 3500;
      const modes = (replication: 'sync' | 'off') => {
        const setup = setupFor({ fsw, duration: 400, spare: 'cold', persistentStore: { replication } });
        const mode: number[] = [];
        const run = simulate(setup, { upsets: [FORCING(failover)], oracle: false, onTelemetry: (row) => mode.push(row.mode) });
        expect(run.failovers).toBe(1);
        return { run, rateDamping: mode.slice(failover).filter((m) => m === 0).length };
      };
      const withStore = modes('sync');
      const without = modes('off');
      expect(withStore.run.persistentStore).toMatchObject({ bootsFromReplica: 1, bootsFromInitialImage: 0 });
      expect(without.run.persistentStore).toBeNull();
      expect(withStore.rateDamping).toBe(0);
      expect(without.rateDamping).toBeGreaterThanOrEqual(50);
    });
  }

  it('an upset in the replica is found: a cold boot before the scrub falls back to the initial image', () => {
    const setup = setupFor({ duration: 400, spare: 'cold' });
    // Cycle 3500 is not an epoch's end (16-cycle epochs): the boot reads the replica before any scrub.
    const replicaFlip: Fault = { cycle: 3500, target: 'replica', location: 10, bit: 3, width: 1 };
    const run = simulate(setup, { upsets: [replicaFlip, FORCING(3500)], oracle: false });
    expect(run.persistentStore).toMatchObject({ bootsFromReplica: 0, bootsFromInitialImage: 1, checksumFailures: 1 });
    expect(run.events.filter((event) => event.kind === 'replica')).toEqual([{ cycle: expect.any(Number), kind: 'replica', detail: expect.stringMatching(/checksum failed: the cold spare booted from the initial image/) }]);
  });

  it('an upset in the replica is repaired by the scrub at the epoch\'s end', () => {
    const setup = setupFor({ duration: 400, spare: 'hot' });
    let repairedAt = -1;
    const run = simulate(setup, {
      // The marker's byte: rewritten with the same value every cycle, so no write covers it; only the scrub can.
      upsets: [{ cycle: 3001, target: 'replica', location: 1, bit: 0, width: 1 }],
      oracle: false,
      onCycle: ({ cycle, computer }) => {
        if (repairedAt < 0 && cycle >= 3001 && computer.persistentStore!.verify()) repairedAt = cycle;
      },
    });
    expect(run.persistentStore!.checksumFailures).toBe(1);
    expect(repairedAt).toBeGreaterThanOrEqual(3001);
    expect(repairedAt).toBeLessThanOrEqual(3007);
    expect(run.events.some((event) => event.kind === 'replica' && /scrub found its checksum wrong/.test(event.detail))).toBe(true);
  });

  it('upset files name a replica byte by address, and refuse a processor for it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-store-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ upsets: [{ cycle: 5, target: 'replica', address: 3, bit: 1 }] }));
    expect(readUpsetFile(good)).toEqual([{ cycle: 5, target: 'replica', location: 3, bit: 1, width: 1 }]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ upsets: [{ cycle: 5, target: 'replica', core: 'B', address: 3, bit: 1 }] }));
    expect(() => readUpsetFile(bad)).toThrow(/upsets\[0\]\.core.*not a field of a replica upset/);
  });

  it('refuses protocol A on a link too slow for one write per period, naming the field', () => {
    expect(() => setupFor({ persistentStore: { replication: 'async' }, link: { bandwidthBytesPerSecond: 100, latencySeconds: 0 } })).toThrow(/persistentStore\.replication: a write of the whole persistent region \(68 bytes\) takes 680\.000 ms/);
  });
});

describe('campaigns strike the replica', () => {
  it('every replica experiment under pair+spare is masked by the scrub or latent before the horizon: never silent', () => {
    const mission = parseMission({ duration: 60, seed: 3, upsets: { count: 0 } }, 'test');
    const spec: CampaignSpec = {
      mission: { ...mission, fsw: undefined },
      fsw: REFERENCE_FSW,
      fswSha256: hashFile(REFERENCE_FSW),
      seed: 3,
      targets: ['replica', 'memory'],
      configs: ['single', 'pair', 'pair+spare'],
      horizon: 100,
      width: 1,
      snapshotInterval: 10,
      cores: ['A', 'B'],
      memoryRange: 'used',
    };
    const context = new CampaignContext(spec);
    let replica = 0;
    for (let index = 0; index < 40; index++) {
      const record = context.run(index);
      if (record.target !== 'replica') continue;
      replica++;
      expect(Object.keys(record.outcomes)).toEqual(['pair+spare']);
      const outcome = record.outcomes['pair+spare']!;
      expect(['masked', 'latent']).toContain(outcome.outcome);
      if (outcome.outcome === 'masked') expect(outcome.latency).toBeLessThanOrEqual(16);
    }
    expect(replica).toBe(20);
  });
});
