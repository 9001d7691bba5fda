// The checkpoint stream's compression, as `lockstep bench` reports it (link): the commits of a fault-free
// flight (each epoch end's memory, globals and written blocks, recorded once) are replayed through each
// encoding, sender to spare as over the link, interleaved round by round so that the figures compare on a
// noisy, shared machine; each figure is the median over rounds. Encoding is timed on the sender, decoding
// (checks and application) on the spare; bytes per commit and throughput count the raw bytes of the
// dirty ranges, the boot commit (the whole memory) left out as unlike the rest.
import { Core } from '../core/core.js';
import { ALL_BLOCKS, ensureMemorySize } from '../core/state.js';
import type { FlightSetup } from '../mission/fly.js';
import { Checkpoint } from '../spare/checkpoint.js';
import type { StreamEncoding } from '../spare/checkpoint-stream.js';
import { recordInputFrames } from './bench.js';

export const LINK_ENCODINGS: readonly StreamEncoding[] = ['predictive', 'xor-zero-run', 'raw'];

export interface LinkEncodingFigures {
  rawBytesPerCommit: number;
  streamBytesPerCommit: number;
  /** 1 − stream / raw. */
  reduction: number;
  /** Raw bytes per second of encoding and of decoding, MB/s (10^6 bytes). */
  encodeMBps: number;
  decodeMBps: number;
  /** Encoding plus decoding of one commit, and that spread over the epoch's cycles, µs. */
  microsecondsPerCommit: number;
  microsecondsPerCycle: number;
}

export interface LinkBenchResult {
  fsw: string;
  checkpointInterval: number;
  commits: number;
  rounds: number;
  encodings: Record<string, LinkEncodingFigures>;
}

interface Commit {
  readonly cycle: number;
  readonly memory: Uint8Array;
  readonly globals: readonly (number | bigint)[];
  readonly written: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The commits of a fault-free flight of `cycles` cycles, the boot commit first. */
function recordCommits(setup: FlightSetup, cycles: number): Commit[] {
  const frames = recordInputFrames(setup, cycles);
  const interval = setup.computer.checkpointInterval;
  const core = new Core(setup.flightModule, 'link-bench', frames[0]);
  core.boot(setup.computer.bootInstructions);
  const capture = (cycle: number, written: number): Commit => ({ cycle, memory: new Uint8Array(core.memoryBytes()), globals: core.globals.map((global) => global.value as number | bigint), written });
  const commits = [capture(-1, ALL_BLOCKS)];
  core.clearDirtyBlocks();
  for (let cycle = 0; cycle < cycles; cycle++) {
    core.inputs = frames[cycle];
    if (core.step(setup.computer.watchdogInstructions).status !== 'ok') throw new Error('bench: the flight software failed a fault-free cycle');
    if ((cycle + 1) % interval === 0) {
      commits.push(capture(cycle, core.dirtyBlocks()));
      core.clearDirtyBlocks();
    }
  }
  return commits;
}

export function benchLink(setup: FlightSetup, rounds: number, cycles = 4_000): LinkBenchResult {
  const commits = recordCommits(setup, cycles);
  const module = setup.flightModule;
  const types = module.stateGlobals.map((global) => global.type);
  const capacity = setup.computer.memoryLimitBytes;
  // The core each commit is restored into before it is encoded (its dirty tracking says what to send).
  const replay = new Core(module, 'link-replay', new Float64Array(0), capacity);
  const rigs = LINK_ENCODINGS.map((encoding) => {
    const sender = new Checkpoint(types, capacity, encoding);
    return { encoding, sender, spare: new Checkpoint(types, capacity, encoding), writer: sender.newWriter(encoding), encode: [] as number[], decode: [] as number[], raw: 0, stream: 0 };
  });
  for (let round = -1; round < rounds; round++) {
    for (let k = 0; k < rigs.length; k++) {
      const rig = rigs[(k + Math.max(round, 0)) % rigs.length];
      const { sender, spare, writer } = rig;
      sender.clear();
      spare.clear();
      let encodeNs = 0;
      let decodeNs = 0;
      let raw = 0;
      let stream = 0;
      for (const [index, commit] of commits.entries()) {
        ensureMemorySize(replay, commit.memory.length);
        replay.memoryBytes().set(commit.memory);
        for (let i = 0; i < commit.globals.length; i++) replay.globals[i].value = commit.globals[i];
        const start = process.hrtime.bigint();
        sender.encodeCommit(writer, replay, commit.cycle, commit.written);
        const encoded = process.hrtime.bigint();
        const received = spare.receive(writer.bytes, writer.length);
        const decoded = process.hrtime.bigint();
        if (!received.complete || !sender.receive(writer.bytes, writer.length).complete) throw new Error(`bench: a ${rig.encoding} commit failed its own check`);
        if (index === 0) continue;
        encodeNs += Number(encoded - start);
        decodeNs += Number(decoded - encoded);
        raw += writer.rawBytes;
        stream += writer.length;
      }
      if (Buffer.compare(spare.memory.subarray(0, spare.memoryLength), commits[commits.length - 1].memory) !== 0) throw new Error(`bench: the ${rig.encoding} spare's copy differs from the flight's`);
      if (round < 0) continue;
      rig.encode.push(encodeNs);
      rig.decode.push(decodeNs);
      rig.raw = raw;
      rig.stream = stream;
    }
  }
  const timed = commits.length - 1;
  const interval = setup.computer.checkpointInterval;
  const encodings: Record<string, LinkEncodingFigures> = {};
  for (const rig of rigs) {
    const encodeNs = median(rig.encode);
    const decodeNs = median(rig.decode);
    const perCommit = (encodeNs + decodeNs) / timed / 1000;
    encodings[rig.encoding] = {
      rawBytesPerCommit: rig.raw / timed,
      streamBytesPerCommit: rig.stream / timed,
      reduction: 1 - rig.stream / rig.raw,
      encodeMBps: rig.raw / encodeNs * 1000,
      decodeMBps: rig.raw / decodeNs * 1000,
      microsecondsPerCommit: perCommit,
      microsecondsPerCycle: perCommit / interval,
    };
  }
  return { fsw: module.source, checkpointInterval: interval, commits: timed, rounds, encodings };
}

export function formatLinkBench(result: LinkBenchResult, label: string): string {
  const lines = [`  link compression, ${label} (${result.commits} commits, one every ${result.checkpointInterval} cycles, medians of ${result.rounds} rounds):`];
  for (const [encoding, f] of Object.entries(result.encodings)) {
    lines.push(
      `    ${encoding.padEnd(13)} ${f.rawBytesPerCommit.toFixed(0)} → ${f.streamBytesPerCommit.toFixed(1)} B per commit (${(f.reduction * 100).toFixed(1)}% less); ` +
        `encode ${f.encodeMBps.toFixed(0)} MB/s, decode ${f.decodeMBps.toFixed(0)} MB/s; ${f.microsecondsPerCommit.toFixed(1)} µs per commit = ${f.microsecondsPerCycle.toFixed(2)} µs per cycle`,
    );
  }
  return lines.join('\n');
}
