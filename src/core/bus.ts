// A core's I/O bus, in WebAssembly: the flight software's bus and debug imports are the functions of a
// small module of lockstep's own, reading the cycle's input frame from its memory and writing outputs
// into it. Served by JavaScript closures, every read and write crossed into JavaScript and boxed a double
// on the way (a heap allocation each, some twenty per cycle): on the path every simulated cycle of every
// campaign takes, that was most of the garbage. A lone core latches its input frame into this memory before
// each run (Core.run), so a core still reads its frame as it is when it runs; a processor's cores all read
// the frame from one bus of the processor's, latched once per cycle (src/processor/processor.ts), and each
// writes its outputs to its own. OutputCapture reads the outputs where the writers left them.
//
// Memory layout (one page, never grown):
//   0   i32 written mask (bit c: output channel c written this cycle)
//   4   i32 writes this cycle
//   8   f64 × MAX_OUTPUTS: the last value written to each output channel
//   INPUT_OFFSET  f64 × inputs: the input frame
import binaryen from '../passes/binaryen.js';

/** Output channels a bus carries at most: the bits of the written mask. */
export const MAX_OUTPUTS = 32;
export const OUTPUT_VALUES_OFFSET = 8;
const INPUT_OFFSET = OUTPUT_VALUES_OFFSET + 8 * MAX_OUTPUTS;

/** The export that reads input channel `channel`. */
export const inputReader = (channel: number): string => `in${channel}`;
/** The export that writes output channel `channel`. */
export const outputWriter = (channel: number): string => `out${channel}`;

const compiled = new Map<number, WebAssembly.Module>();

/** The compiled bus of `inputs` input channels and MAX_OUTPUTS output channels. */
function busModule(inputs: number): WebAssembly.Module {
  let module = compiled.get(inputs);
  if (module) return module;
  const builder = new binaryen.Module();
  try {
    builder.setMemory(1, 1, 'memory');
    const zero = () => builder.i32.const(0);
    for (let channel = 0; channel < inputs; channel++) {
      builder.addFunction(inputReader(channel), binaryen.none, binaryen.f64, [], builder.f64.load(INPUT_OFFSET + 8 * channel, 8, zero()));
      builder.addFunctionExport(inputReader(channel), inputReader(channel));
    }
    for (let channel = 0; channel < MAX_OUTPUTS; channel++) {
      const body = builder.block(null, [
        builder.f64.store(OUTPUT_VALUES_OFFSET + 8 * channel, 8, zero(), builder.local.get(0, binaryen.f64)),
        builder.i32.store(0, 4, zero(), builder.i32.or(builder.i32.load(0, 4, zero()), builder.i32.const((1 << channel) | 0))),
        builder.i32.store(4, 4, zero(), builder.i32.add(builder.i32.load(4, 4, zero()), builder.i32.const(1))),
      ]);
      builder.addFunction(outputWriter(channel), binaryen.f64, binaryen.none, [], body);
      builder.addFunctionExport(outputWriter(channel), outputWriter(channel));
    }
    if (!builder.validate()) throw new Error('the bus module does not validate');
    module = new WebAssembly.Module(builder.emitBinary() as Uint8Array<ArrayBuffer>);
  } finally {
    builder.dispose();
  }
  compiled.set(inputs, module);
  return module;
}

/** One core's bus: the functions its imports are bound to, the frame they read and the outputs they write. */
export class Bus {
  readonly exports: Record<string, unknown>;
  readonly memory: ArrayBuffer;
  private readonly frame: Float64Array;

  constructor(readonly inputs: number) {
    this.exports = new WebAssembly.Instance(busModule(inputs)).exports as Record<string, unknown>;
    this.memory = (this.exports.memory as WebAssembly.Memory).buffer;
    this.frame = new Float64Array(this.memory, INPUT_OFFSET, inputs);
  }

  /** Latches `inputs` for the next run; a channel the frame lacks reads NaN, as an absent array element did. */
  latch(inputs: Float64Array): void {
    // An element loop: for a frame this short, cheaper than TypedArray.set's call.
    const frame = this.frame;
    const present = Math.min(inputs.length, this.inputs);
    for (let channel = 0; channel < present; channel++) frame[channel] = inputs[channel];
    for (let channel = present; channel < this.inputs; channel++) frame[channel] = Number.NaN;
  }
}
