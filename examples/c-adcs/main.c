/* Attitude determination and control in C: the module's entry points and mode logic.
 *
 * Exports exactly the lockstep flight-software ABI: `init` at boot, `step` once per control cycle, and
 * the linear memory (wasm-ld exports it as "memory"). The only imports are bus channels and debug outputs
 * (bus.h). A cycle reads the latched inputs, brings the attitude estimate up to this cycle and corrects it
 * with the star tracker, picks the mode, computes the wheel torque, limits it, writes torque and mode,
 * and publishes the estimator's debug outputs. */
#include "bus.h"
#include "state.h"

fsw_state state;
fsw_persistent persistent;

/* Body rate below which pointing may take over, rad/s (≈ 0.1°/s). */
#define POINTING_ENTRY_RATE 0.002
/* Star-tracker updates after which the estimate is trusted: 5 s at 10 Hz. */
#define CONVERGED_STAR_UPDATES 50
/* Body rate above which pointing is abandoned for rate damping, rad/s (2.5 × the slew-rate limit). */
#define POINTING_EXIT_RATE 0.05
/* A star-tracker quaternion whose squared norm is further than this from 1 is corrupt and ignored. */
#define STAR_NORM_TOLERANCE 1e-3

#define EXPORT(name) __attribute__((export_name(name)))

/* The persistent region's place in memory: constants, read by lockstep without running the module. */
EXPORT("persistent_offset") int persistent_offset(void) { return (int)(unsigned long)&persistent; }
EXPORT("persistent_length") int persistent_length(void) { return (int)sizeof persistent; }

EXPORT("init") void init(void) {
  estimator_reset();
  state.mode = MODE_RATE_DAMPING;
  /* A region written by a previous life (a cold spare booted with the replica) gives back the converged
   * bias, so pointing resumes as soon as the star tracker gives the attitude back. */
  if (persistent.marker == PERSISTENT_VALID && persistent.mode == MODE_POINTING) {
    estimator_restore_bias(persistent.gyro_bias);
    state.star_updates = CONVERGED_STAR_UPDATES;
  }
}

/* Keeps the persistent region current while pointing (the bias has converged by then). */
static void persist(void) {
  if (state.mode != MODE_POINTING) return;
  persistent.mode = state.mode;
  persistent.gyro_bias = state.gyro_bias;
  persistent.bias_variance.x = state.covariance[0].bias;
  persistent.bias_variance.y = state.covariance[1].bias;
  persistent.bias_variance.z = state.covariance[2].bias;
  persistent.marker = PERSISTENT_VALID;
}

/* Rate damping until the body is nearly still and the estimator has digested enough star fixes; back
 * to rate damping should the rate ever grow far beyond anything a commanded slew produces. */
static void select_mode(vec3 body_rate) {
  double rate = norm3(body_rate);
  if (state.mode == MODE_RATE_DAMPING) {
    /* The attitude must be known too: a restored bias counts as converged before the first fix. */
    if (rate < POINTING_ENTRY_RATE && state.star_updates >= CONVERGED_STAR_UPDATES && state.attitude_acquired) state.mode = MODE_POINTING;
  } else if (!(rate <= POINTING_EXIT_RATE)) {
    state.mode = MODE_RATE_DAMPING; /* also when the rate is NaN */
  }
}

EXPORT("step") void step(void) {
  vec3 gyro = {bus_gyro_x(), bus_gyro_y(), bus_gyro_z()};
  estimator_propagate(gyro, bus_dt());

  if (bus_star_valid() == 1.0) {
    quat measured = {bus_star_qx(), bus_star_qy(), bus_star_qz(), bus_star_qw()};
    double norm_squared = measured.x * measured.x + measured.y * measured.y + measured.z * measured.z + measured.w * measured.w;
    if (abs_(norm_squared - 1.0) < STAR_NORM_TOLERANCE) {
      double innovation = estimator_star_update(measured);
      if (innovation >= 0) debug_star_innovation(innovation);
    }
  }
  vec3 body_rate = estimator_body_rate(gyro);
  vec3 wheel_momentum = {bus_wheel_h_x(), bus_wheel_h_y(), bus_wheel_h_z()};
  quat target = {bus_target_qx(), bus_target_qy(), bus_target_qz(), bus_target_qw()};

  select_mode(body_rate);
  vec3 torque = state.mode == MODE_POINTING ? pointing_torque(target, body_rate, wheel_momentum) : rate_damping_torque(body_rate);
  torque = limit_torque(torque, wheel_momentum);
  bus_torque_x(torque.x);
  bus_torque_y(torque.y);
  bus_torque_z(torque.z);
  bus_mode((double)state.mode);
  debug_gyro_bias_x(state.gyro_bias.x);
  debug_gyro_bias_y(state.gyro_bias.y);
  debug_gyro_bias_z(state.gyro_bias.z);
  persist();
}
