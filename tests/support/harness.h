/*
 * harness.h — the integration-test harness: funneld processes against a
 * dev-broker (librdkafka's mock cluster in a process of its own), driven
 * from a Criterion test through real Kafka clients.
 *
 * The broker is chosen per run: the dev-broker by default, Apache Kafka
 * with FUNNELD_IT_BROKER=kafka (see it_real_broker); the same tests run on
 * both, the few that need the mock's fault injection skip on Kafka.
 *
 * What a test gets:
 *  - a scratch directory per test (FUNNELD_BINARY_DIR/it-tmp/SUITE.TEST)
 *    holding a copy of config/funneld.conf and the logs of every process;
 *  - `funneld dev-broker` spawned with pipes: its bootstrap address, and
 *    its stdin fault-injection commands ("down 1", "up 1", "create T N")
 *    answered line by line;
 *  - `funneld run` spawned with the config copy and -o overrides (broker,
 *    a group id of its own, a short commit interval, no admin HTTP), its
 *    stdout and stderr in a log file;
 *  - a producer (key, value, headers, explicit partition or the key's,
 *    synchronous with the delivered partition/offset, or asynchronous with
 *    a bounded flush) and an output reader that assigns every partition of
 *    the output topics from the beginning and accumulates what it reads;
 *  - committed-offset checks for the daemon's group against the end
 *    offsets of the input topics.
 *
 * Every wait is bounded (IT_WAIT_MS at most unless a test says less) and
 * fails the test with a message that says what was awaited; nothing sleeps
 * to make a test pass. Children are reaped in the suite's .fini
 * (it_teardown), and, should a test crash before its .fini, by a report
 * hook in Criterion's runner process, which also prints the logs of a
 * failed test.
 *
 * CMake builds the sources of tests/support (this harness and the
 * durability helpers) once, as the static library funneld_testsupport,
 * and links it into each integration test's executable; a test includes
 * this header, never harness.c. The harness keeps its state (the test's
 * environment, processes, clients) in harness.c, one copy per test
 * process.
 *
 * What it is not: it knows nothing of the daemon's internals; it talks to
 * it only through the command line, Kafka and signals.
 */
#ifndef FUNNELD_IT_HARNESS_H
#define FUNNELD_IT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <protobuf-c/protobuf-c.h>

#include "config/config.h"
#include "funneld/engine.h"

#define IT_WAIT_MS 30000 /* the longest any single wait may take */

/* 2026-01-01T00:00:00Z: event times in the past make every SLA deadline
 * computed from them already due when the daemon sees them. */
#define IT_T0 INT64_C(1767225600000)

/* ---- per-test environment ------------------------------------------------- */

/* Create the scratch directory, copy the config, start a dev-broker with
 * `partitions` partitions per configured topic. Call from .init (or first
 * thing in the test). */
void it_setup(int partitions);

/* The same on a real cluster of `brokers` nodes (with the mock: one
 * dev-broker whatever `brokers` says). On a real cluster, partitions 0
 * creates no topic at all (the test creates its own). */
void it_setup_brokers(int partitions, int brokers);
/* it_setup(partitions), except that on Apache Kafka the topics get the
 * broker's max.message.bytes given (NULL: the broker's default, 1 MB) for
 * the inputs and for the dead letters: for tests of records larger than a
 * topic takes by default. The mock takes any size. */
void it_setup_sized(int partitions, const char *input_max_bytes, const char *dl_max_bytes);

/* Which broker this run uses: FUNNELD_IT_BROKER=kafka selects Apache Kafka
 * (a cluster of the test's own from scripts/kafka.sh, stopped at teardown
 * or when the test process dies); anything else, the dev-broker. */
bool it_real_broker(void);

/* Skip the test on a real broker: it needs the mock's fault injection
 * (`why` says which). */
void it_require_mock(const char *why);

/* Create topic `name` (pairs of config name, value in `configs`, NULL-
 * terminated; may be NULL) and wait until every partition has a leader. */
void it_create_topic(const char *name, int partitions, const char *const *configs);

/* Stop every process the test started (SIGTERM, then SIGKILL after 5 s),
 * destroy the Kafka clients. Safe to call twice. Use as .fini. */
void it_teardown(void);

int64_t it_now_ms(void);
const char *it_dir(void);          /* the test's scratch directory */
const char *it_conf_path(void);    /* the config copy */
const char *it_bootstrap(void);    /* the dev-broker's address */
const char *it_group(void);        /* the daemon's consumer group id */
int it_partitions(void);

/* Add a "path=value" override for every later daemon start and for
 * it_overrides(). The harness adds kafka.bootstrap.servers,
 * kafka.group.id (one per test), processing.commit_interval=200ms and
 * admin.address= (no HTTP listener) itself, first; a later override of the
 * same path wins. Tests may produce inputs before the daemon starts: a
 * new group starts from the earliest offsets (funneld's own default). */
void it_override(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* All overrides, in order (valid until the next it_override). */
const char *const *it_overrides(size_t *n);

/* Load the daemon's config (file copy + overrides) as the daemon will. */
void it_load_config(fd_config *cfg);

/* ---- the dev-broker --------------------------------------------------------- */

/* Send one stdin command, wait (bounded) for its reply line and return it
 * (static buffer). it_broker_ok() also asserts the reply starts with "ok". */
const char *it_broker_command(const char *cmd);
void it_broker_ok(const char *cmd);

/* ---- funneld processes ------------------------------------------------------ */

typedef struct it_proc it_proc;

/* `funneld run -c CONF -o ...` with every override so far plus `extra`
 * (NULL-terminated list, may be NULL). check-config is run first with the
 * same arguments and must accept them. */
it_proc *it_daemon_start(const char *const *extra);

pid_t it_proc_pid(const it_proc *p);
void it_proc_signal(it_proc *p, int sig);
/* Still running (not yet reaped)? */
bool it_proc_running(it_proc *p);
/* Wait at most timeout_ms for the process to exit; true and *status (as
 * from waitpid) if it did (the exit was then expected: see
 * it_check_daemons). */
bool it_proc_wait_exit(it_proc *p, int timeout_ms, int *status);
/* The process's log so far (stdout and stderr), malloc'ed, NUL-terminated. */
char *it_proc_log(const it_proc *p);
/* How often `needle` occurs in the daemon's log so far (0: never). */
size_t it_proc_log_count(const it_proc *p, const char *needle);
const char *it_proc_log_path(const it_proc *p);

/* Assert the daemon is still running; on failure, the message carries the
 * end of its log. */
void it_assert_running(it_proc *p, const char *when);
/* Assert every daemon the test started, and has neither signalled nor
 * waited for, is still running (IT_WAIT_UNTIL checks this on every round,
 * so a crash fails at once instead of at the deadline). */
void it_check_daemons(void);

/* ---- producing ------------------------------------------------------------- */

typedef struct it_header {
	const char *name;
	const void *value;  /* NULL: a null header */
	size_t size;
} it_header;

#define IT_PARTITION_BY_KEY (-1)

/* Produce one record and wait (bounded) for its delivery; asserts success.
 * partition IT_PARTITION_BY_KEY uses the producer's partitioner. Returns
 * the offset; *partition_out (may be NULL) gets the partition. */
int64_t it_produce(const char *topic, int32_t partition, const char *key, const void *value,
                   size_t len, const it_header *headers, size_t n_headers,
                   int32_t *partition_out);

/* Enqueue one record without waiting; it_flush() waits for every queued
 * record (at most timeout_ms) and asserts they were all delivered. */
void it_produce_async(const char *topic, int32_t partition, const char *key, const void *value,
                      size_t len);
void it_flush(int timeout_ms);

/* ---- protobuf inputs --------------------------------------------------------- */

typedef struct it_bytes {
	uint8_t *data;
	size_t len;
} it_bytes;

/* Pack the engine-side structs as the wire contract's messages (every
 * field; activity kinds and reasons mapped to the proto enum numbers by
 * hand). The caller frees .data. */
it_bytes it_pack(const ProtobufCMessage *m);
it_bytes it_pb_engagement(const fd_engagement *ev);
it_bytes it_pb_profile(const fd_profile *p);
it_bytes it_pb_activity(const fd_activity *a);
/* A valid demo request of `lead` carrying n_properties properties
 * (utm_000000 .. = "campaign-value": about 26 bytes each). */
it_bytes it_pb_giant(const char *lead, const char *event_id, int64_t at, size_t n_properties);

/* Produce them keyed by lead id to the configured input topic (partition
 * by key); returns the offset. */
int64_t it_send_engagement(const fd_engagement *ev);
int64_t it_send_profile(const fd_profile *p);

/* "PREFIX-0042": the lead names it_send_hand_raises uses. */
void it_lead_name(char *out, size_t size, const char *prefix, int i);
/* A demo request (a hand raise: LEAD -> MQL at once) for each lead
 * PREFIX-from .. PREFIX-(to-1), ten minutes old, event id "ev-LEAD",
 * produced by key to the engagement topic and flushed (bounded). */
void it_send_hand_raises(const char *prefix, int from, int to);

/* The admin HTTP port from the daemon's "admin HTTP on http://ADDR:PORT/"
 * line (admin.port=0 picks a free one), waiting at most timeout_ms. */
int it_admin_port(it_proc *p, int timeout_ms);

/* SIGTERM, then assert the daemon exits 0 within IT_WAIT_MS. */
void it_stop_daemon(it_proc *p);
int64_t it_send_activity(const fd_activity *a);

/* ---- reading outputs -------------------------------------------------------- */

typedef struct it_msg {
	char topic[256];
	int32_t partition;
	int64_t offset;
	char *key;           /* NUL-terminated copy; NULL if the record has none */
	size_t key_len;
	uint8_t *value;      /* copy (NUL-terminated past len); NULL if none */
	size_t len;
	size_t n_headers;
	char **header_names;
	uint8_t **header_values; /* NULL for a null header */
	size_t *header_sizes;
} it_msg;

typedef struct it_reader it_reader;

/* Assign every partition of `topics` (NULL-terminated) from the beginning. */
it_reader *it_reader_open(const char *const *topics);
/* The four output topics of the configuration. */
it_reader *it_reader_outputs(void);
/* Read for about `ms` milliseconds, appending what arrives. */
void it_reader_poll(it_reader *r, int ms);
/* Read until every partition is at the end offset it had when called (fails
 * after `timeout_ms`): everything written before the call, however slow the
 * broker is to serve it. */
void it_reader_poll_to_end(it_reader *r, int timeout_ms);
size_t it_reader_count(const it_reader *r);
const it_msg *it_reader_at(const it_reader *r, size_t i);
/* Records of `topic` (and of lead `key` unless NULL) read so far. */
size_t it_reader_count_of(const it_reader *r, const char *topic, const char *key);
/* The i-th such record (in reading order; per partition, offset order). */
const it_msg *it_reader_nth(const it_reader *r, const char *topic, const char *key, size_t i);
void it_reader_close(it_reader *r);

/* Header value of `m` named `name` as a NUL-terminated string (static
 * buffer rotated over 8 calls), or NULL if absent; *count (may be NULL)
 * gets how many headers have that name. */
const char *it_header_str(const it_msg *m, const char *name, int *count);

/* Poll `r` until `cond` holds, at most `ms`; fail with the message
 * otherwise, or at once if a daemon died (it_check_daemons). `cond` is
 * re-evaluated after every poll. */
#define IT_WAIT_UNTIL(r, ms, cond, ...)                                       \
	do {                                                                      \
		int64_t it_deadline_ = it_now_ms() + (ms);                            \
		while (!(cond)) {                                                     \
			it_check_daemons();                                               \
			if (it_now_ms() >= it_deadline_)                                  \
				cr_assert_fail(__VA_ARGS__);                                   \
			it_reader_poll((r), 100);                                         \
		}                                                                     \
	} while (0)

/* Count distinct values of header `name` among records of `topic`. */
size_t it_distinct_header(const it_reader *r, const char *topic, const char *name);

/* ---- offsets ----------------------------------------------------------------- */

/* The sum of the end offsets of every partition of `topic`: how many
 * records were ever written to it (with transactions: and their markers),
 * which compaction does not change. */
int64_t it_end_offsets(const char *topic);

/* Do the committed offsets of `group` equal the end offsets on every
 * partition of the three input topics? (A partition with no record and no
 * commit counts as equal.) On false, diag says where they differ. */
bool it_committed_at_end(const char *group, char *diag, size_t diag_size);
/* Poll it_committed_at_end at most timeout_ms; fail with the difference. */
void it_wait_committed_at_end(const char *group, int timeout_ms);

/* ---- misc ------------------------------------------------------------------- */

/* The end of a log, for failure messages (static buffer). */
const char *it_tail(const char *text, size_t max);

#endif /* FUNNELD_IT_HARNESS_H */
