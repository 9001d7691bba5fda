// A fake NASA 42 for the tests: a TCP server that speaks 42's side of the AC socket protocol in the order
// of Source/AutoCode/ScIPC.c and Source/42fsw.c — array sizes, buffer lengths, table parameters (each
// waiting for the client's `Ack\0`), then per flight-software step the inputs (waiting for the Ack), the
// outputs read back and acknowledged — and closes the connection between steps when its run is over, as
// 42 does when it exits. It is stricter than 42 about the client (a wrong Ack is recorded as a violation)
// and can misbehave in each way a peer can: hang up, stay silent, die or stall in the middle of a message, announce
// absurd sizes or lengths, contradict itself, acknowledge wrongly or not at all, send too much.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { blank, encode, decode } from '../src/hil/ac-codec.js';
import { fieldAccessor, scalars } from '../src/hil/ac-fields.js';
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
  type CountName,
  type Layout,
} from '../src/hil/ac-layout.js';

export type Misbehaviour =
  /** Accepts the connection and closes it at once. */
  | { kind: 'hang-up' }
  /** Accepts the connection and never sends a byte. */
  | { kind: 'silent' }
  /** Closes the connection after `bytes` of the inputs of `step` (42 dying mid-message). */
  | { kind: 'die'; step: number; bytes: number }
  /** Sends `bytes` of the inputs of `step`, then nothing more. */
  | { kind: 'stall'; step: number; bytes: number }
  /** Announces `value` for one count. */
  | { kind: 'sizes'; count: CountName; value: number }
  /** Announces `value` for one buffer length. */
  | { kind: 'lengths'; name: keyof BufferLengths; value: number }
  /** The table parameters give `value` for a count the array sizes gave otherwise. */
  | { kind: 'table'; count: CountName; value: number }
  /** Acknowledges the outputs of `step` with these bytes. */
  | { kind: 'ack'; step: number; ack: Buffer }
  /** Never acknowledges the outputs of `step`. */
  | { kind: 'no-ack'; step: number }
  /** Closes the connection instead of acknowledging the outputs of `step`. */
  | { kind: 'close-before-ack'; step: number }
  /** Sends `bytes` more right after the array sizes, without waiting for the Ack. */
  | { kind: 'excess'; bytes: number }
  /** After the table, sends `bytes` nobody asked for. */
  | { kind: 'flood'; bytes: number };

export interface FakeOptions {
  sizes?: Partial<ArraySizes>;
  /** Flight-software steps before the clean end. */
  steps?: number;
  /** The table's DT, s. */
  dt?: number;
  /** The table's spacecraft ID. */
  id?: number;
  /** 0: any free port. */
  port?: number;
  /** Writes every message in pieces of this many bytes, 1 ms apart (TCP may split a message anywhere). */
  chunkBytes?: number;
  misbehave?: Misbehaviour;
  /** The inputs of a step given the outputs before it (null at step 0); default every field a distinct number. */
  inputs?: (step: number, previous: AcOutputs | null, sizes: ArraySizes) => AcInputs;
}

/** A message of this layout whose every number is distinct (whole numbers for C longs), from `base` up. */
export function distinct<T>(layout: Layout, sizes: ArraySizes, base: number): T {
  const message = blank<T>(layout, sizes) as object;
  scalars(layout, sizes).forEach(({ name, field }, n) => fieldAccessor(layout, sizes, name).set(message, field.type === 'long' ? base + n : base + n + 0.25));
  return message as T;
}

/** Exact reads for the fake's side, each within a timeout; null when the client closed or went silent. */
class Reader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  async read(n: number, timeoutMs = 5_000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered < n) {
      if (this.closed || Date.now() >= deadline) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(n)];
    this.buffered -= n;
    return all.subarray(0, n);
  }

  /** Resolves when the client has closed the connection (or after the timeout). */
  async untilClosed(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await this.read(Number.MAX_SAFE_INTEGER, deadline - Date.now());
  }
}

export class FakeNasa42 {
  readonly sentInputs: AcInputs[] = [];
  readonly receivedOutputs: AcOutputs[] = [];
  /** The client's breaches of the protocol (a wrong or missing Ack, a short output message). */
  readonly violations: string[] = [];
  readonly sizes: ArraySizes;
  readonly table: AcTable;
  /** Settles when the conversation with the client is over. */
  readonly done: Promise<void>;
  private readonly sockets = new Set<Socket>();
  private finish: () => void = () => {};

  private constructor(
    private readonly server: Server,
    private readonly options: FakeOptions,
  ) {
    this.sizes = { ...noArrays(), ...options.sizes };
    const table = distinct<AcTable>(TABLE, this.sizes, 1000);
    for (const count of COUNT_NAMES) table[count] = this.sizes[count];
    table.ID = options.id ?? 0;
    table.DT = options.dt ?? 0.1;
    this.table = table;
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
    server.on('connection', (socket) => {
      server.close(); // one client, as 42 accepts one per spacecraft
      this.sockets.add(socket);
      socket.on('error', () => {}); // a client that hangs up is part of the tests
      socket.setNoDelay(true);
      this.converse(socket)
        .catch((error: Error) => this.violations.push(`fake 42 failed: ${error.message}`))
        .finally(() => this.finish());
    });
  }

  static async start(options: FakeOptions = {}): Promise<FakeNasa42> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return new FakeNasa42(server, options);
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? (this.options.port as number);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async write(socket: Socket, bytes: Buffer): Promise<void> {
    const chunk = this.options.chunkBytes ?? bytes.length;
    for (let offset = 0; offset < bytes.length; offset += chunk) {
      if (socket.destroyed) return;
      socket.write(bytes.subarray(offset, offset + chunk));
      if (chunk < bytes.length) await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  private async expectAck(reader: Reader, what: string): Promise<boolean> {
    const ack = await reader.read(ACK.length);
    if (ack === null) return false;
    if (!ack.equals(ACK)) this.violations.push(`${what}: acknowledged with ${JSON.stringify(ack.toString('latin1'))}`);
    return true;
  }

  private async converse(socket: Socket): Promise<void> {
    const reader = new Reader(socket);
    const bad = this.options.misbehave;
    if (bad?.kind === 'silent') return reader.untilClosed();
    if (bad?.kind === 'hang-up') return void socket.end();

    const announced = { ...this.sizes, ...(bad?.kind === 'sizes' ? { [bad.count]: bad.value } : {}) };
    await this.write(socket, encode(ARRAY_SIZES, noArrays(), announced));
    if (bad?.kind === 'excess') await this.write(socket, Buffer.alloc(bad.bytes, 0x2a));
    if (!(await this.expectAck(reader, 'the array sizes'))) return;

    const lengths: BufferLengths = {
      AcInBufLen: messageBytes(INPUTS, this.sizes),
      AcOutBufLen: messageBytes(OUTPUTS, this.sizes),
      AcTblBufLen: messageBytes(TABLE, this.sizes),
      ...(bad?.kind === 'lengths' ? { [bad.name]: bad.value } : {}),
    };
    await this.write(socket, encode(BUFFER_LENGTHS, noArrays(), lengths));
    if (!(await this.expectAck(reader, 'the buffer lengths'))) return;

    const table = bad?.kind === 'table' ? { ...this.table, [bad.count]: bad.value } : this.table;
    await this.write(socket, encode(TABLE, this.sizes, table));
    if (!(await this.expectAck(reader, 'the table parameters'))) return;
    if (bad?.kind === 'flood') {
      await this.write(socket, Buffer.alloc(bad.bytes, 0x2a));
      return reader.untilClosed();
    }

    let previous: AcOutputs | null = null;
    for (let step = 0; step < (this.options.steps ?? 3); step++) {
      const inputs = this.options.inputs?.(step, previous, this.sizes) ?? distinct<AcInputs>(INPUTS, this.sizes, 100_000 * (step + 1));
      const bytes = encode(INPUTS, this.sizes, inputs);
      if ((bad?.kind === 'die' || bad?.kind === 'stall') && bad.step === step) {
        await this.write(socket, bytes.subarray(0, bad.bytes));
        if (bad.kind === 'die') return void socket.destroy();
        return reader.untilClosed();
      }
      this.sentInputs.push(inputs);
      await this.write(socket, bytes);
      if (!(await this.expectAck(reader, `the inputs of step ${step}`))) return;

      const out = await reader.read(lengths.AcOutBufLen);
      if (out === null) return void this.violations.push(`the outputs of step ${step}: not sent`);
      previous = decode<AcOutputs>(OUTPUTS, this.sizes, out);
      this.receivedOutputs.push(previous);
      if (bad?.kind === 'no-ack' && bad.step === step) return reader.untilClosed();
      if (bad?.kind === 'close-before-ack' && bad.step === step) return void socket.destroy();
      await this.write(socket, bad?.kind === 'ack' && bad.step === step ? bad.ack : ACK);
    }
    socket.end(); // the end of the run: 42 exits, between steps
  }
}
