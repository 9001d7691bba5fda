/* The flight computer's I/O bus (lockstep docs/abi.md): one import from module
 * "bus" per channel this program uses, and its debug outputs from module "debug", nothing else. Inputs
 * are `() -> f64`, outputs and debug outputs `(f64) -> ()`. A declared channel that is never called is
 * not imported at all. */
#ifndef BUS_H
#define BUS_H

#define BUS_INPUT(function, channel) \
  __attribute__((import_module("bus"), import_name(channel))) double function(void)
#define BUS_OUTPUT(function, channel) \
  __attribute__((import_module("bus"), import_name(channel))) void function(double value)

BUS_INPUT(bus_dt, "dt");
BUS_INPUT(bus_gyro_x, "gyro_x");
BUS_INPUT(bus_gyro_y, "gyro_y");
BUS_INPUT(bus_gyro_z, "gyro_z");
BUS_INPUT(bus_star_qx, "star_qx");
BUS_INPUT(bus_star_qy, "star_qy");
BUS_INPUT(bus_star_qz, "star_qz");
BUS_INPUT(bus_star_qw, "star_qw");
BUS_INPUT(bus_star_valid, "star_valid");
BUS_INPUT(bus_wheel_h_x, "wheel_h_x");
BUS_INPUT(bus_wheel_h_y, "wheel_h_y");
BUS_INPUT(bus_wheel_h_z, "wheel_h_z");
BUS_INPUT(bus_target_qx, "target_qx");
BUS_INPUT(bus_target_qy, "target_qy");
BUS_INPUT(bus_target_qz, "target_qz");
BUS_INPUT(bus_target_qw, "target_qw");

BUS_OUTPUT(bus_torque_x, "torque_x");
BUS_OUTPUT(bus_torque_y, "torque_y");
BUS_OUTPUT(bus_torque_z, "torque_z");
BUS_OUTPUT(bus_mode, "mode");

/* Debug outputs: compared like the commands, sent to telemetry, never to an actuator. What the commands
 * do not show of the estimator: the gyro bias it has converged on (rad/s), and how far each star-tracker
 * solution was from the prediction (rad). */
#define DEBUG_OUTPUT(function, name) \
  __attribute__((import_module("debug"), import_name(name))) void function(double value)

DEBUG_OUTPUT(debug_gyro_bias_x, "gyro_bias_x");
DEBUG_OUTPUT(debug_gyro_bias_y, "gyro_bias_y");
DEBUG_OUTPUT(debug_gyro_bias_z, "gyro_bias_z");
DEBUG_OUTPUT(debug_star_innovation, "star_innovation");

#endif
