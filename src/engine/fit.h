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

typedef struct fd_fit_result {
	double points;
	int grade;          /* FD_GRADE_* */
	int disqualifier;   /* index of the first matching disqualifier, or -1 */
} fd_fit_result;

void fd_fit_evaluate(const fd_engine_config *cfg, const fd_profile *p, fd_fit_result *out);

/* Grade for a fit score under cfg's thresholds. */
int fd_fit_grade(const fd_engine_config *cfg, double fit);

/* Does one match rule hold for the profile? (exposed for tests) */
bool fd_fit_match(const fd_match *m, const fd_profile *p);

#endif
