/*
 * durability.h — helpers for the durability suite (test_crash.c,
 * test_scaleout.c, test_downtime.c, test_capacity.c, test_eos.c): what the
 * harness does not offer and these tests share. Built once, with the
 * harness, into the funneld_testsupport library (durability.c); a test
 * includes this header after harness.h.
 *
 * What is here:
 *  - a reproducible seed (FUNNELD_TEST_SEED, else derived from the clock,
 *    always printed) and a small PRNG;
 *  - daemon processes of our own (dur_proc): the harness keeps at most 16
 *    processes per test and a crash test restarts the daemon 20+ times.
 *    They run with the harness's config copy and overrides, their logs sit
 *    next to the harness's (so a failed test prints them), their pids go to
 *    the harness's pid file (so its report hook kills leftovers), and they
 *    never see JOURNAL_STREAM / FUNNELD_LOG_PREFIX, so log lines keep
 *    their timestamps (the ownership check reads them);
 *  - topic sets (dur_set): one group and eight topics per run, so a
 *    reference run and an interrupted run read identical input at identical
 *    offsets on one dev-broker;
 *  - an input script (dur_script) produced to explicit partitions, and the
 *    scripted scenario shared by the crash and scale-out tests;
 *  - committed-offset barriers for a set's group;
 *  - an output reader (dur_reader) that reads a set's five output topics
 *    (changelog included) to their end offsets, and the comparison of two
 *    runs: distinct ids, byte-identical copies, last score and last state
 *    per lead;
 *  - log parsing (timestamps, partition ownership intervals) and a tiny
 *    HTTP client for the admin endpoints (/metrics).
 *
 * Like the harness, every helper fails the running test (cr_assert) rather
 * than return an error, and keeps its state (the processes it started, the
 * seed) in durability.c, one copy per test process.
 *
 * What it is not: a second harness. Broker, producer, overrides and
 * teardown stay the harness's.
 */
#ifndef FUNNELD_IT_DURABILITY_H
#define FUNNELD_IT_DURABILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <librdkafka/rdkafka.h>

#include "harness.h"

/* ---- seed and PRNG ----------------------------------------------------------- */

/* A progress line on stderr and in DIR/durability.log (a quiet runner,
 * -q, prints nothing; the harness shows a failed test's *.log files). */
void dur_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The test's seed: FUNNELD_TEST_SEED if set (decimal or 0x hex), else one
 * from the clock; printed either way. */
uint64_t dur_seed(const char *test);

/* Uniform in [lo, hi], from the splitmix64 state *s. */
int dur_rand_range(uint64_t *s, int lo, int hi);

/* The monotonic clock in ms, and a sleep that resumes after a signal. */
int64_t dur_mono_ms(void);
void dur_sleep_ms(int ms);

/* ---- daemon processes of our own ------------------------------------------------- */

typedef struct dur_proc {
	pid_t pid;
	bool reaped;
	bool expect_running;  /* neither signalled nor awaited by the test */
	int status;
	int64_t start_ms;     /* wall clock, just before the spawn */
	int64_t end_ms;       /* wall clock when reaped (0: running) */
	char name[64];
	char log[1200];
} dur_proc;

/* `funneld run -c CONF -o (harness overrides) -o (extra)` (extra
 * NULL-terminated, may be NULL), stdout and stderr appended to
 * DIR/NAME.log; expected to keep running (dur_check_alive) until the test
 * signals or awaits it. The process belongs to durability.c, which frees
 * it in dur_teardown. */
dur_proc *dur_daemon(const char *name, const char *const *extra);
/* `funneld check-config` with the same arguments must accept them. */
void dur_check_config(const char *const *extra);

/* Wait at most timeout_ms for `p` to exit; true and *status (as from
 * waitpid; may be NULL) if it did. */
bool dur_wait_exit(dur_proc *p, int timeout_ms, int *status);
/* The process's log so far, malloc'ed, NUL-terminated. */
char *dur_log(const dur_proc *p);
/* Assert `p` is still running; on failure, the message carries the end of
 * its log. */
void dur_assert_alive(dur_proc *p, const char *when);
/* Every daemon the test expects to be running still is. */
void dur_check_alive(void);
/* kill -9 and reap; returns the wall-clock time the process was gone. */
int64_t dur_kill9(dur_proc *p);
/* SIGTERM and expect exit 0 within timeout_ms. */
void dur_stop_clean(dur_proc *p, int timeout_ms);
/* .fini: our processes first (SIGTERM, SIGKILL after 5 s), then the harness's. */
void dur_teardown(void);

/* ---- logs ----------------------------------------------------------------------------- */

/* "2026-11-23T00:12:00.103Z ..." at the start of a line: ms since the epoch,
 * or -1. */
int64_t dur_line_time(const char *line);
/* Lines of `text` containing `needle`. */
size_t dur_count_lines(const char *text, const char *needle);
/* The first line of `text` containing `needle` (copied into out), or false. */
bool dur_find_line(const char *text, const char *needle, char *out, size_t size);
/* A daemon has restored every partition it was assigned so far: at least
 * one "assigned:" line and as many "restored" lines as partitions named on
 * "assigned:" lines for `topic` (the engagement topic). */
bool dur_restored_all(const dur_proc *p, const char *topic);

/* ---- topic sets --------------------------------------------------------------------- */

enum { DUR_IN_ENGAGEMENT = 0, DUR_IN_PROFILES = 1, DUR_IN_ACTIVITIES = 2 };
enum { DUR_OUT_TRANSITIONS = 0, DUR_OUT_SLA, DUR_OUT_SCORES, DUR_OUT_DEAD_LETTERS,
	   DUR_OUT_CHANGELOG, DUR_OUTS };

typedef struct dur_set {
	char group[256];
	char in[3][256];        /* engagement, profiles, activities */
	char out[DUR_OUTS][256];
	int partitions;
	char over[16][300];     /* -o overrides naming them */
	const char *extra[17];
	rd_kafka_t *offsets;    /* group client for committed offsets (lazy) */
} dur_set;

/* The configured topics and the harness's group (prefix NULL), or eight
 * topics "PREFIX.engagement" ... created on the dev-broker with the
 * harness's partition count and a group of their own. */
void dur_set_init(dur_set *s, const char *prefix);
/* Destroys the set's offsets client (the set itself is the caller's). */
void dur_set_free(dur_set *s);
/* The set's overrides followed by `more` (NULL-terminated, may be NULL);
 * valid until the next call. */
const char *const *dur_set_args(const dur_set *s, const char *const *more);
/* Do the set's group's committed offsets equal the end offsets of every
 * input partition? (no record and no commit counts as equal) */
bool dur_committed_at_end(dur_set *s, char *diag, size_t diag_size);

/* ---- input scripts ------------------------------------------------------------------------ */

typedef struct dur_rec {
	int phase;
	int topic;          /* DUR_IN_* */
	int32_t partition;  /* explicit */
	char *key;
	uint8_t *value;
	size_t len;
} dur_rec;

/* Owns its records' keys and values; dur_script_free frees them. */
typedef struct dur_script {
	dur_rec *recs;
	size_t n, cap;
	int phases;
} dur_script;

void dur_script_free(dur_script *sc);
/* Records [from, to) of the script to the set's input topics, each to its
 * explicit partition; waits until they are all delivered. */
void dur_produce(const dur_set *s, const dur_script *sc, size_t from, size_t to);
/* Index of the first record of `phase` or later. */
size_t dur_phase_start(const dur_script *sc, int phase);
/* FNV-1a of `s` (a lead's partition: dur_fnv(lead) % partitions). */
uint32_t dur_fnv(const char *s);

/* Append to `sc`, in `phase`, to explicit partition `p`, keyed by `lead`:
 * an EngagementEvent (campaign "dur"), or a LeadProfile of fit A (0),
 * B (1), C (2) or, any other value, disqualified by a personal e-mail. */
void dur_add_event(dur_script *sc, int phase, int32_t p, const char *lead, const char *id,
                   int64_t at, const char *type, const char *content, const char *channel);
void dur_add_profile(dur_script *sc, int phase, int32_t p, const char *lead, int64_t at,
                     int fit, const char *source, const char *owner);
/* ... or a SalesActivity (note "dur"). */
void dur_add_activity(dur_script *sc, int phase, int32_t p, const char *lead, const char *id,
                      int64_t at, fd_activity_kind kind, fd_reason reason, const char *rep);

/* ---- the scripted scenario (crash and scale-out) --------------------------------------------
 *
 * Three phases; within a phase every lead's inputs are on one input topic,
 * so the order the daemon applies them in is the order of one partition's
 * log, whatever the consumer's interleaving of topics. Phases are
 * separated by a barrier (every input committed) in every run.
 *
 *   phase 0  profiles: "mx" leads (recent times, fit A or B, or a personal
 *            e-mail that disqualifies; some with a stale or newer second
 *            profile), "op" leads (old times, some of them from source
 *            "event", which fast-tracks); "ao" leads: sales activities for
 *            leads nobody knows (refused); undecodable records
 *   phase 1  engagement: "mx" leads a page view then a demo request ten
 *            hours ago (MQL; no deadline is due during the test); "op" and
 *            "eo" leads 1..10 events of every configured kind in January
 *            2026, some late, some duplicated by event id (every SLA
 *            deadline of theirs is long past: warnings, breaches,
 *            mql_decision recycling to NURTURE fire at once, in deadline
 *            order, before the lead's next input); an unknown event type,
 *            an event two days in the future, undecodable records
 *   phase 2  sales activities for the "mx" leads (touch, accept, qualify,
 *            revert, reject, some refused, some duplicated by activity id)
 *            and more engagement for the old leads (re-MQL from NURTURE
 *            after the cool-down)
 *
 * Nothing depends on the wall clock except "future" (two days ahead is
 * refused in any run) and the recent times, fixed once by the caller.
 * Needs lifecycle.nurture.review_days=3650 (no review falls due during a
 * run). Under the shipped state.lead_ttl (180 d) the old leads become idle
 * in their partition's stream time once the recent leads' records pass
 * through it: a sweep evicts them, or their next input meets them as new,
 * the same either way. */

typedef struct dur_scenario_size {
	int mixed;   /* "mx" leads */
	int old;     /* "eo" + "op" leads */
	int orphans; /* "ao" leads */
} dur_scenario_size;

/* Build the scenario (see above) into `sc`; `recent` is a time about ten
 * hours ago, the same for every run that is compared. */
void dur_scenario(dur_script *sc, uint64_t seed, int partitions, dur_scenario_size size,
                  int64_t recent);
/* "ten hours ago", rounded to the hour */
int64_t dur_recent_base(void);

/* ---- runs -------------------------------------------------------------------------------- */

/* Wait (bounded) until every input of the set is committed, failing at
 * once if `d` (may be NULL) or any daemon expected to run dies. */
void dur_barrier(dur_set *s, dur_proc *d, int timeout_ms, const char *when);
/* Wait (bounded) until `d` restored every partition it was assigned. */
void dur_wait_restored(dur_set *s, dur_proc *d, int timeout_ms);

typedef struct dur_reader dur_reader;

/* The uninterrupted run of a script: one daemon, phase by phase, each
 * committed before the next; stopped with SIGTERM; its outputs read to the
 * end. The caller closes the reader. */
dur_reader *dur_reference_run(dur_set *ref, const dur_script *sc, const char *test);

/* ---- reading outputs ------------------------------------------------------------------------ */

typedef struct dur_msg {
	int kind;               /* DUR_OUT_* */
	int32_t partition;
	int64_t offset;
	char *key;              /* NUL-terminated; NULL if none */
	uint8_t *value;         /* NULL: null value (tombstone) */
	size_t len;
	uint8_t *hdrs;          /* every header, serialised: name \0 size(8) bytes */
	size_t hdrs_len;
	char id[128];           /* ce_id, or "ROLE/PARTITION/OFFSET" for a dead letter */
	char reason[320];       /* dead letters: funneld.error.reason */
	int64_t read_ms;        /* wall clock when read */
} dur_msg;

/* Changelog checkpoints (reserved key, funneld/wire.h) are read with the
 * key DUR_CHECKPOINT_KEY followed by their partition number. */
#define DUR_CHECKPOINT_KEY "#checkpoint/"
bool dur_is_checkpoint(const dur_msg *m);
/* dur_compare compares checkpoints by their stream time (exact whatever
 * happens); with `on`, byte for byte, counters included (what
 * exactly_once promises across a kill -9). */
void dur_compare_checkpoints_exactly(bool on);

/* Assign every partition of the set's five output topics from the
 * beginning; `s` must outlive the reader. Owns the records it reads (valid
 * until dur_reader_close). */
dur_reader *dur_reader_open(const dur_set *s);
/* Read for about `ms` milliseconds, appending what arrives. */
void dur_reader_poll(dur_reader *r, int ms);
/* Read until every output partition's position reached the end offset it
 * had when this was called; fails after timeout_ms. */
void dur_reader_catch_up(dur_reader *r, int timeout_ms);
size_t dur_reader_count(const dur_reader *r);
void dur_reader_close(dur_reader *r);
/* Records of `kind` (and `key` unless NULL) read so far. */
size_t dur_count(const dur_reader *r, int kind, const char *key);
/* The i-th record of `kind` (and `key` unless NULL), in reading order. */
const dur_msg *dur_nth(const dur_reader *r, int kind, const char *key, size_t nth);
/* One line on `m` (its value decoded) for failure messages; static buffer
 * rotated over 4 calls. */
const char *dur_describe(const dur_msg *m);

/* ---- comparing runs -------------------------------------------------------------------------- */

typedef struct dur_summary {
	size_t ids[DUR_OUTS];    /* distinct ids (T, SLA, DL) or keys (scores, changelog) */
	size_t copies[DUR_OUTS]; /* duplicate copies seen in the compared run */
	size_t records[DUR_OUTS];
} dur_summary;

/* The compared run `got` against the uninterrupted `ref`: the same
 * transitions, SLA events and dead letters by id, every copy of an id
 * byte-identical (within each run and across the runs), the same last
 * LeadScore and the same last changelog record (final state, or tombstone)
 * per lead. Fails with the first differences. */
dur_summary dur_compare(const dur_reader *ref, const dur_reader *got, const char *what);
/* Within one run: every copy of a transition, SLA event or dead letter id
 * is byte-identical, every record carries an id, no key moves partition.
 * Returns the counts. */
dur_summary dur_check_copies(const dur_reader *got, const char *what);

/* ---- partition ownership ------------------------------------------------------------------- */

typedef struct dur_owned {
	int instance;        /* index into the caller's process array */
	int32_t partition;
	int64_t from, to;    /* wall clock ms: "assigned:" .. "dropped from memory" (or exit) */
} dur_owned;

/* Intervals during which process `p` owned partitions of `topic`: from
 * its "assigned:" line to the "partition N: ... dropped from memory" line
 * that follows "revoked:"/"lost:" (after the drain), or to its exit. At
 * most `max` into `out`; returns how many. */
size_t dur_ownership(const dur_proc *p, int instance, const char *topic, dur_owned *out,
                     size_t max);
/* No partition of `topic` was owned by two of `procs` at once; every
 * partition was owned by someone. Prints the intervals. */
void dur_assert_exclusive_ownership(dur_proc *const *procs, size_t n_procs, const char *topic,
                                    int partitions);

/* ---- admin HTTP ------------------------------------------------------------------------------- */

/* A loopback TCP port that was free a moment ago (the config refuses
 * admin.port=0, so the test picks one: bind to port 0, read it, close). */
int dur_free_port(void);
/* The port from the daemon's "admin HTTP on http://ADDR:PORT/" line, waiting
 * at most timeout_ms for it. */
int dur_admin_port(dur_proc *p, int timeout_ms);
/* GET http://127.0.0.1:port/path; returns the status (or -1) and the body
 * (malloc'ed) in *body. */
int dur_http_get(int port, const char *path, char **body);
/* One GET /healthz: asserts it answers 200, returns how long it took (ms). */
int64_t dur_healthz_ms(int port);
/* The value of an unlabelled metric from /metrics, asserting 200 and that
 * the metric is there. */
double dur_get_metric(int port, const char *name);

#endif /* FUNNELD_IT_DURABILITY_H */
