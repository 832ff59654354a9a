/*
 * lifecycle.h — which sales activity is allowed in which stage, and where
 * it leads (DESIGN section 5).
 *
 * Pure table logic: given the lead's stage and an activity, say whether it
 * applies and what the target stage and trigger are, or why it is refused.
 * It does not touch leads, SLAs or timers.
 */
#ifndef FD_ENGINE_LIFECYCLE_H
#define FD_ENGINE_LIFECYCLE_H

#include "funneld/engine.h"

typedef struct fd_lifecycle_step {
	bool changes_stage;  /* false: the activity applies but the stage stays */
	fd_stage to;
	fd_trigger trigger;
} fd_lifecycle_step;

/* Return 0 and fill *step, or -1 with the refusal reason in errstr. */
int fd_lifecycle_activity(const fd_rules *cfg, fd_stage stage,
                          fd_activity_kind kind, fd_reason reason,
                          fd_lifecycle_step *step, char *errstr, size_t errstr_size);

/* Bit mask of the stages in which `kind` is allowed. */
uint32_t fd_lifecycle_allowed(fd_activity_kind kind);

/* Can scoring (score threshold, hand raise, fast track) move a lead out of
 * this stage? LEAD and NURTURE only. */
bool fd_lifecycle_scoring_stage(fd_stage stage);

/* Can a hard disqualifier from a profile update move a lead out of this
 * stage? Stages before sales qualified the lead: LEAD, MQL, SAL, NURTURE. */
bool fd_lifecycle_fit_disqualifiable(fd_stage stage);

#endif
