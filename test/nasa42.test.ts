// NASA 42 in the loop: the AC socket protocol's layouts against 42's own C, the codec, field names, the
// session against a fake 42 (round trips for many sensor and actuator counts, and every way a peer can
// misbehave, each with its own error of one line), building 42 (the patch, the cache, refusals), and the
// real 42 built from ../shared/nasa42 flying the lockstep case with a rate-damping controller. The real-42
// tests are skipped, saying why, when that folder or gcc/make are missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcShapeError, decode, encode } from '../src/hil/ac-codec.js';
import { AcProtocolError, type AcProtocolErrorKind } from '../src/hil/ac-errors.js';
import { AcFieldError, fieldAccessor, fieldNames } from '../src/hil/ac-fields.js';
import {
  ARRAY_COUNTS,
  ARRAY_SIZES,
  BUFFER_LENGTHS,
  INPUTS,
  messageBytes,
  noArrays,
  OUTPUTS,
  TABLE,
  type AcInputs,
  type AcOutputs,
  type ArraySizes,
  type Layout,
} from '../src/hil/ac-layout.js';
import { AC_LIMITS, AcSession, type SessionOptions } from '../src/hil/ac-session.js';
import { buildNasa42, DEFAULT_NASA42_SOURCE, Nasa42BuildError, patchBufLens, type Nasa42Build } from '../src/hil/nasa42-build.js';
import { LOCKSTEP_CASE, Nasa42RunError, startNasa42, withDuration } from '../src/hil/nasa42-run.js';
import { readTruth } from '../src/hil/nasa42-truth.js';
import { distinct, FakeNasa42, type FakeOptions } from './fake-nasa42.js';

const scratch = mkdtempSync(join(tmpdir(), 'lockstep-nasa42-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** lockstep's reference spacecraft as 42 announces it (nasa42/lockstep-reference). */
const REFERENCE: Partial<ArraySizes> = { Nb: 1, Nwhl: 3, Ngyro: 3, Nst: 1 };
/** 42's own Standalone example spacecraft (SC_CfsSat0.txt): two bodies, a joint, every kind of sensor. */
const CFS_SAT: Partial<ArraySizes> = { Nb: 2, Ng: 1, Nwhl: 4, Nmtb: 3, Ngyro: 3, Nmag: 3, Ncss: 8, Nfss: 1, Nst: 1, Ngps: 1 };
/** Everything, several of each, thrusters and accelerometers included. */
const CROWDED: Partial<ArraySizes> = { Nb: 3, Ng: 2, Nwhl: 6, Nmtb: 4, Nthr: 12, Ngyro: 9, Nmag: 6, Ncss: 20, Nfss: 3, Nst: 3, Ngps: 2, Nacc: 3 };
/** The most lockstep accepts of one kind. */
const MANY_CSS: Partial<ArraySizes> = { Ncss: AC_LIMITS.maxCount, Nwhl: 1 };

const sizesOf = (partial: Partial<ArraySizes>): ArraySizes => ({ ...noArrays(), ...partial });

// ---------------------------------------------------------------------------------------------------------
describe('the AC protocol layouts', () => {
  const haveSource = existsSync(join(DEFAULT_NASA42_SOURCE, 'Source', 'AutoCode', 'AcIPC.c'));

  /** The fields a C function of 42's copies, in order, as `type name[dims]` (k stays: one per element). */
  function copied(file: string, fn: string): string[] {
    const text = readFileSync(join(DEFAULT_NASA42_SOURCE, 'Source', 'AutoCode', file), 'utf8');
    const body = new RegExp(`void ${fn}\\([^)]*\\)\\s*\\{([\\s\\S]*?)\\n\\}`).exec(text)?.[1];
    if (body === undefined) throw new Error(`${file}: no ${fn}`);
    const specs: string[] = [];
    const bounds: Record<string, string> = {};
    let type = '?';
    for (const m of body.matchAll(/NumBytes\s*=\s*sizeof\((\w+)\)|for\s*\(\s*(\w)\s*=\s*0\s*;\s*\w\s*<\s*([^;]+);|memcpy\(([^;]*)\);/g)) {
      if (m[1] !== undefined) type = m[1];
      else if (m[2] !== undefined) bounds[m[2]] = m[3].trim();
      else {
        const member = /&(?:AC|I)->([\w[\].]+)/.exec(m[4])?.[1];
        if (member === undefined) throw new Error(`${fn}: memcpy without a field: ${m[4]}`);
        const array = /^(\w+)\[k\]/.exec(member)?.[1];
        if (array !== undefined) expect(bounds.k, `${fn}: ${member}`).toBe(`AC->${ARRAY_COUNTS[array as keyof typeof ARRAY_COUNTS]}`);
        specs.push(`${type} ${member.replace(/\[([ij])\]/g, (_, index: string) => `[${bounds[index]}]`)}`);
      }
    }
    return specs;
  }

  const specs = (layout: Layout): string[] => layout.fields.map((f) => f.spec);

  /** Each layout with the function of 42's client (AcIPC.c) and of 42 itself (ScIPC.c) that copies it. */
  const COPIERS: readonly [Layout, string, string][] = [
    [ARRAY_SIZES, 'ReadAcArraySizesFromSocket', 'WriteAcArraySizesToSocket'],
    [BUFFER_LENGTHS, 'ReadAcBufLensFromSocket', 'WriteAcBufLensToSocket'],
    [TABLE, 'ReadAcTblFromSocket', 'WriteAcTblToSocket'],
    [INPUTS, 'ReadAcInFromSocket', 'WriteAcInToSocket'],
    [OUTPUTS, 'WriteAcOutToSocket', 'ReadAcOutFromSocket'],
  ];

  it.skipIf(!haveSource)("are, field by field, what 42's client (AcIPC.c) and 42 itself (ScIPC.c) copy", () => {
    for (const [layout, client, server] of COPIERS) {
      expect(specs(layout), `${layout.name}: AcIPC.c ${client}`).toEqual(copied('AcIPC.c', client));
      expect(specs(layout), `${layout.name}: ScIPC.c ${server}`).toEqual(copied('ScIPC.c', server));
    }
  });

  it('give the buffer lengths 42 announces for the lockstep case (measured: 153, 257 and 1209 bytes)', () => {
    const sizes = sizesOf(REFERENCE);
    expect([messageBytes(INPUTS, sizes), messageBytes(OUTPUTS, sizes), messageBytes(TABLE, sizes)]).toEqual([153, 257, 1209]);
    expect(messageBytes(ARRAY_SIZES, noArrays())).toBe(96); // twelve longs, no padding
    expect(messageBytes(BUFFER_LENGTHS, noArrays())).toBe(24);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('the codec', () => {
  it('decodes bytes laid out by hand as 42 lays them out', () => {
    const sizes = sizesOf({ Ngyro: 2, Nst: 1, Nwhl: 3 });
    const bytes = Buffer.alloc(messageBytes(INPUTS, sizes));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let at = 0;
    const double = (v: number): void => {
      view.setFloat64(at, v, true);
      at += 8;
    };
    double(0.01); // Gyro[0].Rate
    double(-0.02); // Gyro[1].Rate
    view.setBigInt64(at, 1n, true); // ST[0].Valid
    at += 8;
    [0.1, 0.2, 0.3, 0.9].forEach(double); // ST[0].qn
    [1, 2, 3].forEach(double); // Whl[k].H
    [0, 0, 0, 1].forEach(double); // Cmd.qrl
    [0.5, 0.5, 0.5, 0.5].forEach(double); // Cmd.qrn
    expect(at).toBe(bytes.length - 1); // and the zero pad byte
    const inputs = decode<AcInputs>(INPUTS, sizes, bytes);
    expect(inputs).toEqual({
      G: [],
      Gyro: [{ Rate: 0.01 }, { Rate: -0.02 }],
      MAG: [],
      CSS: [],
      FSS: [],
      ST: [{ Valid: 1, qn: [0.1, 0.2, 0.3, 0.9] }],
      GPS: [],
      Accel: [],
      Whl: [{ H: 1 }, { H: 2 }, { H: 3 }],
      Cmd: { qrl: [0, 0, 0, 1], qrn: [0.5, 0.5, 0.5, 0.5] },
    } satisfies AcInputs);
    expect(encode(INPUTS, sizes, inputs).equals(bytes)).toBe(true);
  });

  it('round-trips every message, every field distinct, for many counts', () => {
    for (const partial of [{}, REFERENCE, CFS_SAT, CROWDED]) {
      const sizes = sizesOf(partial);
      for (const layout of [TABLE, INPUTS, OUTPUTS]) {
        const message = distinct<object>(layout, sizes, 7);
        const bytes = encode(layout, sizes, message);
        expect(bytes.length).toBe(messageBytes(layout, sizes));
        expect(decode(layout, sizes, bytes)).toEqual(message);
      }
    }
  });

  it('refuses a message of the wrong shape, naming the field', () => {
    const sizes = sizesOf(REFERENCE);
    const outputs = distinct<AcOutputs>(OUTPUTS, sizes, 1);
    expect(() => encode(OUTPUTS, sizes, { ...outputs, Whl: outputs.Whl.slice(0, 2) })).toThrow(/Whl must have 3 elements \(as 42 announced\), got 2 values/);
    const torque = structuredClone(outputs) as unknown as { Whl: { Tcmd: unknown }[] };
    torque.Whl[2].Tcmd = '0.1';
    expect(() => encode(OUTPUTS, sizes, torque)).toThrow(new AcShapeError('Whl[2].Tcmd: expected a number, got "0.1"'));
    const quaternion = structuredClone(outputs);
    quaternion.Cmd.qrl = [0, 0, 1];
    expect(() => encode(OUTPUTS, sizes, quaternion)).toThrow(/^Cmd.qrl: expected 4 values, got 3 values$/);
    const table = distinct<{ Whl: { Body: number }[] }>(TABLE, sizes, 1);
    table.Whl[0].Body = 0.5;
    expect(() => encode(TABLE, sizes, table)).toThrow(/Whl\[0\].Body: a C long must be a whole number, got 0.5/);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('field names', () => {
  const sizes = sizesOf(REFERENCE);

  it('lists every number of a message by 42\'s name, in message order', () => {
    expect(fieldNames(INPUTS, sizes)).toEqual([
      'Gyro[0].Rate', 'Gyro[1].Rate', 'Gyro[2].Rate', 'ST[0].Valid', 'ST[0].qn[0]', 'ST[0].qn[1]', 'ST[0].qn[2]', 'ST[0].qn[3]',
      'Whl[0].H', 'Whl[1].H', 'Whl[2].H', 'Cmd.qrl[0]', 'Cmd.qrl[1]', 'Cmd.qrl[2]', 'Cmd.qrl[3]', 'Cmd.qrn[0]', 'Cmd.qrn[1]', 'Cmd.qrn[2]', 'Cmd.qrn[3]',
    ]);
    expect(fieldNames(INPUTS, sizes).length * 8 + 1).toBe(messageBytes(INPUTS, sizes));
    expect(fieldNames(TABLE, sizes)).toContain('B[0].MOI[2][2]');
  });

  it('reads and writes one number by name', () => {
    const inputs = distinct<AcInputs>(INPUTS, sizes, 0);
    expect(fieldAccessor(INPUTS, sizes, 'Gyro[1].Rate').get(inputs)).toBe(inputs.Gyro[1].Rate);
    expect(fieldAccessor(INPUTS, sizes, 'ST[0].qn[3]').get(inputs)).toBe(inputs.ST[0].qn[3]);
    const outputs = distinct<AcOutputs>(OUTPUTS, sizes, 0);
    fieldAccessor(OUTPUTS, sizes, 'Whl[2].Tcmd').set(outputs, -0.14);
    fieldAccessor(OUTPUTS, sizes, 'Cmd.qrn[3]').set(outputs, 1);
    expect([outputs.Whl[2].Tcmd, outputs.Cmd.qrn[3]]).toEqual([-0.14, 1]);
    const table = distinct<{ B: { MOI: number[][] }[] }>(TABLE, sizes, 0);
    expect(fieldAccessor(TABLE, sizes, 'B[0].MOI[1][2]').get(table)).toBe(table.B[0].MOI[1][2]);
  });

  it('refuses a name that is not there, saying what is', () => {
    const refusal = (layout: Layout, name: string): string => {
      try {
        fieldAccessor(layout, sizes, name);
      } catch (error) {
        expect(error).toBeInstanceOf(AcFieldError);
        return (error as Error).message;
      }
      throw new Error(`${name} was accepted`);
    };
    expect(refusal(OUTPUTS, 'Whl[3].Tcmd')).toBe('Whl[3].Tcmd: 42 announced 3 Whl (Whl[0] to Whl[2])');
    expect(refusal(OUTPUTS, 'MTB[0].Mcmd')).toBe('MTB[0].Mcmd: 42 announced 0 MTB (none)');
    expect(refusal(OUTPUTS, 'Whl[0].Torque')).toBe('Whl[0].Torque: the outputs have no such field (they have Whl[k].Tcmd)');
    expect(refusal(INPUTS, 'Gyro[0].Rate[0]')).toBe('Gyro[0].Rate[0]: Gyro[k].Rate is a number (no index)');
    expect(refusal(INPUTS, 'ST[0].qn[4]')).toBe('ST[0].qn[4]: ST[k].qn[4] is [0..3]');
    expect(refusal(INPUTS, 'ST[0].qn')).toBe('ST[0].qn: ST[k].qn[4] is [0..3]');
    expect(refusal(INPUTS, 'gyro x')).toMatch(/^gyro x: not a field name of 42's/);
  });
});

// ---------------------------------------------------------------------------------------------------------
/** Flies a session to its end, commanding Tcmd = index + 1 on every wheel; the steps flown. */
async function flyToEnd(session: AcSession): Promise<number> {
  let steps = 0;
  // Bounded by the fake's steps: receive() gives null at its clean end.
  for (let inputs = await session.receive(); inputs !== null; inputs = await session.receive()) {
    const outputs = session.outputTemplate();
    outputs.Whl.forEach((wheel, k) => (wheel.Tcmd = k + 1));
    await session.send(outputs);
    steps++;
  }
  return steps;
}

/** A free TCP port (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const QUICK: Partial<SessionOptions> = { readTimeoutMs: 400, connectWindowMs: 2_000 };

describe('a session with a fake 42', () => {
  it.each([
    ['no sensors or actuators at all', {}],
    ['the lockstep case (3 gyros, a star tracker, 3 wheels)', REFERENCE],
    ["42's CfsSat (4 wheels, magnetorquers, 8 sun sensors, GPS...)", CFS_SAT],
    ['a crowded spacecraft (12 thrusters, 9 gyros, 20 sun sensors...)', CROWDED],
    [`${AC_LIMITS.maxCount} sun sensors`, MANY_CSS],
  ])('round-trips every field of every step both ways: %s', async (_, partial) => {
    const fake = await FakeNasa42.start({ sizes: partial, steps: 4, dt: 0.25, id: 2 });
    try {
      const session = await AcSession.connect({ port: fake.port, ...QUICK });
      expect(session.sizes).toEqual(fake.sizes);
      expect(session.table).toEqual(fake.table);
      expect(session.spacecraft).toBe(2);
      const sent: AcOutputs[] = [];
      for (let step = 0; step < 4; step++) {
        const inputs = await session.receive();
        expect(inputs).toEqual({ step, time: step * 0.25, ...fake.sentInputs[step] });
        const outputs = distinct<AcOutputs>(OUTPUTS, session.sizes, 10_000 * (step + 1));
        await session.send(outputs);
        sent.push(outputs);
      }
      expect(await session.receive()).toBeNull(); // 42's run is over
      expect(await session.receive()).toBeNull();
      await fake.done;
      expect(fake.receivedOutputs).toEqual(sent);
      expect(fake.violations).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('reassembles messages that arrive in pieces', async () => {
    const fake = await FakeNasa42.start({ sizes: CFS_SAT, steps: 3, chunkBytes: 7 });
    try {
      const session = await AcSession.connect({ port: fake.port, readTimeoutMs: 5_000 });
      expect(await flyToEnd(session)).toBe(3);
      await fake.done;
      expect(fake.receivedOutputs.map((out) => out.Whl.map((w) => w.Tcmd))).toEqual(Array(3).fill([1, 2, 3, 4]));
      expect(fake.violations).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('closes the loop: what the flight software commands is what 42 applies next', async () => {
    // A one-axis plant in the fake: the wheel's momentum integrates the commanded torque.
    const fake = await FakeNasa42.start({
      sizes: REFERENCE,
      steps: 5,
      dt: 0.1,
      inputs: (step, previous, sizes) => {
        const inputs = distinct<AcInputs>(INPUTS, sizes, 0);
        inputs.Whl[0].H = step === 0 ? 0 : (previous as AcOutputs).Whl[0].Tcmd * 0.1 * step;
        return inputs;
      },
    });
    try {
      const session = await AcSession.connect({ port: fake.port, ...QUICK });
      const H: number[] = [];
      for (let inputs = await session.receive(); inputs !== null; inputs = await session.receive()) {
        H.push(inputs.Whl[0].H);
        const outputs = session.outputTemplate();
        session.outputField('Whl[0].Tcmd').set(outputs, 0.1);
        await session.send(outputs);
      }
      expect(H.map((h) => Number(h.toFixed(12)))).toEqual([0, 0.01, 0.02, 0.03, 0.04]);
    } finally {
      await fake.close();
    }
  });

  it("leaves 42's commanded attitudes as they came, and refuses exchanges out of order", async () => {
    const fake = await FakeNasa42.start({ sizes: CFS_SAT, steps: 1 });
    try {
      const session = await AcSession.connect({ port: fake.port, ...QUICK });
      await expect(session.send(session.outputTemplate())).rejects.toThrow('AcSession: send() without receive() of step 0');
      const inputs = (await session.receive()) as AcInputs;
      await expect(session.receive()).rejects.toThrow('AcSession: receive() again before send() of step 0');
      const template = session.outputTemplate();
      expect([template.Cmd.qrl, template.Cmd.qrn, template.G[0].GCmd.qrl, template.G[0].GCmd.qrn]).toEqual([inputs.Cmd.qrl, inputs.Cmd.qrn, inputs.G[0].GCmd.qrl, inputs.G[0].GCmd.qrn]);
      expect([template.Whl.map((w) => w.Tcmd), template.MTB.map((m) => m.Mcmd), template.svb]).toEqual([[0, 0, 0, 0], [0, 0, 0], [0, 0, 0]]);
      // A malformed message is the caller's to mend: nothing went out, the step is still open.
      await expect(session.send({ ...template, Whl: [] })).rejects.toThrow(AcShapeError);
      await session.send(template);
      expect(await session.receive()).toBeNull();
    } finally {
      await fake.close();
    }
  });

  it('retries a refused connection while 42 starts', async () => {
    const port = await freePort();
    const connecting = AcSession.connect({ port, connectWindowMs: 5_000, retryIntervalMs: 50, readTimeoutMs: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const fake = await FakeNasa42.start({ port, sizes: REFERENCE, steps: 2 });
    try {
      expect(await flyToEnd(await connecting)).toBe(2);
    } finally {
      await fake.close();
    }
  });

  it('stops retrying at once when told to (42 has exited)', async () => {
    const port = await freePort();
    const aborter = new AbortController();
    const started = Date.now();
    setTimeout(() => aborter.abort(new Error('42 exited with code 1 before its flight software connected')), 200);
    await expect(AcSession.connect({ port, connectWindowMs: 10_000, signal: aborter.signal })).rejects.toThrow('42 exited with code 1');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('a misbehaving 42', () => {
  /** The one error flying a session against this fake gives: an AcProtocolError of one line. */
  async function failure(options: FakeOptions, connect: Partial<SessionOptions> = QUICK): Promise<AcProtocolError> {
    const fake = await FakeNasa42.start({ sizes: REFERENCE, steps: 3, ...options });
    const started = Date.now();
    try {
      const error = await AcSession.connect({ port: fake.port, ...connect }).then(flyToEnd).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(AcProtocolError);
      expect((error as Error).message).not.toContain('\n');
      expect(Date.now() - started).toBeLessThan(5_000); // never a hang
      return error as AcProtocolError;
    } finally {
      await fake.close();
    }
  }

  const kinds = new Set<AcProtocolErrorKind>();
  const expectKind = (error: AcProtocolError, kind: AcProtocolErrorKind, message: RegExp): void => {
    expect([error.kind, error.message]).toEqual([kind, expect.stringMatching(message)]);
    kinds.add(kind);
  };

  it('nothing listening: refused, once the connect window has passed', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await AcSession.connect({ port, connectWindowMs: 300, retryIntervalMs: 50 }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(error).toBeInstanceOf(AcProtocolError);
    expectKind(error as AcProtocolError, 'refused', new RegExp(`^nothing accepted a connection at 127\\.0\\.0\\.1:${port} within 0\\.3 s \\(ECONNREFUSED\\): is 42 running`));
  });

  it('a peer that hangs up at once: closed', async () => {
    expectKind(await failure({ misbehave: { kind: 'hang-up' } }), 'closed', /^42 closed the connection after 0 of the 96 bytes of the array sizes: did it stop or crash\?$/);
  });

  it('a silent peer: timeout', async () => {
    expectKind(await failure({ misbehave: { kind: 'silent' } }), 'timeout', /^no byte of the array sizes came from 42 within 0\.4 s$/);
  });

  it('42 dying in the middle of a step: closed', async () => {
    expectKind(await failure({ misbehave: { kind: 'die', step: 1, bytes: 50 } }), 'closed', /^42 closed the connection after 50 of the 153 bytes of the inputs of step 1: did it stop or crash\?$/);
  });

  it('a message cut short: short', async () => {
    expectKind(await failure({ misbehave: { kind: 'stall', step: 2, bytes: 10 } }), 'short', /^42 sent 10 of the 153 bytes of the inputs of step 2, then nothing for 0\.4 s$/);
  });

  it('absurd array sizes: sizes', async () => {
    expectKind(await failure({ misbehave: { kind: 'sizes', count: 'Nwhl', value: 1e12 } }), 'sizes', /^42 announced Nwhl = 1000000000000: lockstep accepts 0 to 500 of each kind/);
    expectKind(await failure({ misbehave: { kind: 'sizes', count: 'Ncss', value: -1 } }), 'sizes', /^42 announced Ncss = -1:/);
  });

  it('absurd or inconsistent buffer lengths: lengths', async () => {
    expectKind(await failure({ misbehave: { kind: 'lengths', name: 'AcTblBufLen', value: 2 ** 40 } }), 'lengths', /^42 announced AcTblBufLen = 1099511627776 bytes: lockstep accepts 1 to 4194304$/);
    expectKind(await failure({ misbehave: { kind: 'lengths', name: 'AcInBufLen', value: 0 } }), 'lengths', /^42 announced AcInBufLen = 0 bytes/);
    expectKind(
      await failure({ misbehave: { kind: 'lengths', name: 'AcOutBufLen', value: 265 } }),
      'lengths',
      /^42 announced AcOutBufLen = 265 bytes where its array sizes give 257: this 42 speaks another version of the AC protocol/,
    );
  });

  it('table parameters that contradict the array sizes: table', async () => {
    expectKind(await failure({ misbehave: { kind: 'table', count: 'Nst', value: 2 } }), 'table', /^42's table parameters give Nst = 2, its array sizes 1$/);
    expectKind(await failure({ sizes: REFERENCE, dt: 0 }), 'table', /^42's table parameters give a flight-software period DT = 0 s/);
  });

  it('a wrong acknowledgement: ack', async () => {
    expectKind(await failure({ misbehave: { kind: 'ack', step: 1, ack: Buffer.from('Nak\0', 'latin1') } }), 'ack', /^42 acknowledged the outputs of step 1 with "Nak\\x00" instead of "Ack\\0"$/);
  });

  it('no acknowledgement: timeout, or closed when 42 hangs up instead', async () => {
    expectKind(await failure({ misbehave: { kind: 'no-ack', step: 0 } }), 'timeout', /^no byte of 42's acknowledgement of the outputs of step 0 came from 42 within 0\.4 s$/);
    expectKind(await failure({ misbehave: { kind: 'close-before-ack', step: 2 } }), 'closed', /^42 closed the connection after 0 of the 4 bytes of 42's acknowledgement of the outputs of step 2/);
  });

  it('bytes beyond a message, or a flood: excess', async () => {
    expectKind(await failure({ misbehave: { kind: 'excess', bytes: 8 } }), 'excess', /^42 sent 8 bytes beyond the array sizes before lockstep's acknowledgement: not the AC protocol$/);
    expectKind(await failure({ misbehave: { kind: 'flood', bytes: 4 * 2 ** 20 } }), 'excess', /^42 sent more than 1209 bytes while lockstep waited for the inputs of step 0: not the AC protocol$/);
  });

  it('gives each way of failing its own kind', () => {
    expect([...kinds].sort()).toEqual(['ack', 'closed', 'excess', 'lengths', 'refused', 'short', 'sizes', 'table', 'timeout']);
  });
});

// ---------------------------------------------------------------------------------------------------------
const DEFECTIVE = `void WriteAcBufLensToSocket(struct AcIpcType *I)
{
      char *Msg;
      Msg = (char *) calloc(3,sizeof(long));
      memset(&Msg[MsgLen],0,1);
}
/******/
void Other(void)
{
      Msg = (char *) calloc(3,sizeof(long));
}
`;

describe('building 42', () => {
  it('patches the one allocation of WriteAcBufLensToSocket, and nothing else', () => {
    const { text, patch } = patchBufLens(DEFECTIVE);
    expect(patch).toBe('applied');
    expect(text).toBe(DEFECTIVE.replace('calloc(3,sizeof(long));', 'calloc(3*sizeof(long)+1,sizeof(char)); /* lockstep: room for the terminating zero */'));
    expect(patchBufLens(text)).toEqual({ text, patch: 'already-fixed' });
    const upstreamFix = DEFECTIVE.replace('calloc(3,sizeof(long))', 'calloc(3+1, sizeof(long))');
    expect(patchBufLens(upstreamFix)).toEqual({ text: upstreamFix, patch: 'already-fixed' });
  });

  it('refuses code that is not as expected', () => {
    expect(() => patchBufLens(DEFECTIVE.replace('calloc(3,sizeof(long))', 'malloc(24)'))).toThrow(/WriteAcBufLensToSocket allocates 0 times where lockstep expects calloc\(3,sizeof\(long\)\)/);
    expect(() => patchBufLens(DEFECTIVE.replace('calloc(3,sizeof(long))', 'calloc(2,sizeof(long))'))).toThrow(/allocates calloc\(2,sizeof\(long\)\) where lockstep expects/);
    expect(() => patchBufLens('void Other(void)\n{\n}\n')).toThrow(/^Source\/AutoCode\/ScIPC.c has no function WriteAcBufLensToSocket: this 42 differs/);
    try {
      patchBufLens('');
    } catch (error) {
      expect(error).toMatchObject({ name: 'Nasa42BuildError', kind: 'patch' });
    }
  });

  it.skipIf(!existsSync(join(DEFAULT_NASA42_SOURCE, 'Source', 'AutoCode', 'ScIPC.c')))('finds the defect in the shared 42 source', () => {
    expect(patchBufLens(readFileSync(join(DEFAULT_NASA42_SOURCE, 'Source', 'AutoCode', 'ScIPC.c'), 'latin1')).patch).toBe('applied');
  });

  /** A small tree that passes for 42's source, with this Makefile. */
  function fakeSource(name: string, makefile: string): string {
    const dir = join(scratch, name);
    for (const sub of ['Source/AutoCode', 'Include', 'Kit', 'Model']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, 'Source', 'AutoCode', 'ScIPC.c'), DEFECTIVE);
    writeFileSync(join(dir, 'Source', '42main.c'), 'int main(void) { return 0; }\n');
    writeFileSync(join(dir, 'Model', 'x.txt'), 'model\n');
    writeFileSync(join(dir, 'Makefile'), makefile);
    return dir;
  }

  async function refusal(options: Parameters<typeof buildNasa42>[0]): Promise<Nasa42BuildError> {
    const error = await buildNasa42(options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Nasa42BuildError);
    expect((error as Error).message).not.toContain('\n');
    return error as Nasa42BuildError;
  }

  it('refuses a missing source or a folder that is not 42', async () => {
    const cache = join(scratch, 'cache-refusals');
    expect(await refusal({ source: join(scratch, 'nowhere'), cache })).toMatchObject({ kind: 'source', message: expect.stringMatching(/nowhere: no such folder/) });
    mkdirSync(join(scratch, 'empty'));
    expect(await refusal({ source: join(scratch, 'empty'), cache })).toMatchObject({ kind: 'source', message: expect.stringMatching(/empty: not a 42 source tree \(no Makefile\)/) });
  });

  it('refuses without make or gcc, saying how to get them', async () => {
    const source = fakeSource('no-tools', '42:\n\ttouch 42\n');
    const path = process.env.PATH;
    process.env.PATH = join(scratch, 'no-such-bin');
    try {
      expect(await refusal({ source, cache: join(scratch, 'cache-no-tools') })).toMatchObject({
        kind: 'tools',
        message: 'make is not installed: building 42 needs gcc and make (Debian: apt-get install -y gcc make)',
      });
    } finally {
      process.env.PATH = path;
    }
  });

  const haveMake = spawnSync('make', ['--version']).status === 0 && spawnSync('gcc', ['--version']).status === 0;

  it.skipIf(!haveMake)('builds in a cache folder named by the source, once', async () => {
    const source = fakeSource('builds', '42:\n\tgrep -q "sizeof(long)+1" Source/AutoCode/ScIPC.c && printf "built\\n" > 42\n');
    const cache = join(scratch, 'cache-builds');
    const first = await buildNasa42({ source, cache });
    expect(first).toMatchObject({ cached: false, patch: 'applied', binary: join(cache, first.hash, '42'), model: join(cache, first.hash, 'Model') });
    expect(readFileSync(first.binary, 'utf8')).toBe('built\n'); // the build ran on the patched copy
    expect(readFileSync(join(source, 'Source', 'AutoCode', 'ScIPC.c'), 'utf8')).toBe(DEFECTIVE); // the source is untouched
    const started = Date.now();
    expect(await buildNasa42({ source, cache })).toEqual({ ...first, cached: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    // Another source is another build.
    writeFileSync(join(source, 'Model', 'x.txt'), 'another model\n');
    expect((await buildNasa42({ source, cache })).hash).not.toBe(first.hash);
  });

  it.skipIf(!haveMake)('reports a failed build in one line with its log, and a build past its time', async () => {
    const cache = join(scratch, 'cache-fails');
    const failing = fakeSource('fails', '42:\n\t@echo "./Source/42main.c:3:1: error: expected \';\' before \'}\' token"\n\t@false\n');
    const failed = await refusal({ source: failing, cache });
    expect(failed.kind).toBe('build');
    expect(failed.message).toMatch(/^make failed \(exit 2\) building 42: \.\/Source\/42main\.c:3:1: error: expected ';' before '}' token \(log: .*\.failed\/build\.log\)$/);
    expect(existsSync(/\(log: (.*)\)$/.exec(failed.message)?.[1] as string)).toBe(true);
    const slow = fakeSource('slow', '42:\n\tsleep 30\n');
    const started = Date.now();
    expect(await refusal({ source: slow, cache, timeoutMs: 300 })).toMatchObject({ kind: 'timeout', message: expect.stringMatching(/^building 42 took longer than 0 s and was stopped/) });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('sets the duration of a case, and refuses an Inp_Sim.txt without its line', () => {
    const inpSim = readFileSync(join('nasa42', 'lockstep-reference', 'Inp_Sim.txt'), 'utf8');
    expect(withDuration(inpSim, 10).split('\n')[3]).toBe('10.000   0.01                    !  Sim Duration, Step Size [sec]');
    expect(() => withDuration('FAST ! Time Mode\n', 10)).toThrow(new Nasa42RunError('case', 'Inp_Sim.txt has no "Sim Duration, Step Size" line to set the duration in'));
    expect(() => withDuration(inpSim, -1)).toThrow(/duration -1: must be a positive number of seconds/);
  });
});

// ---------------------------------------------------------------------------------------------------------
function whyNoReal42(): string | null {
  if (!existsSync(DEFAULT_NASA42_SOURCE)) return `${DEFAULT_NASA42_SOURCE} is absent`;
  for (const tool of ['make', 'gcc']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return `${tool} is not installed (apt-get install -y gcc make)`;
  }
  const probe = spawnSync('gcc', ['-x', 'c', '-', '-o', join(scratch, 'probe'), '-lm'], { input: '#include <stdio.h>\n#include <math.h>\nint main(void) { return (int) sqrt(0.0); }\n' });
  if (probe.status !== 0) return 'gcc cannot build a C program here (is libc6-dev installed?)';
  return null;
}

const noReal42 = whyNoReal42();
if (noReal42 !== null) console.warn(`test/nasa42.test.ts: the tests with the real 42 are skipped: ${noReal42}`);

/** Whether any process of the group still exists. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe.skipIf(noReal42 !== null)(`the real 42${noReal42 === null ? '' : ` (skipped: ${noReal42})`}`, () => {
  let build: Nasa42Build;
  beforeAll(async () => {
    build = await buildNasa42(); // about 10 s the first time, cached after
  }, 300_000);

  it('is built once: a second call returns the cached build', async () => {
    const started = Date.now();
    expect(await buildNasa42()).toEqual({ ...build, cached: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(build.patch).toBe('applied');
  });

  it('flies the lockstep case for 10 s with a rate-damping controller: rates fall, truth written, nothing left running', async () => {
    const run = await startNasa42({ build, runDir: join(scratch, 'run-damping'), duration: 10 });
    const K = 10; // N·m·s: body torque −K·ω, within the wheels' 0.14 N·m at the case's initial rate
    try {
      const session = await AcSession.connect({ port: run.port, signal: run.exitSignal });
      expect(session.sizes).toEqual(sizesOf(REFERENCE));
      const zeroed = (matrix: number[][]): number[][] => matrix.map((row) => row.map((v) => v + 0)); // 42 sends -0 off the diagonal
      expect([session.table.DT, zeroed(session.table.MOI), session.table.Whl.map((w) => [w.Tmax, w.Hmax, w.J])]).toEqual([
        0.1,
        [[100, 0, 0], [0, 200, 0], [0, 0, 300]],
        Array(3).fill([0.14, 50, 0.012]),
      ]);
      const rates: number[][] = [];
      for (let inputs = await session.receive(); inputs !== null; inputs = await session.receive()) {
        expect(inputs.ST[0].Valid).toBe(1);
        const omega = inputs.Gyro.map((gyro) => gyro.Rate); // one gyro per body axis
        rates.push(omega);
        const outputs = session.outputTemplate();
        // 42's wheel torque accelerates the wheel; the body takes minus it: Tcmd = +K·ω damps the body.
        omega.forEach((w, k) => (outputs.Whl[k].Tcmd = Math.max(-0.14, Math.min(0.14, K * w))));
        await session.send(outputs);
      }
      expect(rates.length).toBe(101); // t = 0, 0.1, … 10 s
      const exit = await run.waitForExit(10_000);
      expect(exit).toEqual({ code: 0, signal: null });

      const truth = readTruth(run.runDir);
      expect(truth.time.length).toBe(101);
      expect([truth.time[0], truth.time[100]]).toEqual([0, 10]);
      expect(truth.wbn[0]).toEqual([0.01, -0.005, 0.008]); // the case's initial rate
      expect(truth.qbn[0].map((q) => Number(q.toFixed(6)))).toEqual([0.080085, -0.05339, 0.240256, 0.965926]);
      const norm = (v: readonly number[]): number => Math.hypot(...v);
      expect(norm(truth.wbn[100])).toBeLessThan(0.6 * norm(truth.wbn[0]));
      for (let i = 1; i <= 100; i++) expect(norm(truth.wbn[i])).toBeLessThan(norm(truth.wbn[i - 1]) + 1e-6);
      // The gyros measured 42's truth (bias 1°/h, noise 1e-5 rad/s).
      rates.forEach((omega, i) => omega.forEach((w, k) => expect(Math.abs(w - truth.wbn[i][k])).toBeLessThan(1e-4)));
      // The wheels took up the body's momentum: with no external torque |I·ω + H_wheels| holds (42's Hwhl).
      const total = (i: number): number => norm([100, 200, 300].map((inertia, k) => inertia * truth.wbn[i][k] + truth.Hwhl[i][k]));
      expect(norm(truth.Hwhl[100])).toBeGreaterThan(0.5);
      expect(Math.abs(total(100) - total(0)) / total(0)).toBeLessThan(1e-4);
    } finally {
      await run.stop();
    }
    expect(groupAlive(run.pid)).toBe(false);
  });

  it('is stopped when its flight software goes away mid-run, leaving nothing running', async () => {
    const run = await startNasa42({ build, runDir: join(scratch, 'run-abandoned'), duration: 600 });
    try {
      const session = await AcSession.connect({ port: run.port, signal: run.exitSignal });
      for (let step = 0; step < 5; step++) {
        await session.receive();
        await session.send(session.outputTemplate());
      }
      session.close(); // lockstep stops flying: 42 is left waiting, or dies of a broken pipe
    } finally {
      await run.stop();
    }
    expect(groupAlive(run.pid)).toBe(false);
    // 42 buffers its truth files: stopped by a signal, it may not have written the rows it had (docs/nasa42.md).
    expect(readTruth(run.runDir).time.length).toBeLessThanOrEqual(6);
  });

  it('says so when 42 exits before its flight software connects', async () => {
    const caseDir = join(scratch, 'case-broken');
    mkdirSync(caseDir);
    for (const name of readdirSync(LOCKSTEP_CASE)) {
      if (name !== 'SC_Lockstep.txt') writeFileSync(join(caseDir, name), readFileSync(join(LOCKSTEP_CASE, name)));
    }
    const run = await startNasa42({ build, caseDir, runDir: join(scratch, 'run-broken') });
    try {
      const error = await AcSession.connect({ port: run.port, signal: run.exitSignal, connectWindowMs: 20_000 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Nasa42RunError);
      expect((error as Nasa42RunError).kind).toBe('exited');
      expect((error as Error).message).toMatch(/^42 exited with code 1 before its flight software connected: Error opening .*SC_Lockstep\.txt: No such file or directory$/);
    } finally {
      await run.stop();
    }
    expect(groupAlive(run.pid)).toBe(false);
  });

  it("refuses a run folder that holds files (a run never overwrites another run's truth)", async () => {
    const runDir = join(scratch, 'run-occupied');
    mkdirSync(runDir);
    writeFileSync(join(runDir, 'qbn.42'), '0 0 0 1\n');
    await expect(startNasa42({ build, runDir, duration: 1 })).rejects.toThrow(new Nasa42RunError('case', `${runDir}: holds files already; a run of 42 needs a new or empty folder (it writes its truth files there)`));
    expect(readFileSync(join(runDir, 'qbn.42'), 'utf8')).toBe('0 0 0 1\n');
  });
});
