/*
 * fit.h — fit scoring: who the lead is.
 *
 * Evaluates the configured fit rules (points), the grade thresholds and the
 * hard disqualifiers against one profile. Pure: no state, no allocation.
 * It does not decide transitions; the engine does that with the result.
 */
#ifndef FD_ENGINE_FIT_H
#define FD_ENGINE_FIT_H

#include "funneld/engine.h"

/* Does one match rule hold for the profile? (exposed for tests) */
bool fd_fit_match(const fd_match *m, const fd_profile *p);

#endif
