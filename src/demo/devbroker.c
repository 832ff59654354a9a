/*
 * devbroker.c — `funneld dev-broker`: librdkafka's mock cluster as a process
 * of its own, for local trials with kcat and for tests whose broker must
 * outlive the daemon (restarts, kill -9).
 *
 * It prints the bootstrap address as the first line on stdout (and flushes),
 * creates every configured topic (inputs, outputs, dead letters, changelog)
 * with the requested partition count, then runs until SIGTERM/SIGINT or a
 * "quit" line on stdin. Other stdin lines inject faults, one command a line:
 *
 *   down ID          take broker ID down (connections refused)
 *   up ID            bring it back
 *   rtt ID MS        add MS of round-trip time to broker ID
 *   create TOPIC N   create TOPIC with N partitions
 *   leader TOPIC P ID  make broker ID the leader of TOPIC's partition P (-1:
 *                    each of the --partitions the configured topics have)
 *   error API ERR [N]  fail the next N (default 1) requests of Kafka API
 *                    number API (0 Produce, 22 InitProducerId, 24
 *                    AddPartitionsToTxn, 25 AddOffsetsToTxn, 26 EndTxn,
 *                    28 TxnOffsetCommit, ...) with Kafka error code ERR
 *                    (e.g. 48 INVALID_TXN_STATE, 90 PRODUCER_FENCED)
 *   quit             stop
 *
 * Every command is answered on stdout with "ok ..." or "error ...". EOF on
 * stdin only stops reading. A pipe, a socket or a terminal on stdin is
 * watched by the loop; a regular file (`dev-broker < commands.txt`) is read
 * to its end at start, its commands run in order; anything else (/dev/null,
 * as a service or a test harness gives it) is not read at all: epoll
 * refuses such descriptors (EPERM), and libevent would print a warning.
 * What it is not: a Kafka broker (DESIGN section 9 lists the mock's
 * limits).
 */
#include "demo/devbroker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "base/log.h"
#include "demo/demo_kafka.h"

typedef struct devbroker {
	struct event_base *base;
	rd_kafka_mock_cluster_t *mc;
	struct event *stdin_ev;
	char line[1024];
	size_t len;
	int partitions;           /* of each configured topic */
} devbroker;

static void reply(const char *status, const char *what, const char *detail)
{
	printf("%s %s%s%s\n", status, what, *detail ? ": " : "", detail);
	fflush(stdout);
}

/* Broker `id` leads `topic`'s partition p (-1: partitions 0 .. the
 * configured count - 1). */
static rd_kafka_resp_err_t set_leader(const devbroker *db, const char *topic, int p, int32_t id)
{
	if (p >= 0)
		return rd_kafka_mock_partition_set_leader(db->mc, topic, p, id);
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	for (int i = 0; i < db->partitions && !err; i++)
		err = rd_kafka_mock_partition_set_leader(db->mc, topic, i, id);
	return err;
}

static void command(devbroker *db, char *line)
{
	char *argv[5] = { 0 };
	int argc = 0;
	for (char *tok = strtok(line, " \t\r"); tok && argc < 5; tok = strtok(NULL, " \t\r"))
		argv[argc++] = tok;
	if (argc == 0)
		return;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	if (strcmp(argv[0], "quit") == 0) {
		reply("ok", "quit", "");
		event_base_loopexit(db->base, NULL);
		return;
	} else if (strcmp(argv[0], "down") == 0 && argc == 2) {
		err = rd_kafka_mock_broker_set_down(db->mc, (int32_t)atoi(argv[1]));
	} else if (strcmp(argv[0], "up") == 0 && argc == 2) {
		err = rd_kafka_mock_broker_set_up(db->mc, (int32_t)atoi(argv[1]));
	} else if (strcmp(argv[0], "rtt") == 0 && argc == 3) {
		err = rd_kafka_mock_broker_set_rtt(db->mc, (int32_t)atoi(argv[1]), atoi(argv[2]));
	} else if (strcmp(argv[0], "create") == 0 && argc == 3) {
		err = rd_kafka_mock_topic_create(db->mc, argv[1], atoi(argv[2]), 1);
	} else if (strcmp(argv[0], "leader") == 0 && argc == 4) {
		err = set_leader(db, argv[1], atoi(argv[2]), (int32_t)atoi(argv[3]));
	} else if (strcmp(argv[0], "error") == 0 && (argc == 3 || argc == 4)) {
		int n = argc == 4 ? atoi(argv[3]) : 1;
		rd_kafka_resp_err_t code = (rd_kafka_resp_err_t)atoi(argv[2]);
		for (int i = 0; i < n && i < 1000; i++)
			rd_kafka_mock_push_request_errors(db->mc, (int16_t)atoi(argv[1]), 1, code);
	} else {
		reply("error", "unknown command", argv[0]);
		return;
	}
	if (err)
		reply("error", argv[0], rd_kafka_err2str(err));
	else
		reply("ok", argv[0], "");
	fd_log(FD_LOG_INFO, "dev-broker: %s %s%s", argv[0], argc > 1 ? argv[1] : "",
	       err ? " failed" : "");
}

/* Split what was read into lines and run each. */
static void take_input(devbroker *db, const char *buf, ssize_t n)
{
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			db->line[db->len] = '\0';
			command(db, db->line);
			db->len = 0;
		} else if (db->len + 1 < sizeof db->line) {
			db->line[db->len++] = buf[i];
		}
	}
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
	devbroker *db = arg;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		event_del(db->stdin_ev); /* EOF: keep running, stop reading */
		return;
	}
	take_input(db, buf, n);
}

/* How stdin is read: watched by the loop (a pipe, a socket, a terminal),
 * read through at start (a regular file), or not at all. */
typedef enum stdin_kind { STDIN_WATCH, STDIN_FILE, STDIN_NONE } stdin_kind;

static stdin_kind stdin_kind_of(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return STDIN_NONE;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(fd))
		return STDIN_WATCH;
	return S_ISREG(st.st_mode) ? STDIN_FILE : STDIN_NONE;
}

/* A regular file's commands, in order, before the loop starts (a "quit"
 * among them stops it at its first turn). */
static void read_command_file(devbroker *db, int fd)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			take_input(db, buf, n);
	if (db->len > 0) { /* a last line without a newline */
		db->line[db->len] = '\0';
		command(db, db->line);
		db->len = 0;
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	devbroker *db = arg;
	fd_log(FD_LOG_INFO, "dev-broker: signal %d, stopping", (int)sig);
	event_base_loopexit(db->base, NULL);
}

int fd_devbroker_run(const fd_config *cfg, int partitions, int brokers)
{
	int rc = 1;
	char errstr[512];
	devbroker db = { .partitions = partitions };
	struct event *sigs[2] = { NULL, NULL };
	rd_kafka_t *rk = NULL;

	db.mc = fd_demo_kafka_mock(brokers, partitions, &cfg->settings.topics, &rk, errstr,
	                           sizeof errstr);
	if (!db.mc) {
		fd_log(FD_LOG_ERR, "dev-broker: %s", errstr);
		return 1;
	}
	/* signals are watched before the address is out: whoever reads it may
	   stop the broker at once */
	db.base = event_base_new();
	if (!db.base)
		goto out;
	sigs[0] = evsignal_new(db.base, SIGTERM, on_signal, &db);
	sigs[1] = evsignal_new(db.base, SIGINT, on_signal, &db);
	if (!sigs[0] || !sigs[1] || event_add(sigs[0], NULL) || event_add(sigs[1], NULL))
		goto out;
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(db.mc));
	fflush(stdout);
	fd_log(FD_LOG_NOTICE, "dev-broker: mock cluster of %d broker(s) at %s, %d partitions per topic",
	       brokers, rd_kafka_mock_cluster_bootstraps(db.mc), partitions);
	switch (stdin_kind_of(STDIN_FILENO)) {
	case STDIN_WATCH:
		(void)fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
		db.stdin_ev = event_new(db.base, STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin, &db);
		if (db.stdin_ev)
			(void)event_add(db.stdin_ev, NULL);
		break;
	case STDIN_FILE:
		read_command_file(&db, STDIN_FILENO);
		break;
	case STDIN_NONE:
		break;
	}
	signal(SIGPIPE, SIG_IGN);
	event_base_dispatch(db.base);
	rc = 0;
out:
	if (db.stdin_ev)
		event_free(db.stdin_ev);
	for (int i = 0; i < 2; i++)
		if (sigs[i])
			event_free(sigs[i]);
	if (db.base)
		event_base_free(db.base);
	fd_demo_kafka_mock_free(db.mc, rk);
	return rc;
}
