/*
 * demo.h — `funneld demo`: the newcomer's first command. An embedded mock
 * Kafka cluster, a synthetic traffic generator (personas), a simulated sales
 * team, and the daemon itself, on one libevent loop with an accelerated
 * clock, printing a live feed and a closing summary.
 */
#ifndef FD_DAEMON_DEMO_H
#define FD_DAEMON_DEMO_H

#include <stdint.h>

#include "config/config.h"

typedef struct fd_demo_options {
	double duration_s;   /* real seconds to run; <= 0: until Ctrl-C */
	double speed;        /* virtual ms per real ms (7200: two hours a second) */
	int leads;           /* synthetic leads */
	uint64_t seed;       /* traffic and sales decisions are reproducible per seed */
	int partitions;      /* per topic in the embedded cluster */
	bool color;          /* ANSI colours in the feed */
} fd_demo_options;

void fd_demo_defaults(fd_demo_options *o);

/* Run the demo with `cfg` (its topics and rules; Kafka settings are replaced
 * by the embedded cluster). Returns the exit status. */
int fd_demo_run(const fd_config *cfg, const fd_demo_options *o);

#endif
