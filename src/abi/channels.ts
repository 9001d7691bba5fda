// The I/O bus of the flight-software ABI (docs/abi.md): the named channels a
// module may import from module "bus". The comparator stands exactly here: inputs are served to both
// cores of a processor from one latched frame, outputs are captured per core and released only after
// the cores agree. Channel indices are positions in these lists; frames are Float64Arrays in that order.

export const BUS_MODULE = 'bus';

export const INPUT_CHANNELS = [
  'time',
  'dt',
  'gyro_x',
  'gyro_y',
  'gyro_z',
  'star_qx',
  'star_qy',
  'star_qz',
  'star_qw',
  'star_valid',
  'wheel_h_x',
  'wheel_h_y',
  'wheel_h_z',
  'target_qx',
  'target_qy',
  'target_qz',
  'target_qw',
] as const;

export const OUTPUT_CHANNELS = ['torque_x', 'torque_y', 'torque_z', 'mode'] as const;

export type InputChannel = (typeof INPUT_CHANNELS)[number];
export type OutputChannel = (typeof OUTPUT_CHANNELS)[number];

function indexOf<T extends string>(list: readonly T[]): Record<T, number> {
  return Object.fromEntries(list.map((name, index) => [name, index])) as Record<T, number>;
}

/** Input channel name → index in an input frame. */
export const IN = indexOf(INPUT_CHANNELS);
/** Output channel name → index in an output frame. */
export const OUT = indexOf(OUTPUT_CHANNELS);

/**
 * Debug outputs: imports from module "debug", `(f64) -> ()`, named by the software (docs/abi.md). They are
 * outputs like any other — captured per core, compared, released only when the cores agree — but they
 * reach telemetry, never an actuator. Debug output i is slot OUTPUT_CHANNELS.length + i of a core's
 * output capture, whose written mask is one i32: that bounds how many a module may have.
 */
export const DEBUG_MODULE = 'debug';
export const MAX_DEBUG_OUTPUTS = 32 - OUTPUT_CHANNELS.length;
/** A debug output's name: a telemetry column (`debug.NAME`) and a JSON key, so plain and short. */
export const DEBUG_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
