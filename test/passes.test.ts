// The module passes and what a core makes of their output: state export (every mutable global and the
// memory reachable from outside), instruction counting (deterministic counts, a watchdog that stops
// runaway loops), trap classification, and the ABI checks that turn a bad module into a ModuleError.
import binaryen from '../src/passes/binaryen.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlightModule } from '../src/core/flight-module.js';
import { FUEL_GLOBAL, WATCHDOG_IMPORT, WATCHDOG_MODULE } from '../src/passes/count-instructions.js';
import { STATE_GLOBAL_PREFIX, type ExportStateReport } from '../src/passes/export-state.js';
import { ModuleError, transformBinary } from '../src/passes/index.js';
import { newCore, referenceFsw, wat } from './support.js';

const STATE_PASSES = ['export-state', 'count-instructions'];
const BUDGET = 1_000_000;

/** A module whose step loops as many times as the u32 at address 0 says. */
const LOOP_MODULE = `(module
  (memory (export "memory") 1)
  (func (export "init"))
  (func (export "step") (local $i i32)
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))))`;

const GLOBALS_MODULE = `(module
  (memory (export "memory") 1)
  (global $counter (mut i32) (i32.const 5))
  (global $big (mut i64) (i64.const -9))
  (global $gain (mut f32) (f32.const 1.5))
  (global $angle (mut f64) (f64.const -0.25))
  (global $constant i32 (i32.const 42))
  (func (export "init") (global.set $counter (i32.const 7)))
  (func (export "step")
    (global.set $counter (i32.add (global.get $counter) (global.get $constant)))
    (global.set $angle (f64.add (global.get $angle) (f64.const 1)))))`;

function loopCore() {
  const core = newCore(FlightModule.fromBytes(wat(LOOP_MODULE), 'loop.wat'));
  const iterations = new Uint32Array(core.memory.buffer, 0, 1);
  return {
    core,
    run(n: number, budget = BUDGET) {
      iterations[0] = n;
      // A core updates its result record in place: keep a copy.
      return { ...core.step(budget) };
    },
  };
}

describe('export-state', () => {
  it('exports every mutable global under its name with its type, and no immutable one', () => {
    const { binary, reports } = transformBinary(wat(GLOBALS_MODULE, { names: true }), STATE_PASSES, 'globals.wat');
    const report = reports.get('export-state') as ExportStateReport;
    expect(report.globals).toEqual([
      { name: 'counter', exportName: `${STATE_GLOBAL_PREFIX}counter`, type: 'i32' },
      { name: 'big', exportName: `${STATE_GLOBAL_PREFIX}big`, type: 'i64' },
      { name: 'gain', exportName: `${STATE_GLOBAL_PREFIX}gain`, type: 'f32' },
      { name: 'angle', exportName: `${STATE_GLOBAL_PREFIX}angle`, type: 'f64' },
    ]);
    const exports = new Map(WebAssembly.Module.exports(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>)).map((e) => [e.name, e.kind]));
    for (const global of report.globals) expect(exports.get(global.exportName)).toBe('global');
    expect([...exports.keys()].filter((name) => name.includes('constant'))).toEqual([]);
    expect(exports.get('memory')).toBe('memory');
    expect(exports.get(FUEL_GLOBAL)).toBe('global');
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>));
    expect(imports).toContainEqual({ module: WATCHDOG_MODULE, name: WATCHDOG_IMPORT, kind: 'function' });
  });

  it('reports globals of a module without a name section too, in declaration order', () => {
    const { reports } = transformBinary(wat(GLOBALS_MODULE), STATE_PASSES, 'globals.wasm');
    const globals = (reports.get('export-state') as ExportStateReport).globals;
    expect(globals.map((global) => global.type)).toEqual(['i32', 'i64', 'f32', 'f64']);
    expect(new Set(globals.map((global) => global.exportName)).size).toBe(4);
  });

  it('makes the globals of a core readable and writable: init and step act on them', () => {
    const module = FlightModule.fromBytes(wat(GLOBALS_MODULE, { names: true }), 'globals.wat');
    expect(module.stateGlobals.map((global) => global.name)).toEqual(['counter', 'big', 'gain', 'angle']);
    const core = newCore(module);
    expect(core.globals.map((global) => global.value)).toEqual([5, -9n, 1.5, -0.25]);
    expect(core.boot(BUDGET).status).toBe('ok');
    expect(core.globals[0].value).toBe(7);
    expect(core.step(BUDGET).status).toBe('ok');
    expect(core.globals[0].value).toBe(49);
    expect(core.globals[3].value).toBe(0.75);
    core.globals[0].value = 100;
    core.step(BUDGET);
    expect(core.globals[0].value).toBe(142);
  });

  it('exports an unexported memory as "memory"', () => {
    const text = GLOBALS_MODULE.replace('(memory (export "memory") 1)', '(memory 2)');
    const { binary } = transformBinary(wat(text), STATE_PASSES, 'hidden-memory.wasm');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>), { lockstep: { watchdog: () => {} } });
    expect((instance.exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(2 * 65536);
  });

  it('exports an unexported memory that has a name in the name section', () => {
    const text = GLOBALS_MODULE.replace('(memory (export "memory") 1)', '(memory $ram 1)');
    const module = FlightModule.fromBytes(wat(text, { names: true }), 'named-memory.wasm');
    expect(newCore(module).memoryBytes().length).toBe(65536);
  });

  it('reports no state globals for the reference flight software only if it has no mutable global', () => {
    const module = referenceFsw();
    const exported = WebAssembly.Module.exports(module.compiled).filter((entry) => entry.name.startsWith(STATE_GLOBAL_PREFIX));
    expect(module.stateGlobals.map((global) => global.exportName).sort()).toEqual(exported.map((entry) => entry.name).sort());
  });
});

describe('count-instructions', () => {
  it('counts the same instructions for the same work, in every core and every run', () => {
    const first = loopCore();
    const second = loopCore();
    for (const n of [0, 1, 17, 500]) {
      const a = first.run(n);
      const b = second.run(n);
      const again = first.run(n);
      expect(a.status).toBe('ok');
      expect(a.instructions).toBeGreaterThan(0);
      expect(b.instructions).toBe(a.instructions);
      expect(again.instructions).toBe(a.instructions);
    }
  });

  it('charges every loop iteration: the count grows strictly and linearly with the iterations', () => {
    const { run } = loopCore();
    const base = run(0).instructions;
    const perIteration = run(1).instructions - base;
    expect(perIteration).toBeGreaterThanOrEqual(3); // a compare, a load, an add at least
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 5000 }), (n, extra) => {
        const fewer = run(n);
        const more = run(n + extra);
        expect(fewer.status).toBe('ok');
        expect(more.status).toBe('ok');
        expect(fewer.instructions).toBe(base + n * perIteration);
        expect(more.instructions).toBe(base + (n + extra) * perIteration);
      }),
      { numRuns: 100 },
    );
  });

  it('makes the fuel counter the first defined global, the module\'s own globals keeping their values and exports', () => {
    const { binary } = transformBinary(wat(GLOBALS_MODULE), STATE_PASSES, 'globals.wat');
    const compiled = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
    // The first global exported under any name is the first defined one here (no global is imported).
    const exports = WebAssembly.Module.exports(compiled).filter((entry) => entry.kind === 'global');
    expect(exports.map((entry) => entry.name)).toContain(FUEL_GLOBAL);
    const text = binaryen.readBinary(binary);
    try {
      expect(binaryen.getGlobalInfo(text.getGlobalByIndex(0)).name).toBe(FUEL_GLOBAL);
      expect(text.getNumGlobals()).toBe(6);
    } finally {
      text.dispose();
    }
    const core = newCore(FlightModule.fromBytes(wat(GLOBALS_MODULE), 'globals.wat'));
    core.boot(BUDGET);
    core.step(BUDGET);
    expect(core.globals.map((global) => global.value)).toEqual([49, -9n, 1.5, 0.75]);
  });

  it('counts the reference flight software deterministically', () => {
    const a = newCore(referenceFsw(), 'A');
    const b = newCore(referenceFsw(), 'B');
    expect(a.boot(10_000_000)).toEqual(b.boot(10_000_000));
    const stepA = a.step(BUDGET);
    expect(stepA.status).toBe('ok');
    expect(stepA.instructions).toBeGreaterThan(100);
    expect(b.step(BUDGET)).toEqual(stepA);
  });

  it('stops an infinite loop with the watchdog, and the core runs again afterwards', () => {
    const core = newCore(FlightModule.fromBytes(wat(`(module (memory (export "memory") 1) (func (export "init"))
      (func (export "step") (loop $forever (br $forever))))`), 'spin.wat'));
    for (const budget of [0, 1, 1000, 250_000]) {
      const result = core.step(budget);
      expect(result.status).toBe('watchdog');
      expect(result.trap).toBeNull();
      expect(result.instructions).toBeGreaterThanOrEqual(budget);
      expect(result.instructions).toBeLessThan(budget + 100);
    }
  });

  it('stops a loop that outlasts its budget and lets the same core finish a shorter one next cycle', () => {
    const { run } = loopCore();
    const cost = run(1000).instructions;
    expect(run(1000, cost).status).toBe('ok');
    expect(run(1000, Math.floor(cost / 2)).status).toBe('watchdog');
    expect(run(0xffffffff).status).toBe('watchdog');
    const after = run(10);
    expect(after.status).toBe('ok');
    expect(after.instructions).toBe(run(10).instructions);
  });

  it('refuses a budget the i32 fuel counter cannot hold instead of wrapping it', () => {
    const { run } = loopCore();
    expect(() => run(1000, 3e9)).toThrow(RangeError);
    expect(() => run(1000, 2 ** 32 + 100)).toThrow(RangeError);
    expect(run(1000, 2 ** 31 - 1).status).toBe('ok');
  });
});

describe('traps', () => {
  const trapping: Array<[string, string, string]> = [
    ['unreachable', 'unreachable', '(unreachable)'],
    ['out-of-bounds', 'out-of-bounds load', '(drop (i32.load (i32.add (global.get $zero) (i32.const 65535))))'],
    ['divide-by-zero', 'i32 division by zero', '(drop (i32.div_s (i32.const 1) (global.get $zero)))'],
    ['divide-by-zero', 'i32 remainder by zero', '(drop (i32.rem_u (i32.const 1) (global.get $zero)))'],
    ['integer-overflow', 'i32 INT_MIN / -1', '(drop (i32.div_s (i32.const 0x80000000) (i32.sub (global.get $zero) (i32.const 1))))'],
    ['invalid-conversion', 'NaN to i32', '(drop (i32.trunc_f64_s (f64.div (f64.const 0) (f64.convert_i32_s (global.get $zero)))))'],
    ['indirect-call', 'null table entry', '(call_indirect (type $void) (i32.const 1))'],
    ['indirect-call', 'signature mismatch', '(call_indirect (type $void) (i32.const 0))'],
    ['stack-overflow', 'unbounded recursion', '(call $step)'],
  ];

  const trapModule = (body: string) =>
    FlightModule.fromBytes(
      wat(`(module
        (type $void (func))
        (memory (export "memory") 1)
        (global $zero (mut i32) (i32.const 0))
        (table 2 funcref)
        (elem (i32.const 0) $takes_i32)
        (func $takes_i32 (param i32))
        (func (export "init"))
        (func $step (export "step") ${body}))`),
      'trap.wat',
    );

  it.each(trapping)('classifies %s (%s) as a trap of the core, without throwing', (kind, _what, body) => {
    const core = newCore(trapModule(body));
    for (let run = 0; run < 2; run++) {
      const result = core.step(BUDGET);
      expect(result.status).toBe('trap');
      expect(result.trap).toBe(kind);
      expect(result.instructions).toBeGreaterThan(0);
      expect(result.instructions).toBeLessThanOrEqual(BUDGET);
    }
  });

  it('a core that trapped on one cycle completes the next (no lasting damage to the instance)', () => {
    const core = newCore(
      FlightModule.fromBytes(
        wat(`(module (memory (export "memory") 1) (func (export "init"))
          (func $step (export "step") (if (i32.load8_u (i32.const 0)) (then (call $step)))))`),
        'maybe-recurse.wat',
      ),
    );
    core.memoryBytes()[0] = 1;
    expect(core.step(BUDGET)).toMatchObject({ status: 'trap', trap: 'stack-overflow' });
    core.memoryBytes()[0] = 0;
    expect(core.step(BUDGET)).toMatchObject({ status: 'ok', trap: null });
  });

  it('classifies a call_indirect past the end of the table as an indirect-call trap', () => {
    const core = newCore(trapModule('(call_indirect (type $void) (i32.const 5))'));
    expect(core.step(BUDGET)).toMatchObject({ status: 'trap', trap: 'indirect-call' });
  });
});

describe('ModuleError', () => {
  const minimal = (extra: string, exports = '(func (export "init")) (func (export "step"))') =>
    wat(`(module ${extra} (memory (export "memory") 1) ${exports})`);

  function moduleError(bytes: Uint8Array, source = 'fsw.wasm'): ModuleError {
    try {
      FlightModule.fromBytes(bytes, source);
    } catch (error) {
      expect(error).toBeInstanceOf(ModuleError);
      expect((error as Error).message.startsWith(`${source}: `)).toBe(true);
      return error as ModuleError;
    }
    throw new Error('expected a ModuleError');
  }

  it('accepts a minimal valid module', () => {
    expect(FlightModule.fromBytes(minimal(''), 'ok.wasm').stateGlobals).toEqual([]);
  });

  it('rejects bytes that are not WebAssembly', () => {
    expect(moduleError(new TextEncoder().encode('this is not a flight computer')).message).toMatch(/not a WebAssembly binary/);
    expect(moduleError(new Uint8Array(0)).message).toMatch(/not a WebAssembly binary/);
  });

  it('rejects a truncated binary', () => {
    const bytes = minimal('(import "bus" "gyro_x" (func $g (result f64)))');
    for (const length of [9, 20, bytes.length - 1]) {
      expect(moduleError(bytes.subarray(0, length)).message).toMatch(/truncated or malformed/);
    }
  });

  it('rejects an import from a module other than "bus" (but for debug outputs and AssemblyScript\'s abort), naming it', () => {
    const error = moduleError(minimal('(import "env" "seed" (func $seed (result f64)))'));
    expect(error.message).toContain('"env"."seed"');
    expect(error.message).toContain('only from module "bus"');
  });

  it('rejects an unknown bus channel, naming it', () => {
    const error = moduleError(minimal('(import "bus" "laser_power" (func $laser (result f64)))'));
    expect(error.message).toContain('"laser_power"');
    expect(error.message).toContain('gyro_x');
  });

  it('rejects a bus channel imported as something other than a function', () => {
    expect(moduleError(minimal('(import "bus" "gyro_x" (global $g f64))')).message).toContain('may import only bus functions, not globals');
  });

  it('rejects a module without init or without step, naming the missing export', () => {
    expect(moduleError(minimal('', '(func (export "step"))')).message).toContain('"init"');
    expect(moduleError(minimal('', '(func (export "init"))')).message).toContain('"step"');
    expect(moduleError(minimal('', '(func (export "init")) (global (export "step") i32 (i32.const 0))')).message).toContain('"step"');
  });

  it('rejects a module without memory', () => {
    expect(moduleError(wat('(module (func (export "init")) (func (export "step")))')).message).toMatch(/memory/);
  });

  it('names the file when loading from disk fails', () => {
    expect(() => FlightModule.fromFile('/nonexistent/fsw.wasm')).toThrow(/\/nonexistent\/fsw\.wasm: cannot be read \(ENOENT\)/);
  });
});

describe('OutputCapture', () => {
  it('compares only the channels written this cycle: stale values of unwritten channels do not count', async () => {
    const { OutputCapture } = await import('../src/core/core.js');
    const a = new OutputCapture();
    const b = new OutputCapture();
    a.values[0] = 1;
    b.values[0] = 2; // stale, never written this cycle
    a.values[1] = b.values[1] = 0.5;
    a.writtenMask = b.writtenMask = 0b10;
    a.writes = b.writes = 1;
    expect(a.sameAs(b)).toBe(true);
    b.values[1] = -0.5;
    expect(a.sameAs(b)).toBe(false);
    b.values[1] = 0.5;
    b.writes = 2;
    expect(a.sameAs(b)).toBe(false);
  });
});
