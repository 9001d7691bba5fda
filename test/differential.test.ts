// The differential test of the two ways lockstep judges a fault, in the spirit of TigerBeetle's simulator:
// for random single faults of every target, the campaign runner's outcome (one faulty core beside its
// golden twin, the flight computer's rules applied analytically) must equal what flying that one fault
// through `fly`'s machinery — the whole flight computer in closed loop — shows, for `single` (one core,
// no comparator, no spare), `pair` (lock-step, no spare) and `pair+spare` (lock-step, hot spare): the
// outcome class, the detection cause (mismatch kind, trap kind) and the latency. Flight software with a
// persistent region adds the replica of the persistent store to the targets.
// FC_SEED=random explores other experiments; FC_RUNS sets how many (CI runs the fixed seed).
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { OUTPUT_CHANNELS } from '../src/abi/channels.js';
import { CampaignContext, hashFile, type CampaignSpec } from '../src/campaign/context.js';
import type { BaseConfig, Experiment, Outcome } from '../src/campaign/experiment.js';
import { FlightModule } from '../src/core/flight-module.js';
import { prepareFaultModule } from '../src/core/fault-core.js';
import { statesEqual } from '../src/core/state.js';
import { isInstructionFault, isLasting, type Fault, type FaultKind } from '../src/faults/fault.js';
import { parseMission, type Mission } from '../src/mission/config.js';
import { prepareFlight, REFERENCE_FSW, simulate, type CycleObservation } from '../src/mission/fly.js';
import { breaksPointing, type PointingError } from '../src/plant/scenario.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wat } from './support.js';

/**
 * A short mission holding attitude (no slew) with a tight pointing requirement from 5 s on, so that wrong
 * commands of a lone core end both as silent data corruption and as pointing violations.
 */
const REFERENCE = JSON.parse(readFileSync(new URL('../missions/reference.json', import.meta.url), 'utf8')) as { spacecraft: { initialAttitude: number[] } };
const MISSION_INPUT = {
  duration: 40,
  seed: 5,
  spacecraft: { initialRate: [0, 0, 0] },
  targetAttitude: REFERENCE.spacecraft.initialAttitude,
  pointing: { requirementDeg: 0.002, settleTime: 5 },
  upsets: { count: 0 },
};

/** Writes block 0 every cycle and block 2 (at 5000) only when its cycle counter is a multiple of 16. */
const EPOCH_WRITER = `(module
  (memory (export "memory") 1)
  (global $cycle (mut i32) (i32.const 0))
  (func (export "init"))
  (func (export "step")
    (i32.store (i32.const 100) (global.get $cycle))
    (if (i32.eqz (i32.rem_u (global.get $cycle) (i32.const 16)))
      (then (i32.store (i32.const 5000) (global.get $cycle))))
    (global.set $cycle (i32.add (global.get $cycle) (i32.const 1)))))`;

const HORIZON = 100;
const CONFIGS: readonly BaseConfig[] = ['single', 'pair', 'pair+spare'];
const RUNS = Number(process.env.FC_RUNS ?? 600);

/** How each configuration flies: one core alone, the pair without or with a hot spare, three voting without or with one. */
const FLOWN: Record<BaseConfig, { lockstep: boolean; spare: 'none' | 'hot'; redundancy: 'pair' | 'tmr' }> = {
  single: { lockstep: false, spare: 'none', redundancy: 'pair' },
  pair: { lockstep: true, spare: 'none', redundancy: 'pair' },
  'pair+spare': { lockstep: true, spare: 'hot', redundancy: 'pair' },
  tmr: { lockstep: true, spare: 'none', redundancy: 'tmr' },
  'tmr+spare': { lockstep: true, spare: 'hot', redundancy: 'tmr' },
};
const VOTED: readonly BaseConfig[] = ['tmr', 'tmr+spare'];

/** The experiment as the flight computer of `config` receives it: a lone processor has only core A; TMR's voters are P1, P2 (and P3). */
/** fly's measured pointing error, as the runner's rule asks it. */
function measuredPointing(errorDeg: number): PointingError {
  return { pointingErrorExceeds: (limitDeg) => errorDeg > limitDeg };
}

function faultFor(experiment: Experiment, config: BaseConfig): Fault {
  const { index: _index, ...fault } = experiment;
  if (VOTED.includes(config) && fault.processor === 'primary') return { ...fault, processor: fault.core === 'B' ? 'P2' : 'P1', core: 'A' };
  return config === 'single' && fault.core ? { ...fault, core: 'A' } : fault;
}

interface Subject {
  readonly name: string;
  /** The module's path, or a function writing it (a module made for the test). */
  readonly fsw: string | (() => string);
  readonly runs: number;
  readonly memoryRange: 'used' | 'all';
  /** Mission fields the subject changes. */
  readonly mission?: Record<string, unknown>;
  readonly targets?: CampaignSpec['targets'];
  /** Outcomes the property must have seen at least once (else it proves less than it says). */
  readonly mustSee: readonly string[];
  /** The configurations judged (default: single, pair, pair+spare). */
  readonly configs?: readonly BaseConfig[];
  /** What the faults do, by turns (default: flips). */
  readonly kinds?: readonly FaultKind[];
}

const SUBJECTS: readonly Subject[] = [
  {
    name: 'the reference flight software',
    fsw: REFERENCE_FSW,
    runs: RUNS,
    memoryRange: 'used',
    mustSee: ['single sdc', 'single pointing-violation', 'single masked', 'single detected', 'single latent', 'pair detected', 'pair masked', 'pair+spare recovered', 'pair+spare masked'],
  },
  {
    // All of memory: most faults land where the software never looks, latent alone and found by the scrub.
    name: 'the reference flight software, all of memory',
    fsw: REFERENCE_FSW,
    runs: Math.ceil(RUNS / 3),
    memoryRange: 'all',
    mustSee: ['single latent', 'pair detected', 'pair+spare recovered', 'pair latent', 'pair+spare latent'],
  },
  {
    // A clock so slow that replaying more than a few cycles of an epoch misses the deadline: both
    // judgements of a failover's time must agree to the instruction.
    name: 'the reference flight software on a slow clock',
    fsw: REFERENCE_FSW,
    runs: Math.ceil(RUNS / 3),
    memoryRange: 'used',
    mission: { clockHz: 3e6 },
    mustSee: ['pair+spare recovered', 'pair+spare failover-failed'],
  },
  {
    name: 'the C flight software',
    fsw: fileURLToPath(new URL('../examples/c-adcs/adcs.wasm', import.meta.url)),
    runs: Math.ceil(RUNS / 3),
    memoryRange: 'used',
    mustSee: ['single masked', 'pair detected', 'pair+spare recovered'],
  },
  {
    // A block written only at the first cycle of each epoch: a commit copies it although the checkpoint
    // fault struck after that write (the commit copies what changed since the last one).
    name: 'a module that writes a block once per epoch',
    fsw: () => {
      const path = join(mkdtempSync(join(tmpdir(), 'lockstep-differential-')), 'epoch-writer.wasm');
      writeFileSync(path, wat(EPOCH_WRITER));
      return path;
    },
    runs: Math.ceil(RUNS / 3),
    memoryRange: 'used',
    targets: ['checkpoint', 'memory', 'global'],
    mustSee: ['pair+spare masked', 'pair detected', 'pair+spare recovered'],
  },
  {
    // TMR's voters, and the lasting kinds of fault (issue 14): stuck bits, dead and babbling cores.
    name: 'the reference flight software, TMR and lasting faults',
    fsw: REFERENCE_FSW,
    runs: Math.ceil(RUNS / 10),
    memoryRange: 'used',
    targets: ['memory'],
    configs: ['single', 'pair+spare', 'tmr', 'tmr+spare'],
    kinds: ['flip', 'stuck', 'dead', 'babbling'],
    mustSee: ['tmr recovered', 'tmr+spare recovered', 'tmr masked', 'tmr latent', 'single detected', 'pair+spare recovered'],
  },
];

for (const subject of SUBJECTS) {
  describe(`differential: the campaign runner against the flight computer, on ${subject.name}`, () => {
    let context: CampaignContext;
    let mission: Mission;
    let plain: FlightModule;
    let hooked: FlightModule;
    /** A fault in the primary that its comparator catches: forces the failover a spare fault waits for. */
    let forcing: (cycle: number) => Fault;

    beforeAll(() => {
      const fsw = typeof subject.fsw === 'string' ? subject.fsw : subject.fsw();
      mission = parseMission({ ...MISSION_INPUT, ...subject.mission, fsw }, 'differential test');
      plain = FlightModule.fromFile(fsw);
      hooked = prepareFaultModule(readFileSync(fsw), fsw).flightModule;
      const hasGlobals = plain.stateGlobals.length > 0;
      const spec: CampaignSpec = {
        mission: { ...mission, fsw: undefined },
        fsw,
        fswSha256: hashFile(fsw),
        seed: mission.seed,
        // The replica of the persistent store, for flight software that declares a persistent region; the link's commits.
        targets:
          subject.targets ??
          [
            ...(hasGlobals ? (['memory', 'global', 'result', 'branch', 'checkpoint'] as const) : (['memory', 'result', 'branch', 'checkpoint'] as const)),
            ...(plain.persistent ? (['replica'] as const) : []),
            'link' as const,
          ],
        configs: [...(subject.configs ?? CONFIGS)],
        horizon: HORIZON,
        width: 1,
        snapshotInterval: 10,
        cores: ['A', 'B', 'spare'],
        memoryRange: subject.memoryRange,
        ...(subject.kinds ? { kinds: subject.kinds } : {}),
      };
      context = new CampaignContext(spec);
      // A global's flip is compared at every epoch end; without globals, the sign bit of the reference
      // software's estimated attitude w, read every cycle.
      forcing = (cycle) =>
        hasGlobals
          ? { cycle, target: 'global', processor: 'primary', core: 'B', location: 0, bit: 20, width: 1 }
          : { cycle, target: 'memory', processor: 'primary', core: 'A', location: 1024 + 31, bit: 7, width: 1 };
    });

    /**
     * Flies the experiment's fault through `simulate` and judges the run by what the machine shows: the
     * first detection (and what the controller made of it), released commands that differ from the
     * oracle's (then whether pointing broke before the next detection), or the struck state found equal
     * to the fault-free one (the oracle core, or the committed core for a checkpoint fault) — else latent.
     */
    function flyOutcome(experiment: Experiment, config: BaseConfig): Outcome {
      const end = Math.min(context.golden.cycles, experiment.cycle + HORIZON);
      const scenario = context.setup.scenario;
      const interval = context.setup.computer.checkpointInterval;
      const fault = faultFor(experiment, config);
      if (isInstructionFault(fault) && fault.location < 0) return { outcome: 'masked', latency: 0 };
      const spareFault = fault.processor === 'spare';
      // A spare fault flies on past the window, to the failover that the forcing fault brings.
      const cycles = spareFault ? end + 2 * interval : end;
      const setup = prepareFlight({ ...mission, ...FLOWN[config], duration: cycles * scenario.controlPeriod }, isInstructionFault(fault) ? hooked : plain);
      let outcome: Outcome | null = null;
      let wrong: { latency: number } | null = null;
      const onCycle = ({ cycle, report, computer, oracle, pointingErrorDeg }: CycleObservation) => {
        if (cycle < fault.cycle) {
          expect(report.detections).toEqual([]);
          return;
        }
        if (outcome !== null || spareFault) return;
        const latency = cycle - fault.cycle;
        const detection = report.detections[0];
        if (detection) {
          // A lone core's wrong commands end their watch at the next detection: the processor stopped.
          if (wrong) {
            outcome = { outcome: 'sdc', latency: wrong.latency };
            return;
          }
          const caught = { cause: detection.cause, ...(detection.mismatch ? { mismatch: detection.mismatch } : {}), ...(detection.trap ? { trap: detection.trap } : {}), latency };
          if (config === 'pair+spare') {
            expect(report.failover).toBe(true);
            outcome = { ...caught, outcome: report.missedDeadline ? 'failover-failed' : 'recovered' };
          } else if (VOTED.includes(config)) {
            // Outvoted: the majority's commands out in time, no failover, nothing rolled back.
            expect(report.failover).toBe(false);
            expect(report.released).toBe(true);
            outcome = { ...caught, outcome: 'recovered' };
          } else outcome = { ...caught, outcome: 'detected' };
          return;
        }
        if (wrong) {
          if (breaksPointing(cycle, measuredPointing(pointingErrorDeg), scenario)) outcome = { outcome: 'pointing-violation', latency: wrong.latency };
          return;
        }
        if (report.outputs && oracle && !report.outputs.sameCommandsAs(oracle.outputs)) {
          wrong = { latency };
          if (breaksPointing(cycle, measuredPointing(pointingErrorDeg), scenario)) outcome = { outcome: 'pointing-violation', latency };
          return;
        }
        if (fault.target === 'replica') {
          // Judged where the runner judges it, at commits: the replica equals the primary's region and its checksum holds.
          const store = computer.persistentStore!;
          const region = store.region;
          const primaryRegion = computer.primary.cores[0].memoryBytes().subarray(region.offset, region.offset + region.length);
          if (computer.checkpoint.cycle === cycle && store.verify() && Buffer.compare(Buffer.from(store.replica.subarray(0, region.length)), Buffer.from(primaryRegion)) === 0) {
            outcome = { outcome: 'masked', latency: latency + 1 };
          }
          return;
        }
        if (fault.target === 'link') {
          // Judged at its cycle: the spare's copy after that cycle's commit (if any) is exact, or not.
          const checkpoint = computer.checkpoint;
          const core = computer.primary.cores[0];
          const committed = checkpoint.cycle === cycle;
          const exact =
            Buffer.compare(Buffer.from(checkpoint.memory.buffer, checkpoint.memory.byteOffset, checkpoint.memoryLength), core.memoryBytes()) === 0 &&
            core.globals.every((global, i) => Object.is(checkpoint.globals.load(i), global.value));
          outcome = !committed || exact ? { outcome: 'masked', latency: 0 } : { outcome: 'sdc', latency: 0 };
          return;
        }
        if (fault.target === 'checkpoint') {
          const checkpoint = computer.checkpoint;
          const core = computer.primary.cores[0];
          const sameMemory = Buffer.compare(Buffer.from(checkpoint.memory.buffer, checkpoint.memory.byteOffset, checkpoint.memoryLength), core.memoryBytes()) === 0;
          const sameGlobals = core.globals.every((global, i) => Object.is(checkpoint.globals.load(i), global.value));
          if (checkpoint.cycle === cycle && sameMemory && sameGlobals) outcome = { outcome: 'masked', latency: latency + 1 };
          return;
        }
        // A lasting fault holds on: the runner never calls it masked.
        if (isLasting(fault)) return;
        const struck = VOTED.includes(config) ? computer.primary.cores.find((core) => core.name === fault.processor)! : computer.primary.cores[fault.core === 'B' ? 1 : 0];
        if (oracle && statesEqual(struck, oracle)) outcome = { outcome: 'masked', latency: latency + 1 };
      };
      const upsets: Fault[] = spareFault ? [fault, forcing(end - 1)] : [fault];
      const run = simulate(setup, { upsets, oracle: true, onCycle });
      if (spareFault) {
        // Masked: once the spare takes over it flies exactly the commands it would have fault-free.
        const faultFree = simulate(setup, { upsets: [upsets[1]], oracle: false });
        expect(run.failovers).toBe(1);
        return run.commandDigest === faultFree.commandDigest ? { outcome: 'masked', latency: 0 } : { outcome: 'sdc' };
      }
      if (outcome !== null) return outcome;
      return wrong ? { outcome: 'sdc', latency: (wrong as { latency: number }).latency } : { outcome: 'latent' };
    }

    it('the golden run is the flight computer\'s fault-free flight', () => {
      const setup = prepareFlight({ ...mission, ...FLOWN.pair }, plain);
      let cycle = 0;
      simulate(setup, {
        upsets: [],
        oracle: false,
        onCycle: ({ report }) => {
          expect(report.detections).toEqual([]);
          // The commands: the golden run keeps no debug outputs.
          const bits = report.outputs!.bits.subarray(0, 2 * OUTPUT_CHANNELS.length);
          expect(Array.from(bits)).toEqual(Array.from(context.golden.outputBits.subarray(cycle * bits.length, (cycle + 1) * bits.length)));
          cycle++;
        },
      });
      expect(cycle).toBe(context.golden.cycles);
    });

    it('property: a link fault in the cycle of a commit (in its stream, predictive payloads included, or past it) is judged alike, and masked: caught and sent again', () => {
      const interval = context.setup.computer.checkpointInterval;
      fc.assert(
        fc.property(fc.integer({ min: 1, max: Math.floor(context.golden.cycles / interval) - 1 }), fc.nat(1200), fc.nat(7), (epoch, byte, bit) => {
          const experiment: Experiment = { index: -1, cycle: epoch * interval - 1, target: 'link', location: byte, bit, width: 1 };
          const record = context.runner.run(experiment);
          expect(record.outcomes['pair+spare']).toEqual({ outcome: 'masked', latency: 0 });
          expect(flyOutcome(experiment, 'pair+spare')).toEqual(record.outcomes['pair+spare']);
        }),
        { numRuns: Math.max(3, Math.ceil(subject.runs / 50)) },
      );
    });

    it(`property: for random single faults of every target, both judge every configuration alike (${subject.runs} experiments)`, () => {
      const seen = new Map<string, number>();
      const judged = new Set<number>();
      const judge = (index: number) => {
        judged.add(index);
        const experiment = context.experiment(index);
        const record = context.run(index);
        seen.set(`target ${experiment.target}`, (seen.get(`target ${experiment.target}`) ?? 0) + 1);
        for (const config of subject.configs ?? CONFIGS) {
          const expected = record.outcomes[config];
          if (!expected) continue;
          const flown = flyOutcome(experiment, config);
          expect({ config, ...flown }, `experiment ${index}: ${JSON.stringify(experiment)}`).toEqual({ config, ...expected });
          const key = `${config} ${expected.outcome}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
      };
      fc.assert(fc.property(fc.nat(10_000_000), judge), { numRuns: subject.runs });
      // A short run (a small FC_RUNS, or targets thinning each one's share) can miss a rare outcome by
      // chance: experiments go on, each judged alike, until every outcome the subject must show was seen
      // (at most 4 × its runs more; the sample repeats the property's indices first), so the check proves as much at any FC_RUNS.
      const missing = () => subject.mustSee.filter((key) => !seen.has(key));
      for (const index of fc.sample(fc.nat(10_000_000), 5 * subject.runs)) {
        if (missing().length === 0) break;
        if (!judged.has(index)) judge(index);
      }
      if (plain.persistent && !subject.targets) expect(seen.get('target replica') ?? 0, 'replica experiments').toBeGreaterThan(0);
      for (const key of subject.mustSee) expect(seen.get(key) ?? 0, `${key} among ${JSON.stringify(Object.fromEntries(seen))}`).toBeGreaterThan(0);
    });
  });
}
