/*
 * devbroker.h — `funneld dev-broker`: the librdkafka mock cluster as its own
 * process (see devbroker.c for the stdin fault-injection commands).
 */
#ifndef FD_DAEMON_DEVBROKER_H
#define FD_DAEMON_DEVBROKER_H

#include "config/config.h"

/* Run until SIGTERM/SIGINT or "quit" on stdin; returns the exit status. */
int fd_devbroker_run(const fd_config *cfg, int partitions, int brokers);

#endif
