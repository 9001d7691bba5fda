// The mapping between 42's fields and the flight software's bus channels: which 42 input feeds which
// input channel, and which output channel drives which 42 command, each with a scale and a sign (42's
// wheel command accelerates the wheel; the bus's torque is the torque on the body: sign −1). A mission file
// gives it (`hil.inputs`, `hil.outputs`); the reference flight software flying lockstep's 42 case has a
// default. Every field is checked once against what 42 announced, so a mapping naming a field 42 does not
// send is refused at connection, naming the mission field at fault.
import { IN, INPUT_CHANNELS, OUT, OUTPUT_CHANNELS, type InputChannel, type OutputChannel } from '../abi/channels.js';
import type { HilMapping } from '../mission/config.js';
import type { Quat } from '../plant/quaternion.js';
import { AcFieldError, type FieldAccessor } from './ac-fields.js';
import type { AcOutputs } from './ac-layout.js';
import type { AcSession, StepInputs } from './ac-session.js';

/** The reference flight software on lockstep's 42 case: three single-axis gyros, one star tracker, three wheels. */
export const REFERENCE_MAPPING: Required<HilMapping> = {
  inputs: [
    { channel: 'gyro_x', field: 'Gyro[0].Rate', scale: 1, sign: 1 },
    { channel: 'gyro_y', field: 'Gyro[1].Rate', scale: 1, sign: 1 },
    { channel: 'gyro_z', field: 'Gyro[2].Rate', scale: 1, sign: 1 },
    { channel: 'star_qx', field: 'ST[0].qn[0]', scale: 1, sign: 1 },
    { channel: 'star_qy', field: 'ST[0].qn[1]', scale: 1, sign: 1 },
    { channel: 'star_qz', field: 'ST[0].qn[2]', scale: 1, sign: 1 },
    { channel: 'star_qw', field: 'ST[0].qn[3]', scale: 1, sign: 1 },
    { channel: 'star_valid', field: 'ST[0].Valid', scale: 1, sign: 1 },
    { channel: 'wheel_h_x', field: 'Whl[0].H', scale: 1, sign: 1 },
    { channel: 'wheel_h_y', field: 'Whl[1].H', scale: 1, sign: 1 },
    { channel: 'wheel_h_z', field: 'Whl[2].H', scale: 1, sign: 1 },
  ],
  outputs: [
    { channel: 'torque_x', field: 'Whl[0].Tcmd', scale: 1, sign: -1 },
    { channel: 'torque_y', field: 'Whl[1].Tcmd', scale: 1, sign: -1 },
    { channel: 'torque_z', field: 'Whl[2].Tcmd', scale: 1, sign: -1 },
  ],
};

/** Input channels the bridge fills itself: the clock from 42's step, the target from the mission. */
const OWN_INPUTS: readonly InputChannel[] = ['time', 'dt', 'target_qx', 'target_qy', 'target_qz', 'target_qw'];

export class MappingError extends Error {}

interface Compiled<C> {
  readonly channel: C;
  readonly index: number;
  readonly factor: number;
  readonly accessor: FieldAccessor;
}

/** The mapping checked against a session: fills input frames from 42's inputs, 42's outputs from released commands. */
export class BusMapping {
  private constructor(
    private readonly inputs: readonly Compiled<InputChannel>[],
    private readonly outputs: readonly Compiled<OutputChannel>[],
    private readonly target: Quat,
  ) {}

  static compile(session: AcSession, mapping: HilMapping | undefined, target: Quat, source: string): BusMapping {
    const given = { inputs: mapping?.inputs ?? REFERENCE_MAPPING.inputs, outputs: mapping?.outputs ?? REFERENCE_MAPPING.outputs };
    const compile = <C extends string>(entries: readonly { channel: string; field: string; scale?: number; sign?: number }[], kind: 'inputs' | 'outputs', index: Record<C, number>, field: (name: string) => FieldAccessor): Compiled<C>[] =>
      entries.map((entry, i) => {
        try {
          return { channel: entry.channel as C, index: index[entry.channel as C], factor: (entry.scale ?? 1) * (entry.sign ?? 1), accessor: field(entry.field) };
        } catch (error) {
          if (error instanceof AcFieldError) throw new MappingError(`${source}: hil.${kind}[${i}].field: ${error.message}`);
          throw error;
        }
      });
    const inputs = compile<InputChannel>(given.inputs, 'inputs', IN, (name) => session.inputField(name));
    const outputs = compile<OutputChannel>(given.outputs, 'outputs', OUT, (name) => session.outputField(name));
    for (const list of [inputs, outputs] as const) {
      const seen = new Set<string>();
      for (const entry of list) {
        if (seen.has(entry.channel)) throw new MappingError(`${source}: hil: channel ${entry.channel} is mapped twice`);
        seen.add(entry.channel);
      }
    }
    for (const entry of inputs) {
      if (OWN_INPUTS.includes(entry.channel)) throw new MappingError(`${source}: hil.inputs: ${entry.channel} comes from the bridge (42's step time, the mission's target), not from a 42 field`);
    }
    return new BusMapping(inputs, outputs, target);
  }

  /** The input frame of one step: the mapped fields, 42's time and period, the mission's target. */
  readInputs(step: StepInputs, dt: number, frame: Float64Array): void {
    frame.fill(0);
    frame[IN.time] = step.time;
    frame[IN.dt] = dt;
    frame[IN.target_qx] = this.target[0];
    frame[IN.target_qy] = this.target[1];
    frame[IN.target_qz] = this.target[2];
    frame[IN.target_qw] = this.target[3];
    for (const entry of this.inputs) frame[entry.index] = entry.accessor.get(step) * entry.factor;
  }

  /** 42's commands from the commands the flight computer applies. */
  writeOutputs(applied: Float64Array, outputs: AcOutputs): void {
    for (const entry of this.outputs) entry.accessor.set(outputs, applied[entry.index] * entry.factor);
  }
}

export const MAPPABLE_INPUTS: readonly InputChannel[] = INPUT_CHANNELS.filter((channel) => !OWN_INPUTS.includes(channel));
export const MAPPABLE_OUTPUTS: readonly OutputChannel[] = OUTPUT_CHANNELS;
