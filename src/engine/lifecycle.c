/*
 * lifecycle.c — the activity/stage table (see lifecycle.h).
 *
 *   ASSIGN       any stage but DISQUALIFIED      owner only, no stage change
 *   TOUCH        MQL SAL SQL OPPORTUNITY         no stage change
 *   ACCEPT       MQL -> SAL
 *   REJECT       MQL SAL SQL -> NURTURE, or DISQUALIFIED for the reasons in
 *                lifecycle.reject_disqualifies (BAD_FIT, ...)
 *   REVERT       SAL -> MQL
 *   QUALIFY      SAL -> SQL
 *   OPPORTUNITY  SQL -> OPPORTUNITY
 *   WON          OPPORTUNITY -> CUSTOMER
 *   LOST         SQL OPPORTUNITY -> NURTURE
 */
#include "engine/lifecycle.h"

#include <stdio.h>

#define S(x) (1u << (x))

uint32_t fd_lifecycle_allowed(fd_activity_kind kind)
{
	switch (kind) {
	case FD_ACT_ASSIGN:
		return ((1u << FD_STAGE_COUNT) - 1) & ~S(FD_STAGE_DISQUALIFIED);
	case FD_ACT_TOUCH:
		return S(FD_STAGE_MQL) | S(FD_STAGE_SAL) | S(FD_STAGE_SQL) | S(FD_STAGE_OPPORTUNITY);
	case FD_ACT_ACCEPT:
		return S(FD_STAGE_MQL);
	case FD_ACT_REJECT:
		return S(FD_STAGE_MQL) | S(FD_STAGE_SAL) | S(FD_STAGE_SQL);
	case FD_ACT_REVERT:
	case FD_ACT_QUALIFY:
		return S(FD_STAGE_SAL);
	case FD_ACT_OPPORTUNITY:
		return S(FD_STAGE_SQL);
	case FD_ACT_WON:
		return S(FD_STAGE_OPPORTUNITY);
	case FD_ACT_LOST:
		return S(FD_STAGE_SQL) | S(FD_STAGE_OPPORTUNITY);
	case FD_ACT_COUNT:
		break;
	}
	return 0;
}

static void allowed_list(uint32_t mask, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int s = 0; s < FD_STAGE_COUNT && off < size; s++) {
		if (!(mask & S(s)))
			continue;
		int n = snprintf(buf + off, size - off, "%s%s", off ? ", " : "",
		                 fd_stage_name((fd_stage)s));
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int fd_lifecycle_activity(const fd_rules *cfg, fd_stage stage,
                          fd_activity_kind kind, fd_reason reason,
                          fd_lifecycle_step *step, char *errstr, size_t errstr_size)
{
	if ((unsigned)kind >= FD_ACT_COUNT) {
		snprintf(errstr, errstr_size, "unknown activity kind %d", (int)kind);
		return -1;
	}
	uint32_t allowed = fd_lifecycle_allowed(kind);
	if (!(allowed & S(stage))) {
		char list[128];
		allowed_list(allowed, list, sizeof list);
		snprintf(errstr, errstr_size, "%s not allowed in stage %s (allowed in: %s)",
		         fd_activity_kind_name(kind), fd_stage_name(stage), list);
		return -1;
	}
	step->changes_stage = true;
	switch (kind) {
	case FD_ACT_ASSIGN:
	case FD_ACT_TOUCH:
		step->changes_stage = false;
		step->to = stage;
		step->trigger = FD_TRIGGER_COUNT;
		return 0;
	case FD_ACT_ACCEPT:
		step->to = FD_STAGE_SAL;
		step->trigger = FD_TRIGGER_SALES_ACCEPT;
		return 0;
	case FD_ACT_REJECT:
		if (reason == FD_REASON_NONE) {
			snprintf(errstr, errstr_size, "REJECT needs a reason");
			return -1;
		}
		step->to = (cfg->reject_disqualifies & (1u << reason)) ? FD_STAGE_DISQUALIFIED
		                                                       : FD_STAGE_NURTURE;
		step->trigger = FD_TRIGGER_SALES_REJECT;
		return 0;
	case FD_ACT_REVERT:
		step->to = FD_STAGE_MQL;
		step->trigger = FD_TRIGGER_SALES_REVERT;
		return 0;
	case FD_ACT_QUALIFY:
		step->to = FD_STAGE_SQL;
		step->trigger = FD_TRIGGER_SALES_QUALIFY;
		return 0;
	case FD_ACT_OPPORTUNITY:
		step->to = FD_STAGE_OPPORTUNITY;
		step->trigger = FD_TRIGGER_SALES_OPPORTUNITY;
		return 0;
	case FD_ACT_WON:
		step->to = FD_STAGE_CUSTOMER;
		step->trigger = FD_TRIGGER_SALES_WON;
		return 0;
	case FD_ACT_LOST:
		step->to = FD_STAGE_NURTURE;
		step->trigger = FD_TRIGGER_SALES_LOST;
		return 0;
	case FD_ACT_COUNT:
		break;
	}
	return -1;
}

bool fd_lifecycle_scoring_stage(fd_stage stage)
{
	return stage == FD_STAGE_LEAD || stage == FD_STAGE_NURTURE;
}

bool fd_lifecycle_fit_disqualifiable(fd_stage stage)
{
	return stage == FD_STAGE_LEAD || stage == FD_STAGE_MQL || stage == FD_STAGE_SAL ||
	       stage == FD_STAGE_NURTURE;
}
