// AssemblyScript's own diagnostics (src/abi/abort.ts): a module that imports `env.abort` conforms, and an
// abort is a detection of its own, cause `abort`, worded as @assemblyscript/loader words it with the
// message, file, line and column read from the core's memory — in `fly` events and its JSON, in a
// campaign's outcomes and in `replay`. The real thing is asc's: test/fixtures/abort-fsw (the reference
// software guarding its state with an assert) is compiled in the setup. Hand-written modules check the
// decoding of strings an upset has mangled, and the fault-free rule.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileToMemory } from '../scripts/asc-tools.mjs';
import { FlightModule } from '../src/core/flight-module.js';
import { cli } from './harden-support.js';
import { newCore, wat } from './support.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const FIXTURE = 'test/fixtures/abort-fsw/index.ts';
/** "abort: state checksum failed at test/fixtures/abort-fsw/index.ts:27:3", the line and column as asc put them. */
const ABORT_TEXT = /abort: state checksum failed at test\/fixtures\/abort-fsw\/index\.ts:\d+:\d+/;

let dir: string;
let fsw: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-abort-'));
  fsw = join(dir, 'abort-fsw.wasm');
  const binary = await compileToMemory([FIXTURE, '--config', 'test/fixtures/abort-fsw/asconfig.json', '--baseDir', ROOT, '--outFile', 'abort-fsw.wasm'], FIXTURE);
  writeFileSync(fsw, binary);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an AssemblyScript module built with env.abort', () => {
  it('conforms: inspect names the import', async () => {
    const run = await cli(['inspect', fsw, '--cycles', '5']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/conforms to the flight-software ABI/);
    expect(run.stdout).toMatch(/abort\s+env\.abort \(AssemblyScript\)/);
  });

  it('fly: an upset in its state trips its assert; the abort is a detection, named in the events and the JSON, and the spare recovers', async () => {
    const upsets = join(dir, 'upsets.json');
    writeFileSync(upsets, JSON.stringify({ upsets: [{ cycle: 300, target: 'memory', processor: 'primary', core: 'A', address: 1100, bit: 3, width: 1 }] }));
    const json = join(dir, 'fly.json');
    const run = await cli(['fly', '--fsw', fsw, '--upset-file', upsets, '--duration', '40', '--json', json, '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.detections).toEqual({ mismatch: 0, trap: 0, watchdog: 0, check: 0, abort: 1 });
    expect(summary.failovers).toBe(1);
    expect(summary.matchesFaultFree).toBe(true);
    const detection = summary.events.find((event: { kind: string }) => event.kind === 'detection');
    expect(detection).toMatchObject({ cycle: 300, kind: 'detection' });
    expect(detection.detail).toMatch(new RegExp(`^P1: ${ABORT_TEXT.source}$`));
  });

  it('campaign: aborts are counted as detections of cause abort (recovered with a spare), and replay names the assert', async () => {
    const out = join(dir, 'campaign.jsonl');
    const json = join(dir, 'campaign.json');
    const run = await cli(['campaign', '--fsw', fsw, '--duration', '40', '--experiments', '12', '--targets', 'memory', '--jobs', '1', '--out', out, '--json', json, '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    const pair = summary.configs.pair;
    expect(pair.causes.abort).toBeGreaterThan(0);
    expect(pair.outcomes.detected.count).toBe(pair.causes.abort + pair.causes.mismatch + pair.causes.trap + pair.causes.watchdog + pair.causes.check);
    expect(summary.configs['pair+spare'].causes.abort).toBe(pair.causes.abort);
    const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((line) => JSON.parse(line));
    const aborted = rows.find((row) => row.outcomes.pair.cause === 'abort');
    expect(aborted.outcomes['pair+spare']).toMatchObject({ outcome: 'recovered', cause: 'abort', abort: { message: 'state checksum failed', file: FIXTURE } });

    const replay = await cli(['replay', out, '--index', String(aborted.index)]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(new RegExp(`F stopped after \\d+ instructions: ${ABORT_TEXT.source}`));
    expect(replay.stdout).toMatch(new RegExp(`pair\\s+detected by ${ABORT_TEXT.source}`));
    expect(replay.stdout).toMatch(/the stored record is reproduced exactly/);
  });
});

/**
 * A module that calls env.abort from step with the given message and file pointers, over a data segment
 * holding AssemblyScript strings as asc lays them out: a runtime header (type id 2 = string at −8, the
 * byte length at −4) before UTF-16 text.
 */
function abortingModule(messagePointer: number, filePointer: number): Uint8Array {
  const asString = (text: string) => {
    const bytes = Buffer.alloc(8 + 2 * text.length);
    bytes.writeUInt32LE(2, 0);
    bytes.writeUInt32LE(2 * text.length, 4);
    bytes.write(text, 8, 'utf16le');
    return [...bytes].map((byte) => `\\${byte.toString(16).padStart(2, '0')}`).join('');
  };
  // "too fast" at 24 (header at 16), "a.ts" at 56 (header at 48).
  return wat(`(module
    (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
    (import "bus" "torque_x" (func $torque_x (param f64)))
    (memory (export "memory") 1)
    (data (i32.const 16) "${asString('too fast')}")
    (data (i32.const 48) "${asString('a.ts')}")
    (func (export "init"))
    (func (export "step")
      (call $torque_x (f64.const 1))
      (call $abort (i32.const ${messagePointer}) (i32.const ${filePointer}) (i32.const 12) (i32.const 5))))`);
}

describe('decoding abort', () => {
  it('reads the message and file as the loader does: "abort: too fast at a.ts:12:5"', () => {
    const core = newCore(FlightModule.fromBytes(abortingModule(24, 56), 'aborting.wat'));
    const result = core.step(1_000_000);
    expect(result.status).toBe('abort');
    expect(result.abort).toEqual({ message: 'too fast', file: 'a.ts', line: 12, column: 5 });
  });

  it('a pointer an upset struck (no string there, out of memory, null) reads as a placeholder, never as the tool\'s error', () => {
    const core = newCore(FlightModule.fromBytes(abortingModule(100, 0x7fff_fff0), 'mangled.wat'));
    expect(core.step(1_000_000)).toMatchObject({ status: 'abort', abort: { message: '<unreadable string at 100>', file: `<unreadable string at ${0x7fff_fff0}>` } });
    const nulls = newCore(FlightModule.fromBytes(abortingModule(0, 56), 'null.wat'));
    expect(nulls.step(1_000_000).abort).toMatchObject({ message: '<null>', file: 'a.ts' });
  });

  it('software that aborts with no upset is refused (exit 6), the abort named', async () => {
    const path = join(dir, 'aborting.wasm');
    writeFileSync(path, abortingModule(24, 56));
    const run = await cli(['fly', '--fsw', path, '--duration', '1', '--quiet']);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('fails with no upset: cycle 0 of a fault-free flight aborts (abort: too fast at a.ts:12:5)');
  });
});
