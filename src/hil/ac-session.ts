// One flight computer's conversation with 42 as its "standalone AC application": connect, read the
// one-time messages (array sizes, buffer lengths, table parameters) and check them, then one exchange per
// flight-software step —
//
//   const inputs = await session.receive();   // null when 42 has finished its run
//   const outputs = session.outputTemplate(); outputs.Whl[0].Tcmd = ...;
//   await session.send(outputs);
//
// with the `Ack\0` handshakes in 42's order (Source/42fsw.c, FlightSoftWare; AcIPC.c, ScIPC.c). Every
// count and length 42 announces is bounded before anything is allocated, and the buffer lengths must be
// what the array sizes give for the layouts lockstep knows, so a 42 speaking another version of the
// protocol is refused at connection rather than misread at every step.
import { blank, decode, encode } from './ac-codec.js';
import { AcConnection, connectWithRetry, type ConnectOptions } from './ac-connection.js';
import { AcProtocolError } from './ac-errors.js';
import { fieldAccessor, type FieldAccessor } from './ac-fields.js';
import {
  ACK,
  ARRAY_SIZES,
  BUFFER_LENGTHS,
  COUNT_NAMES,
  INPUTS,
  messageBytes,
  noArrays,
  OUTPUTS,
  TABLE,
  type AcInputs,
  type AcOutputs,
  type AcTable,
  type ArraySizes,
  type BufferLengths,
} from './ac-layout.js';

/** What lockstep accepts from a peer before calling it absurd. */
export const AC_LIMITS = {
  /** Of each kind of sensor, actuator, body or joint. */
  maxCount: 500,
  /** Bytes of one input, output or table buffer. */
  maxBufferBytes: 4 * 1024 * 1024,
} as const;

export const DEFAULT_READ_TIMEOUT_MS = 10_000;
/** What may be held from 42 before its buffer lengths are known: far more than the 96 + 24 bytes due. */
const HANDSHAKE_BUFFER_BYTES = 64 * 1024;

export interface SessionOptions extends ConnectOptions {
  /** Longest wait for any one message from 42 (or for a write to be taken), ms. */
  readTimeoutMs?: number;
}

/** One step's inputs, with lockstep's own step number and time (42 sends no time). */
export interface StepInputs extends AcInputs {
  /** Flight-software step, from 0. */
  step: number;
  /** step × DT, s: 42 runs flight software at t = 0, DT, 2·DT… of its run. */
  time: number;
}

export class AcSession {
  private step = 0;
  private state: 'receive' | 'send' | 'ended' = 'receive';
  private last: StepInputs | null = null;

  private constructor(
    private readonly connection: AcConnection,
    /** Where 42 was reached, for messages. */
    readonly port: number,
    readonly sizes: ArraySizes,
    readonly lengths: BufferLengths,
    readonly table: AcTable,
  ) {}

  /** Connects (retrying while 42 starts) and reads the one-time messages; any failure closes the socket. */
  static async connect(options: SessionOptions): Promise<AcSession> {
    const socket = await connectWithRetry(options);
    const header = messageBytes(ARRAY_SIZES, noArrays());
    const connection = new AcConnection(socket, options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS, HANDSHAKE_BUFFER_BYTES);
    try {
      const sizes = decode<ArraySizes>(ARRAY_SIZES, noArrays(), await AcSession.message(connection, header, ARRAY_SIZES.name));
      checkSizes(sizes);
      await connection.write(ACK, 'the acknowledgement of the array sizes');

      const lengthBytes = messageBytes(BUFFER_LENGTHS, noArrays());
      const lengths = decode<BufferLengths>(BUFFER_LENGTHS, noArrays(), await AcSession.message(connection, lengthBytes, BUFFER_LENGTHS.name));
      checkLengths(lengths, sizes);
      // From here the most 42 may have sent before we read it: the table, or an Ack and the next inputs.
      connection.maxBuffered = Math.max(lengths.AcTblBufLen, lengths.AcInBufLen + ACK.length);
      await connection.write(ACK, 'the acknowledgement of the buffer lengths');

      const table = decode<AcTable>(TABLE, sizes, await AcSession.message(connection, lengths.AcTblBufLen, TABLE.name));
      checkTable(table, sizes);
      await connection.write(ACK, 'the acknowledgement of the table parameters');
      return new AcSession(connection, options.port, sizes, lengths, table);
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** A whole message 42 must now wait on: exact length, and nothing beyond it. */
  private static async message(connection: AcConnection, bytes: number, what: string): Promise<Buffer> {
    const message = (await connection.read(bytes, what)) as Buffer;
    connection.expectQuiet(what);
    return message;
  }

  /** The spacecraft 42 flies with this connection (AC.ID, its index in Inp_Sim.txt). */
  get spacecraft(): number {
    return this.table.ID;
  }

  /**
   * The next step's inputs, acknowledged; null when 42 closed the connection between steps (the end of
   * its run: whether 42 finished or died is its exit status's to say).
   */
  async receive(): Promise<StepInputs | null> {
    if (this.state === 'ended') return null;
    if (this.state !== 'receive') throw new Error(`AcSession: receive() again before send() of step ${this.step}`);
    return this.closingOnFailure(() => this.receiveStep());
  }

  private async receiveStep(): Promise<StepInputs | null> {
    const what = `the inputs of step ${this.step}`;
    const bytes = await this.connection.read(this.lengths.AcInBufLen, what, { endOk: true });
    if (bytes === null) {
      this.state = 'ended';
      this.connection.close();
      return null;
    }
    this.connection.expectQuiet(what);
    await this.connection.write(ACK, `the acknowledgement of ${what}`);
    const inputs = decode<AcInputs>(INPUTS, this.sizes, bytes);
    this.last = { step: this.step, time: this.step * this.table.DT, ...inputs };
    this.state = 'send';
    return this.last;
  }

  /**
   * Outputs that change nothing 42 commands: zero torques, dipoles and thrust, and the commanded attitudes
   * (Cmd.qrl, Cmd.qrn and each joint's) as this step's inputs carried them. Fill in what the flight
   * software commands.
   */
  outputTemplate(): AcOutputs {
    const outputs = blank<AcOutputs>(OUTPUTS, this.sizes);
    if (this.last !== null) {
      outputs.Cmd.qrl = [...this.last.Cmd.qrl];
      outputs.Cmd.qrn = [...this.last.Cmd.qrn];
      this.last.G.forEach((joint, k) => {
        outputs.G[k].GCmd.qrl = [...joint.GCmd.qrl];
        outputs.G[k].GCmd.qrn = [...joint.GCmd.qrn];
      });
    }
    return outputs;
  }

  /** Sends this step's outputs and waits for 42's acknowledgement. */
  async send(outputs: AcOutputs): Promise<void> {
    if (this.state !== 'send') throw new Error(`AcSession: send() without receive() of step ${this.step}`);
    // A malformed message (AcShapeError) is the caller's to mend: nothing is sent, the step stays open.
    const bytes = encode(OUTPUTS, this.sizes, outputs);
    await this.closingOnFailure(() => this.sendStep(bytes));
  }

  /** A peer that failed once is not spoken to again. */
  private async closingOnFailure<T>(exchange: () => Promise<T>): Promise<T> {
    try {
      return await exchange();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  private async sendStep(bytes: Buffer): Promise<void> {
    const what = `the outputs of step ${this.step}`;
    await this.connection.write(bytes, what);
    const ack = await this.connection.read(ACK.length, `42's acknowledgement of ${what}`);
    if (ack === null || !ack.equals(ACK)) {
      throw new AcProtocolError('ack', `42 acknowledged ${what} with ${show(ack)} instead of "Ack\\0"`);
    }
    this.step++;
    this.state = 'receive';
  }

  /** An accessor for one input by 42's name (`Gyro[1].Rate`), checked against what 42 announced. */
  inputField(name: string): FieldAccessor {
    return fieldAccessor(INPUTS, this.sizes, name);
  }

  /** An accessor for one output by 42's name (`Whl[0].Tcmd`), checked against what 42 announced. */
  outputField(name: string): FieldAccessor {
    return fieldAccessor(OUTPUTS, this.sizes, name);
  }

  close(): void {
    this.state = 'ended';
    this.connection.close();
  }
}

function show(bytes: Buffer | null): string {
  if (bytes === null) return 'nothing';
  const text = [...bytes].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  return `"${text}"`;
}

function checkSizes(sizes: ArraySizes): void {
  for (const count of COUNT_NAMES) {
    const n = sizes[count];
    if (!Number.isSafeInteger(n) || n < 0 || n > AC_LIMITS.maxCount) {
      throw new AcProtocolError('sizes', `42 announced ${count} = ${n}: lockstep accepts 0 to ${AC_LIMITS.maxCount} of each kind (is this 42 on that port?)`);
    }
  }
}

function checkLengths(lengths: BufferLengths, sizes: ArraySizes): void {
  const expected: BufferLengths = {
    AcInBufLen: messageBytes(INPUTS, sizes),
    AcOutBufLen: messageBytes(OUTPUTS, sizes),
    AcTblBufLen: messageBytes(TABLE, sizes),
  };
  for (const name of Object.keys(expected) as (keyof BufferLengths)[]) {
    const n = lengths[name];
    if (!Number.isSafeInteger(n) || n < 1 || n > AC_LIMITS.maxBufferBytes) {
      throw new AcProtocolError('lengths', `42 announced ${name} = ${n} bytes: lockstep accepts 1 to ${AC_LIMITS.maxBufferBytes}`);
    }
  }
  for (const name of Object.keys(expected) as (keyof BufferLengths)[]) {
    if (lengths[name] !== expected[name]) {
      throw new AcProtocolError(
        'lengths',
        `42 announced ${name} = ${lengths[name]} bytes where its array sizes give ${expected[name]}: this 42 speaks another version of the AC protocol than lockstep's (42 commit 11e3cc3, docs/nasa42.md)`,
      );
    }
  }
}

function checkTable(table: AcTable, sizes: ArraySizes): void {
  for (const count of COUNT_NAMES) {
    if (table[count] !== sizes[count]) {
      throw new AcProtocolError('table', `42's table parameters give ${count} = ${table[count]}, its array sizes ${sizes[count]}`);
    }
  }
  if (!(Number.isFinite(table.DT) && table.DT > 0)) {
    throw new AcProtocolError('table', `42's table parameters give a flight-software period DT = ${table.DT} s; it must be a positive number`);
  }
}
