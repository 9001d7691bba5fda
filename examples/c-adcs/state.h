/* All the program's persistent state: one struct at a fixed address in linear memory.
 *
 * Nothing is allocated and nothing lives on the C stack from one cycle to the next, so a core's state is
 * this block (plus the stack-pointer global, which lockstep exports along with the memory). `init`
 * writes every field; `step` keeps per-cycle values in locals (wasm locals, not memory). */
#ifndef STATE_H
#define STATE_H

#include "quaternion.h"

enum { MODE_RATE_DAMPING = 0, MODE_POINTING = 1 };

/* One body axis of the estimator: covariance of [attitude error (rad), gyro bias error (rad/s)]. */
typedef struct {
  double angle;       /* P_aa, rad² */
  double cross;       /* P_ab, rad²/s */
  double bias;        /* P_bb, rad²/s² */
} axis_covariance;

typedef struct {
  quat attitude;              /* estimated attitude, inertial to body */
  vec3 gyro_bias;             /* estimated gyro bias, rad/s */
  vec3 previous_gyro;         /* last cycle's gyro reading, rad/s (trapezoidal propagation) */
  axis_covariance covariance[3];
  int attitude_acquired;      /* 1 once seeded from a star-tracker solution */
  int star_updates;           /* star-tracker updates accepted, saturating */
  int mode;                   /* MODE_RATE_DAMPING or MODE_POINTING */
  int bias_restored;          /* 1 when init took the gyro bias from the persistent region */
} fsw_state;

extern fsw_state state;

/* The persistent region (lockstep's optional ABI exports persistent_offset and persistent_length): what
 * a cold spare boots with. The flight computer replicates these bytes to the other processor as they
 * change, and puts the replica in place before a cold spare's init. Not the attitude (stale after a
 * boot, and the star tracker gives it back at once) but what takes long to learn: the converged gyro
 * bias and its variance. */
#define PERSISTENT_VALID 0x50455253 /* "PERS"; the initial image holds 0: nothing persisted yet */
typedef struct {
  int marker;                 /* PERSISTENT_VALID once written */
  int mode;                   /* the mode when last written */
  vec3 gyro_bias;             /* rad/s */
  vec3 bias_variance;         /* (rad/s)² per axis */
} fsw_persistent;

extern fsw_persistent persistent;

/* estimator.c */
void estimator_reset(void);
void estimator_restore_bias(vec3 bias);
void estimator_propagate(vec3 gyro, double dt);
double estimator_star_update(quat measured);
vec3 estimator_body_rate(vec3 gyro);

/* controller.c */
vec3 rate_damping_torque(vec3 body_rate);
vec3 pointing_torque(quat target, vec3 body_rate, vec3 wheel_momentum);
vec3 limit_torque(vec3 torque, vec3 wheel_momentum);

#endif
