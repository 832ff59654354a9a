/*
 * enums.c — explicit mapping between the engine's enums (types.h) and the
 * funneld.v1 protobuf enums (common.proto).
 *
 * The two numberings differ on purpose (proto enums start with UNSPECIFIED =
 * 0) and may drift further as either side grows, so every mapping is a
 * table indexed by the engine value, never a cast. Names are not handled
 * here: types.h owns the canonical names.
 */
#include "funneld/v1/common.pb-c.h"

#include "wire/wire_internal.h"

static const int stage_proto[FD_STAGE_COUNT] = {
	[FD_STAGE_LEAD] = FUNNELD__V1__STAGE__STAGE_LEAD,
	[FD_STAGE_MQL] = FUNNELD__V1__STAGE__STAGE_MQL,
	[FD_STAGE_SAL] = FUNNELD__V1__STAGE__STAGE_SAL,
	[FD_STAGE_SQL] = FUNNELD__V1__STAGE__STAGE_SQL,
	[FD_STAGE_OPPORTUNITY] = FUNNELD__V1__STAGE__STAGE_OPPORTUNITY,
	[FD_STAGE_CUSTOMER] = FUNNELD__V1__STAGE__STAGE_CUSTOMER,
	[FD_STAGE_NURTURE] = FUNNELD__V1__STAGE__STAGE_NURTURE,
	[FD_STAGE_DISQUALIFIED] = FUNNELD__V1__STAGE__STAGE_DISQUALIFIED,
};

static const int activity_kind_proto[FD_ACT_COUNT] = {
	[FD_ACT_ASSIGN] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_ASSIGN,
	[FD_ACT_TOUCH] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_TOUCH,
	[FD_ACT_ACCEPT] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_ACCEPT,
	[FD_ACT_REJECT] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_REJECT,
	[FD_ACT_REVERT] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_REVERT,
	[FD_ACT_QUALIFY] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_QUALIFY,
	[FD_ACT_OPPORTUNITY] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_OPPORTUNITY,
	[FD_ACT_WON] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_WON,
	[FD_ACT_LOST] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_LOST,
};

static const int reason_proto[FD_REASON_COUNT] = {
	[FD_REASON_NONE] = FUNNELD__V1__REASON__REASON_UNSPECIFIED,
	[FD_REASON_BAD_FIT] = FUNNELD__V1__REASON__REASON_BAD_FIT,
	[FD_REASON_BAD_TIMING] = FUNNELD__V1__REASON__REASON_BAD_TIMING,
	[FD_REASON_NO_BUDGET] = FUNNELD__V1__REASON__REASON_NO_BUDGET,
	[FD_REASON_NO_RESPONSE] = FUNNELD__V1__REASON__REASON_NO_RESPONSE,
	[FD_REASON_DUPLICATE] = FUNNELD__V1__REASON__REASON_DUPLICATE,
	[FD_REASON_COMPETITOR] = FUNNELD__V1__REASON__REASON_COMPETITOR,
	[FD_REASON_OTHER] = FUNNELD__V1__REASON__REASON_OTHER,
};

static const int sla_kind_proto[FD_SLA_KIND_COUNT] = {
	[FD_SLA_WARNING] = FUNNELD__V1__SLA_KIND__SLA_KIND_WARNING,
	[FD_SLA_BREACH] = FUNNELD__V1__SLA_KIND__SLA_KIND_BREACH,
	[FD_SLA_MET] = FUNNELD__V1__SLA_KIND__SLA_KIND_MET,
};

/* Index of `v` in table[0..n), or -1. UNSPECIFIED (0) only matches an entry
 * that maps to it explicitly (FD_REASON_NONE). */
static int reverse(const int *table, int n, int v)
{
	for (int i = 0; i < n; i++)
		if (table[i] == v)
			return i;
	return -1;
}

int fd_wire_stage_to_proto(fd_stage s)
{
	return (unsigned)s < FD_STAGE_COUNT ? stage_proto[s] : 0;
}

int fd_wire_stage_from_proto(int v, fd_stage *out)
{
	int i = v == 0 ? -1 : reverse(stage_proto, FD_STAGE_COUNT, v);
	if (i < 0)
		return -1;
	*out = (fd_stage)i;
	return 0;
}

int fd_wire_activity_kind_to_proto(fd_activity_kind k)
{
	return (unsigned)k < FD_ACT_COUNT ? activity_kind_proto[k] : 0;
}

int fd_wire_activity_kind_from_proto(int v, fd_activity_kind *out)
{
	int i = v == 0 ? -1 : reverse(activity_kind_proto, FD_ACT_COUNT, v);
	if (i < 0)
		return -1;
	*out = (fd_activity_kind)i;
	return 0;
}

int fd_wire_reason_to_proto(fd_reason r)
{
	return (unsigned)r < FD_REASON_COUNT ? reason_proto[r] : 0;
}

int fd_wire_reason_from_proto(int v, fd_reason *out)
{
	int i = reverse(reason_proto, FD_REASON_COUNT, v);
	if (i < 0)
		return -1;
	*out = (fd_reason)i;
	return 0;
}

int fd_wire_sla_kind_to_proto(fd_sla_kind k)
{
	return (unsigned)k < FD_SLA_KIND_COUNT ? sla_kind_proto[k] : 0;
}

int fd_wire_sla_kind_from_proto(int v, fd_sla_kind *out)
{
	int i = v == 0 ? -1 : reverse(sla_kind_proto, FD_SLA_KIND_COUNT, v);
	if (i < 0)
		return -1;
	*out = (fd_sla_kind)i;
	return 0;
}
