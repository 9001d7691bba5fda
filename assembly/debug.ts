// Debug outputs (docs/abi.md): named values the flight computer compares like every output and puts in
// telemetry, never on an actuator. What an engineer watching the estimator wants to see that the
// commands do not show: the gyro bias the filter has converged on, and how far each star-tracker
// solution was from the prediction.

/** Estimated gyro bias, rad/s, every cycle. */
@external("debug", "gyro_bias_x") export declare function gyroBiasX(value: f64): void;
@external("debug", "gyro_bias_y") export declare function gyroBiasY(value: f64): void;
@external("debug", "gyro_bias_z") export declare function gyroBiasZ(value: f64): void;
/** Angle between the predicted attitude and an accepted star-tracker solution, rad, at each update (held between). */
@external("debug", "star_innovation") export declare function starInnovation(value: f64): void;
