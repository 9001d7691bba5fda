// The messages of NASA 42's AC socket protocol (its "standalone AC application" interface), field by
// field, in the order 42's own client copies them (Source/AutoCode/AcIPC.c; ScIPC.c is 42's mirror).
// Each field is written as AcIPC.c names it — `double Gyro[k].Rate` is one double per gyro,
// `double G[k].CBoGo[3][3]` nine per joint, row by row — so that this file reads line for line against
// the C, and so that a flight computer's mapping names 42's fields as 42 does (Include/AcTypes.h).
// A message holds each field for every element of its array before the next field (the C loops over k
// inside each field). Values are host-order binary, `double` and `long` both 8 bytes (LP64: x86-64 and
// arm64 Linux). The input, output and table buffers end with one zero byte of padding; the array sizes
// and buffer lengths do not.

/** The counts 42 announces, in the order of the array sizes message. */
export const COUNT_NAMES = ['Nb', 'Ng', 'Nwhl', 'Nmtb', 'Nthr', 'Ngyro', 'Nmag', 'Ncss', 'Nfss', 'Nst', 'Ngps', 'Nacc'] as const;
export type CountName = (typeof COUNT_NAMES)[number];
export type ArraySizes = Record<CountName, number>;

/** 42's arrays of structures (AcType's pointers) and the count that sizes each. */
export const ARRAY_COUNTS = {
  B: 'Nb',
  G: 'Ng',
  Whl: 'Nwhl',
  MTB: 'Nmtb',
  Thr: 'Nthr',
  Gyro: 'Ngyro',
  MAG: 'Nmag',
  CSS: 'Ncss',
  FSS: 'Nfss',
  ST: 'Nst',
  GPS: 'Ngps',
  Accel: 'Nacc',
} as const satisfies Record<string, CountName>;
export type ArrayName = keyof typeof ARRAY_COUNTS;

/** Bytes of a C `double` and a C `long` on an LP64 host. */
export const VALUE_BYTES = 8;
/** The acknowledgement each side sends after reading a message. */
export const ACK = Buffer.from('Ack\0', 'latin1');

export interface Field {
  /** As written below, e.g. `double ST[k].qn[4]`. */
  readonly spec: string;
  readonly type: 'double' | 'long';
  /** The array of 42's whose every element carries the field, or null for a field of AcType itself. */
  readonly array: ArrayName | null;
  /** Member names from the element (or AcType) down, e.g. ['GCmd', 'qrl']. */
  readonly path: readonly string[];
  /** [] for a scalar, [n] for a vector, [n, m] for a matrix (row by row). */
  readonly dims: readonly number[];
}

export interface Layout {
  /** What the message is called in errors: "the inputs", "the table parameters"... */
  readonly name: string;
  readonly fields: readonly Field[];
  /** Whether the message ends with 42's one zero byte of padding. */
  readonly padded: boolean;
}

const SPEC = /^(double|long) (?:(\w+)\[k\]\.)?(\w+(?:\.\w+)*)((?:\[\d+\]){0,2})$/;

function field(spec: string): Field {
  const match = SPEC.exec(spec);
  if (!match) throw new Error(`ac-layout: malformed field ${spec}`);
  const [, type, array, path, dims] = match;
  if (array !== undefined && !(array in ARRAY_COUNTS)) throw new Error(`ac-layout: ${spec}: no array ${array} in 42's AcType`);
  return {
    spec,
    type: type as Field['type'],
    array: (array ?? null) as ArrayName | null,
    path: path.split('.'),
    dims: [...dims.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])),
  };
}

function layout(name: string, padded: boolean, specs: readonly string[]): Layout {
  return { name, padded, fields: specs.map(field) };
}

/** ReadAcArraySizesFromSocket: twelve longs, no padding. */
export const ARRAY_SIZES = layout('the array sizes', false, COUNT_NAMES.map((count) => `long ${count}`));

/** ReadAcBufLensFromSocket: three longs (AcIpcType's), no padding. */
export const BUFFER_LENGTHS = layout('the buffer lengths', false, ['long AcInBufLen', 'long AcOutBufLen', 'long AcTblBufLen']);

/** ReadAcTblFromSocket: sent once, after the buffer lengths. */
export const TABLE = layout('the table parameters', true, [
  'long ID',
  ...COUNT_NAMES.map((count) => `long ${count}`),
  'double Pi',
  'double TwoPi',
  'double DT',
  'double mass',
  'double cm[3]',
  'double MOI[3][3]',
  'double B[k].mass',
  'double B[k].cm[3]',
  'double B[k].MOI[3][3]',
  'long G[k].IsSpherical',
  'long G[k].RotDOF',
  'long G[k].TrnDOF',
  'long G[k].RotSeq',
  'long G[k].TrnSeq',
  'double G[k].CGiBi[3][3]',
  'double G[k].CBoGo[3][3]',
  'double G[k].AngGain[3]',
  'double G[k].AngRateGain[3]',
  'double G[k].PosGain[3]',
  'double G[k].PosRateGain[3]',
  'double G[k].MaxAngRate[3]',
  'double G[k].MaxPosRate[3]',
  'double G[k].MaxTrq[3]',
  'double G[k].MaxFrc[3]',
  'double Gyro[k].Axis[3]',
  'double MAG[k].Axis[3]',
  'long CSS[k].Body',
  'double CSS[k].Axis[3]',
  'double CSS[k].Scale',
  'double FSS[k].qb[4]',
  'double FSS[k].CB[3][3]',
  'double ST[k].qb[4]',
  'double ST[k].CB[3][3]',
  'double Accel[k].PosB[3]',
  'double Accel[k].Axis[3]',
  'long Whl[k].Body',
  'double Whl[k].Axis[3]',
  'double Whl[k].DistVec[3]',
  'double Whl[k].J',
  'double Whl[k].Tmax',
  'double Whl[k].Hmax',
  'double MTB[k].Axis[3]',
  'double MTB[k].DistVec[3]',
  'double MTB[k].Mmax',
  'long Thr[k].Body',
  'double Thr[k].PosB[3]',
  'double Thr[k].Axis[3]',
  'double Thr[k].rxA[3]',
  'double Thr[k].Fmax',
  'double InstantCtrl.wc',
  'double InstantCtrl.amax',
  'double InstantCtrl.vmax',
  'double InstantCtrl.Kprec',
  'double InstantCtrl.Knute',
  'double SandboxCtrl.Kr[3]',
  'double SandboxCtrl.Kp[3]',
  'double SpinnerCtrl.Ispin',
  'double SpinnerCtrl.Itrans',
  'double SpinnerCtrl.SpinRate',
  'double SpinnerCtrl.Knute',
  'double SpinnerCtrl.Kprec',
  'double ThreeAxisCtrl.Kr[3]',
  'double ThreeAxisCtrl.Kp[3]',
  'double ThreeAxisCtrl.Kunl',
  'double IssCtrl.Kr[3]',
  'double IssCtrl.Kp[3]',
  'double IssCtrl.Tmax',
  'double CmgCtrl.Kr[3]',
  'double CmgCtrl.Kp[3]',
  'double ThrCtrl.Kw[3]',
  'double ThrCtrl.Kth[3]',
  'double ThrCtrl.Kv',
  'double ThrCtrl.Kp',
  'double CfsCtrl.Kr[3]',
  'double CfsCtrl.Kp[3]',
  'double CfsCtrl.Kunl',
  'double ThrSteerCtrl.Kr[3]',
  'double ThrSteerCtrl.Kp[3]',
]);

/** ReadAcInFromSocket: 42 → flight software, every flight-software step. */
export const INPUTS = layout('the inputs', true, [
  'double G[k].Ang[3]',
  'double G[k].GCmd.qrl[4]',
  'double G[k].GCmd.qrn[4]',
  'double Gyro[k].Rate',
  'double MAG[k].Field',
  'long CSS[k].Valid',
  'double CSS[k].Illum',
  'long FSS[k].Valid',
  'double FSS[k].SunAng[2]',
  'long ST[k].Valid',
  'double ST[k].qn[4]',
  'long GPS[k].Valid',
  'long GPS[k].Rollover',
  'long GPS[k].Week',
  'double GPS[k].Sec',
  'double GPS[k].PosN[3]',
  'double GPS[k].VelN[3]',
  'double GPS[k].PosW[3]',
  'double GPS[k].VelW[3]',
  'double GPS[k].Lng',
  'double GPS[k].Lat',
  'double GPS[k].Alt',
  'double GPS[k].WgsLng',
  'double GPS[k].WgsLat',
  'double GPS[k].WgsAlt',
  'double Accel[k].Acc',
  'double Whl[k].H',
  'double Cmd.qrl[4]',
  'double Cmd.qrn[4]',
]);

/** WriteAcOutToSocket: flight software → 42, every flight-software step. */
export const OUTPUTS = layout('the outputs', true, [
  'double svb[3]',
  'double bvb[3]',
  'double Hvb[3]',
  'double G[k].GCmd.qrl[4]',
  'double G[k].GCmd.qrn[4]',
  'double G[k].GCmd.AngRate[3]',
  'double G[k].GCmd.Ang[3]',
  'double G[k].GCmd.PosRate[3]',
  'double G[k].GCmd.Pos[3]',
  'double Whl[k].Tcmd',
  'double MTB[k].Mcmd',
  'double Thr[k].PulseWidthCmd',
  'double Thr[k].ThrustLevelCmd',
  'double Cmd.qrl[4]',
  'double Cmd.qrn[4]',
  'double Cmd.AngRate[3]',
  'double Cmd.Ang[3]',
  'double Cmd.PosRate[3]',
  'double Cmd.Pos[3]',
]);

/** How many values one element's field holds (1 for a scalar). */
export function valuesPerElement(field: Field): number {
  return field.dims.reduce((product, n) => product * n, 1);
}

/** How many elements carry the field: the array's count, or 1 for a field of AcType. */
export function elementsOf(field: Field, sizes: ArraySizes): number {
  return field.array === null ? 1 : sizes[ARRAY_COUNTS[field.array]];
}

/** The bytes of a message for these array sizes, padding included: what 42's FindInBufLen & co compute. */
export function messageBytes(layout: Layout, sizes: ArraySizes): number {
  let bytes = layout.padded ? 1 : 0;
  for (const f of layout.fields) bytes += elementsOf(f, sizes) * valuesPerElement(f) * VALUE_BYTES;
  return bytes;
}

/** Sizes with every count zero (the array sizes of the bare messages). */
export function noArrays(): ArraySizes {
  return Object.fromEntries(COUNT_NAMES.map((count) => [count, 0])) as ArraySizes;
}

// The shapes the messages decode to: 42's names (Include/AcTypes.h), vectors as arrays, matrices as arrays
// of rows, longs as whole numbers (a `Valid` is 0 or 1).

type Vec = number[];
type Mat = number[][];

export interface CmdOutputs {
  qrl: Vec;
  qrn: Vec;
  AngRate: Vec;
  Ang: Vec;
  PosRate: Vec;
  Pos: Vec;
}

export interface AcInputs {
  G: { Ang: Vec; GCmd: { qrl: Vec; qrn: Vec } }[];
  Gyro: { Rate: number }[];
  MAG: { Field: number }[];
  CSS: { Valid: number; Illum: number }[];
  FSS: { Valid: number; SunAng: Vec }[];
  ST: { Valid: number; qn: Vec }[];
  GPS: {
    Valid: number;
    Rollover: number;
    Week: number;
    Sec: number;
    PosN: Vec;
    VelN: Vec;
    PosW: Vec;
    VelW: Vec;
    Lng: number;
    Lat: number;
    Alt: number;
    WgsLng: number;
    WgsLat: number;
    WgsAlt: number;
  }[];
  Accel: { Acc: number }[];
  Whl: { H: number }[];
  Cmd: { qrl: Vec; qrn: Vec };
}

export interface AcOutputs {
  svb: Vec;
  bvb: Vec;
  Hvb: Vec;
  G: { GCmd: CmdOutputs }[];
  Whl: { Tcmd: number }[];
  MTB: { Mcmd: number }[];
  Thr: { PulseWidthCmd: number; ThrustLevelCmd: number }[];
  Cmd: CmdOutputs;
}

export interface AcTable extends ArraySizes {
  ID: number;
  Pi: number;
  TwoPi: number;
  DT: number;
  mass: number;
  cm: Vec;
  MOI: Mat;
  B: { mass: number; cm: Vec; MOI: Mat }[];
  G: {
    IsSpherical: number;
    RotDOF: number;
    TrnDOF: number;
    RotSeq: number;
    TrnSeq: number;
    CGiBi: Mat;
    CBoGo: Mat;
    AngGain: Vec;
    AngRateGain: Vec;
    PosGain: Vec;
    PosRateGain: Vec;
    MaxAngRate: Vec;
    MaxPosRate: Vec;
    MaxTrq: Vec;
    MaxFrc: Vec;
  }[];
  Gyro: { Axis: Vec }[];
  MAG: { Axis: Vec }[];
  CSS: { Body: number; Axis: Vec; Scale: number }[];
  FSS: { qb: Vec; CB: Mat }[];
  ST: { qb: Vec; CB: Mat }[];
  Accel: { PosB: Vec; Axis: Vec }[];
  Whl: { Body: number; Axis: Vec; DistVec: Vec; J: number; Tmax: number; Hmax: number }[];
  MTB: { Axis: Vec; DistVec: Vec; Mmax: number }[];
  Thr: { Body: number; PosB: Vec; Axis: Vec; rxA: Vec; Fmax: number }[];
  InstantCtrl: { wc: number; amax: number; vmax: number; Kprec: number; Knute: number };
  SandboxCtrl: { Kr: Vec; Kp: Vec };
  SpinnerCtrl: { Ispin: number; Itrans: number; SpinRate: number; Knute: number; Kprec: number };
  ThreeAxisCtrl: { Kr: Vec; Kp: Vec; Kunl: number };
  IssCtrl: { Kr: Vec; Kp: Vec; Tmax: number };
  CmgCtrl: { Kr: Vec; Kp: Vec };
  ThrCtrl: { Kw: Vec; Kth: Vec; Kv: number; Kp: number };
  CfsCtrl: { Kr: Vec; Kp: Vec; Kunl: number };
  ThrSteerCtrl: { Kr: Vec; Kp: Vec };
}

export interface BufferLengths {
  AcInBufLen: number;
  AcOutBufLen: number;
  AcTblBufLen: number;
}
