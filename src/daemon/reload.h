/*
 * reload.h — SIGHUP's engine swap: every lead of the running engine moved
 * into a new engine built on the reloaded rules (scores, fit, lifecycle and
 * SLA timers re-armed from each lead's state), all or nothing.
 *
 * What it is not: no file reading (fd_config_load validates the file
 * first) and no settings (the daemon applies those it can change live).
 */
#ifndef FD_DAEMON_RELOAD_H
#define FD_DAEMON_RELOAD_H

#include <stddef.h>

#include "config/config.h"
#include "funneld/engine.h"

/* A new engine on `fresh`'s rules and lead cap holding every lead of `cur`
 * and carrying its counters. NULL with errstr on failure; `cur` is never
 * changed. */
fd_engine *fd_reload_engine(fd_engine *cur, const fd_config *fresh, char *errstr,
                            size_t errstr_size);

#endif
