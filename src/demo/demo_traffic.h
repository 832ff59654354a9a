/*
 * demo_traffic.h — the demo's synthetic marketing traffic: a population of
 * leads with personas, each sending a LeadProfile when it arrives and then
 * EngagementEvents on its own schedule, in virtual time, to the embedded
 * cluster's input topics.
 *
 * Personas (shares of the population):
 *   buyer       A-grade fit; a few visits, then a demo request (hand raise)
 *   researcher  good fit; downloads, webinars and pricing views over days
 *               until the score threshold
 *   student     matches the config's job-title disqualifier
 *   competitor  email domain of the config's competitor disqualifier
 *   bot         hammers one page many times a virtual hour for a few days;
 *               the per-type cap keeps it from ever becoming an MQL
 *   booth       scanned at an event: fast-track source, straight to SAL
 *   browser     background noise: email opens and clicks, the odd page
 *
 * Profiles are drawn from name pools and kept only if the config's own fit
 * rules give them the persona's intended grade or disqualifier, so the
 * personas stay true under any rule set (a persona the config cannot
 * express, e.g. no competitor rule, becomes a browser). Event types are
 * chosen among the configured ones only. Everything is reproducible per
 * seed: each lead draws from its own random stream.
 *
 * Not here: anything the daemon decides (scores, stages) — the generator
 * never looks at outputs.
 */
#ifndef FD_DAEMON_DEMO_TRAFFIC_H
#define FD_DAEMON_DEMO_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

typedef enum fd_demo_persona {
	FD_DEMO_BUYER = 0,
	FD_DEMO_RESEARCHER,
	FD_DEMO_STUDENT,
	FD_DEMO_COMPETITOR,
	FD_DEMO_BOT,
	FD_DEMO_BOOTH,
	FD_DEMO_BROWSER,
	FD_DEMO_PERSONA_COUNT
} fd_demo_persona;

/* "buyer", "researcher", ... ("?" out of range). */
const char *fd_demo_persona_name(fd_demo_persona p);

/* Lead ids are "lead-0001" .. "lead-NNNN". */
void fd_demo_lead_id(int index, char *buf, size_t size);
/* Index of a demo lead id in [0, n_leads), or -1. */
int fd_demo_lead_index(const char *lead_id, int n_leads);

typedef struct fd_demo_traffic fd_demo_traffic;

typedef struct fd_demo_traffic_stats {
	int leads[FD_DEMO_PERSONA_COUNT];        /* population by persona */
	int arrived;                             /* profiles sent so far */
	uint64_t profiles, events, failed;       /* records produced / not produced */
	uint64_t events_by_persona[FD_DEMO_PERSONA_COUNT];
	const char *bot_type;                    /* the event type bots hammer, or NULL */
} fd_demo_traffic_stats;

/* Create the population of `leads` leads arriving between start_ms and
 * start_ms + arrival_window_ms (front-loaded; the first arrives at
 * start_ms), with its own producer to `bootstrap`. `cfg` is borrowed and
 * must outlive the generator. NULL with errstr on failure. */
fd_demo_traffic *fd_demo_traffic_new(const fd_config *cfg, const char *bootstrap, int leads,
                                     uint64_t seed, int64_t start_ms,
                                     int64_t arrival_window_ms, char *errstr,
                                     size_t errstr_size);

/* Produce everything due at or before virtual time `now`, in time order. */
void fd_demo_traffic_tick(fd_demo_traffic *t, int64_t now);

/* Virtual time of the next record to produce; INT64_MAX: none planned. */
int64_t fd_demo_traffic_next_due(const fd_demo_traffic *t);

fd_demo_persona fd_demo_traffic_persona(const fd_demo_traffic *t, int lead);

void fd_demo_traffic_stats_get(const fd_demo_traffic *t, fd_demo_traffic_stats *s);

/* Flush (at most timeout_ms) and release everything. NULL is a no-op. */
void fd_demo_traffic_free(fd_demo_traffic *t, int timeout_ms);

#endif
