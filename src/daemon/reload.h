/*
 * reload.h — SIGHUP's engine swap: a new engine built on the reloaded rules
 * takes the running one over (fd_engine_adopt); its leads move to the new
 * rules on first touch and in bounded batches from the loop
 * (fd_engine_migrate), never all at once.
 *
 * What it is not: no file reading (fd_config_load validates the file
 * first) and no settings (the daemon applies those it can change live).
 */
#ifndef FD_DAEMON_RELOAD_H
#define FD_DAEMON_RELOAD_H

#include <stddef.h>

#include "config/config.h"
#include "funneld/engine.h"

/* A new engine on `fresh`'s rules and lead cap that owns `cur` and answers
 * for its leads and counters from now on. NULL with errstr when memory runs
 * out; `cur` is then unchanged. */
fd_engine *fd_reload_engine(fd_engine *cur, const fd_config *fresh, char *errstr,
                            size_t errstr_size);

#endif
