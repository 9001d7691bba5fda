// The flight computer's I/O bus (docs/abi.md): one import from module "bus" per
// channel this software uses, nothing else. These are the software's only contact with the world, which
// keeps a cycle a pure function of its state and the latched inputs, as lock-step comparison needs.

@external("bus", "dt") export declare function dt(): f64;

@external("bus", "gyro_x") export declare function gyroX(): f64;
@external("bus", "gyro_y") export declare function gyroY(): f64;
@external("bus", "gyro_z") export declare function gyroZ(): f64;

@external("bus", "star_qx") export declare function starQx(): f64;
@external("bus", "star_qy") export declare function starQy(): f64;
@external("bus", "star_qz") export declare function starQz(): f64;
@external("bus", "star_qw") export declare function starQw(): f64;
@external("bus", "star_valid") export declare function starValid(): f64;

@external("bus", "wheel_h_x") export declare function wheelHx(): f64;
@external("bus", "wheel_h_y") export declare function wheelHy(): f64;
@external("bus", "wheel_h_z") export declare function wheelHz(): f64;

@external("bus", "target_qx") export declare function targetQx(): f64;
@external("bus", "target_qy") export declare function targetQy(): f64;
@external("bus", "target_qz") export declare function targetQz(): f64;
@external("bus", "target_qw") export declare function targetQw(): f64;

@external("bus", "torque_x") export declare function torqueX(value: f64): void;
@external("bus", "torque_y") export declare function torqueY(value: f64): void;
@external("bus", "torque_z") export declare function torqueZ(value: f64): void;
@external("bus", "mode") export declare function mode(value: f64): void;
