/* Attitude determination: a multiplicative Kalman filter, decoupled per body axis ("MEKF-lite").
 *
 * As in a full MEKF (Lefferts, Markley & Shuster 1982), the attitude is a unit quaternion propagated
 * with the gyro, and the filter estimates a small error state: the rotation δθ of the true attitude
 * away from the estimate (q_true = q ⊗ δq(δθ), body axes) and the gyro bias error δb. After each
 * star-tracker update the estimated error is folded into the quaternion and the bias, and reset to zero.
 *
 * What makes it "lite": the 6×6 covariance is replaced by three independent 2×2 ones, one per body axis,
 * [δθ_i, δb_i]. The full error dynamics are δθ̇ = −ω×δθ − δb; the ω× coupling is dropped from the
 * covariance (at the 0.02 rad/s slew limit it turns the error by 0.002 rad a period, and the three axes'
 * covariances stay alike), leaving per axis Φ = [[1, −dt], [0, 1]]. The star tracker measures each body
 * axis with independent noise, so each axis is an exact scalar Kalman update. The gains start large
 * (fast acquisition of attitude and bias) and settle to the steady-state filter, a few dozen
 * floating-point operations a cycle instead of the hundreds of a 6×6 propagation. */
#include "state.h"

#define ARCSEC (3.14159265358979323846 / (180.0 * 3600.0))

/* Star-tracker noise 1σ about body x, y, z, rad (z is the boresight). */
static const double STAR_SIGMA[3] = {2 * ARCSEC, 2 * ARCSEC, 20 * ARCSEC};
/* Gyro white noise 1σ per sample, rad/s. */
#define GYRO_NOISE 1e-5
/* Gyro bias random walk, rad/s/√s: lets the filter follow a drifting bias instead of freezing it. */
#define GYRO_BIAS_WALK 1e-8
/* Gyro bias 1σ assumed at acquisition, rad/s: ten times the specified turn-on bias. */
#define INITIAL_BIAS_SIGMA 5e-5
/* Star updates counted at most: the counter never wraps. */
#define STAR_UPDATES_SATURATION (1 << 30)

static void reset_covariance(void) {
  const double restored[3] = {persistent.bias_variance.x, persistent.bias_variance.y, persistent.bias_variance.z};
  for (int axis = 0; axis < 3; axis++) {
    state.covariance[axis].angle = STAR_SIGMA[axis] * STAR_SIGMA[axis];
    state.covariance[axis].cross = 0;
    state.covariance[axis].bias = state.bias_restored ? restored[axis] : INITIAL_BIAS_SIGMA * INITIAL_BIAS_SIGMA;
  }
}

/* At init, from the persistent region: the bias, and its variance when the attitude is acquired. */
void estimator_restore_bias(vec3 bias) {
  state.gyro_bias = bias;
  state.bias_restored = 1;
}

void estimator_reset(void) {
  quat identity = {0, 0, 0, 1};
  vec3 zero = {0, 0, 0};
  state.bias_restored = 0; /* before reset_covariance, which reads it */
  state.attitude = identity;
  state.gyro_bias = zero;
  state.previous_gyro = zero;
  reset_covariance();
  state.attitude_acquired = 0;
  state.star_updates = 0;
}

/* Seed the estimate from a star-tracker solution, with that solution's own uncertainty. */
static void acquire(quat measured) {
  state.attitude = normalize_short_way(measured);
  reset_covariance();
  state.attitude_acquired = 1;
}

/* Carry the estimate over the period dt that ends at this cycle, on the mean of the last two gyro
 * readings (trapezoidal: while the wheels accelerate the body, one end's reading alone leaves an error
 * per cycle that the filter would blame on the bias). */
void estimator_propagate(vec3 gyro, double dt) {
  if (!state.attitude_acquired) return;
  double wx = 0.5 * (state.previous_gyro.x + gyro.x) - state.gyro_bias.x;
  double wy = 0.5 * (state.previous_gyro.y + gyro.y) - state.gyro_bias.y;
  double wz = 0.5 * (state.previous_gyro.z + gyro.z) - state.gyro_bias.z;
  state.attitude = rotate_by(state.attitude, wx * dt, wy * dt, wz * dt);

  /* P ← Φ P Φᵀ + Q per axis; Q as in Markley & Crassidis ch. 6: the angle picks up (σv·dt)² plus
   * σu²dt³/3, the bias σu²dt, and σu²dt²/2 between them (negative here, as δθ̇ = −δb). */
  double angle_noise = GYRO_NOISE * GYRO_NOISE * dt * dt + GYRO_BIAS_WALK * GYRO_BIAS_WALK * dt * dt * dt / 3.0;
  double cross_noise = -0.5 * GYRO_BIAS_WALK * GYRO_BIAS_WALK * dt * dt;
  double bias_noise = GYRO_BIAS_WALK * GYRO_BIAS_WALK * dt;
  for (int axis = 0; axis < 3; axis++) {
    axis_covariance *p = &state.covariance[axis];
    double angle = p->angle - 2.0 * dt * p->cross + dt * dt * p->bias + angle_noise;
    double cross = p->cross - dt * p->bias + cross_noise;
    p->angle = angle;
    p->cross = cross;
    p->bias = p->bias + bias_noise;
  }
}

/* Correct the estimate with a star-tracker solution: three scalar Kalman updates, one per body axis.
 * Returns the innovation's angle, rad (how far the solution was from the prediction), or −1 when the
 * solution seeded the estimate instead. */
double estimator_star_update(quat measured) {
  if (!state.attitude_acquired) {
    acquire(measured);
    return -1.0;
  }
  /* Residual rotation from the estimate to the measurement, the short way: 2 × its vector part ≈ δθ. */
  quat residual = conjugate_multiply(state.attitude, measured);
  double to_angle = residual.w < 0 ? -2.0 : 2.0;
  double innovation[3] = {to_angle * residual.x, to_angle * residual.y, to_angle * residual.z};
  double angle_correction[3], bias_correction[3];
  for (int axis = 0; axis < 3; axis++) {
    axis_covariance *p = &state.covariance[axis];
    double inverse_s = 1.0 / (p->angle + STAR_SIGMA[axis] * STAR_SIGMA[axis]);
    double angle_gain = p->angle * inverse_s;
    double bias_gain = p->cross * inverse_s;
    angle_correction[axis] = angle_gain * innovation[axis];
    bias_correction[axis] = bias_gain * innovation[axis];
    /* P ← P − K H P, H = [1 0]. */
    double angle = p->angle, cross = p->cross;
    p->angle = angle - angle * angle_gain;
    p->cross = cross - angle * bias_gain;
    p->bias = p->bias - cross * bias_gain;
  }
  /* Reset: fold the attitude correction into the quaternion, the bias correction into the bias. */
  state.attitude = rotate_by(state.attitude, angle_correction[0], angle_correction[1], angle_correction[2]);
  state.gyro_bias.x += bias_correction[0];
  state.gyro_bias.y += bias_correction[1];
  state.gyro_bias.z += bias_correction[2];
  if (state.star_updates < STAR_UPDATES_SATURATION) state.star_updates++;
  return norm3((vec3){innovation[0], innovation[1], innovation[2]});
}

/* This cycle's body rate: the gyro reading less the estimated bias. Keeps the reading for the next cycle. */
vec3 estimator_body_rate(vec3 gyro) {
  vec3 rate = {gyro.x - state.gyro_bias.x, gyro.y - state.gyro_bias.y, gyro.z - state.gyro_bias.z};
  state.previous_gyro = gyro;
  return rate;
}
