/*
 * bench_state.c — how big a LeadState changelog record is on the shipped
 * config under the demo's traffic, in the compact encoding against the
 * previous one (v1), and how fast records are written (export + encode) and
 * read back (decode + import).
 *
 *   bench_state [leads] [days] [restore_leads] [seed]
 *                                   (defaults 2000 7.5 1000000 42)
 *
 * 1. `funneld demo`'s own actors run against an in-process mock cluster on
 *    a virtual clock: the traffic generator (personas, profiles and
 *    engagement) and the simulated sales team (which reads the
 *    transitions and answers with activities), with config/funneld.conf
 *    as shipped, for `days` virtual days (7.5: the demo's 90 s at 7200x)
 *    and the demo's arrival window. The engine is driven directly, without
 *    the daemon: every STEP_MS of virtual time it takes every input the
 *    actors produced, in event-time order (timers due before an input fire
 *    first), then fires what is due at the end of the step, and sends its
 *    transitions back to the sales team.
 * 2. Sizes: "written" is every lead that changed in a commit interval
 *    (COMMIT_MS: the demo's 1 s at 7200x), exported at its end: what the
 *    changelog carries, one record per dirty lead per commit interval;
 *    "final" is every lead once, at the end. Every final record is checked:
 *    compact and v1 decode to states that import into fresh engines and
 *    export again to the same compact bytes.
 * 3. Rates, over the final leads: export + encode, decode alone, and
 *    decode + import into a fresh engine, repeated to at least a second;
 *    then decode + import of `restore_leads` records (the final ones under
 *    distinct lead ids) into one fresh engine, the shape of a large restore
 *    (0: skip).
 *
 * BENCH_STATE_DUMP=DIR writes the first final record of each stage to DIR
 * (how tests/fuzz/corpus/state/compact-<stage> were made).
 *
 * Not a test. A run is reproducible per seed: each step waits until every
 * record the actors produced has been read, and until the sales team has
 * read every transition before it acts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "base/log.h"
#include "config/config.h"
#include "demo/demo_sales.h"
#include "demo/demo_traffic.h"
#include "funneld/wire.h"
#include "support/bench.h"

extern const char fd_default_config[];

#define START_MS INT64_C(1767600000000) /* the demo's: Mon 2026-01-05 08:00 UTC */
#define STEP_MS (15 * FD_MS_MINUTE)
#define COMMIT_MS (2 * FD_MS_HOUR) /* the demo's: 1 s at 7200x */
#define PARTITIONS 3
#define WAIT_S 30.0

enum { IN_ENGAGEMENT = 0, IN_PROFILE, IN_ACTIVITY, IN_KINDS };

/* One input read from Kafka, waiting for its turn in event-time order. */
typedef struct pending {
	rd_kafka_message_t *m;
	int kind;
	int64_t at;
	size_t seq;
} pending;

typedef struct sizes {
	size_t *v1, *compact;
	size_t n, cap_v1, cap_compact;
} sizes;

typedef struct run {
	fd_config *cfg;
	fd_engine *e;
	fd_wire_arena *arena;
	rd_kafka_t *consumer, *producer;
	fd_demo_traffic *traffic;
	fd_demo_sales *sales;
	pending *in;
	size_t n_in, cap_in;
	uint64_t consumed, transitions_sent;
	char **changed;                 /* leads changed in this step (may repeat) */
	size_t n_changed, cap_changed;
	fd_lead_state *st;
	sizes written;
	uint64_t applied[IN_KINDS], refused;
} run;

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap * 2 : 1024;
	while (c < need)
		c *= 2;
	void *q = realloc(p, c * size);
	if (!q) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	*cap = c;
	return q;
}

/* ---- the engine's outputs ------------------------------------------------- */

static void on_transition(void *ctx, const fd_transition *t)
{
	run *r = ctx;
	uint8_t *buf;
	size_t len;
	if (fd_wire_encode_transition(t, &buf, &len) != 0) {
		fprintf(stderr, "cannot encode a transition\n");
		exit(1);
	}
	while (rd_kafka_producev(r->producer, RD_KAFKA_V_TOPIC(r->cfg->settings.topics.transitions),
	                         RD_KAFKA_V_KEY(t->lead_id, strlen(t->lead_id)),
	                         RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
	                         RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(r->producer, 10);
	r->transitions_sent++;
}

static void on_changed(void *ctx, const char *lead_id)
{
	run *r = ctx;
	r->changed = grow(r->changed, &r->cap_changed, r->n_changed + 1, sizeof *r->changed);
	r->changed[r->n_changed++] = strdup(lead_id);
}

/* ---- reading and applying the inputs -------------------------------------- */

static int kind_of(const run *r, const char *topic)
{
	const fd_topics *t = &r->cfg->settings.topics;
	return strcmp(topic, t->engagement) == 0 ? IN_ENGAGEMENT
	       : strcmp(topic, t->profiles) == 0 ? IN_PROFILE
	       : strcmp(topic, t->activities) == 0 ? IN_ACTIVITY
	                                           : -1;
}

/* Decode `p` (into the run's arena) and apply it at `now`, or only read its
 * time when `apply` is false. -1 if it does not decode. */
static int input(run *r, pending *p, bool apply, int64_t now, const fd_sink *sink)
{
	const fd_topics *t = &r->cfg->settings.topics;
	const rd_kafka_message_t *m = p->m;
	char err[256];
	fd_status st = FD_OK;
	switch (p->kind) {
	case IN_ENGAGEMENT: {
		fd_engagement ev;
		if (fd_wire_decode_engagement(t->engagement_encoding, m->payload, m->len, r->arena, &ev,
		                              err, sizeof err) != 0)
			return -1;
		p->at = ev.occurred_at_ms;
		ev.partition = m->partition;
		ev.position = m->offset + 1;
		if (apply)
			st = fd_engine_engagement(r->e, &ev, now, sink, err, sizeof err);
		break;
	}
	case IN_PROFILE: {
		fd_profile pr;
		if (fd_wire_decode_profile(t->profiles_encoding, m->payload, m->len, r->arena, &pr, err,
		                           sizeof err) != 0)
			return -1;
		p->at = pr.updated_at_ms;
		pr.partition = m->partition;
		pr.position = m->offset + 1;
		if (apply)
			st = fd_engine_profile(r->e, &pr, now, sink, err, sizeof err);
		break;
	}
	default: {
		fd_activity a;
		if (fd_wire_decode_activity(t->activities_encoding, m->payload, m->len, r->arena, &a, err,
		                            sizeof err) != 0)
			return -1;
		p->at = a.occurred_at_ms;
		a.partition = m->partition;
		a.position = m->offset + 1;
		if (apply)
			st = fd_engine_activity(r->e, &a, now, sink, err, sizeof err);
		break;
	}
	}
	if (apply) {
		r->applied[p->kind]++;
		if (st < 0)
			r->refused++;
	}
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const pending *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint64_t produced(const run *r)
{
	fd_demo_traffic_stats ts;
	fd_demo_sales_stats ss;
	fd_demo_traffic_stats_get(r->traffic, &ts);
	fd_demo_sales_stats_get(r->sales, &ss);
	uint64_t n = ts.profiles + ts.events;
	for (int k = 0; k < FD_ACT_COUNT; k++)
		n += ss.activities[k];
	return n;
}

/* Read until every input produced so far is in r->in. */
static void read_inputs(run *r)
{
	uint64_t want = produced(r);
	double deadline = bench_seconds() + WAIT_S;
	while (r->consumed < want) {
		if (bench_seconds() > deadline) {
			fprintf(stderr, "inputs: %llu of %llu read after %.0f s\n",
			        (unsigned long long)r->consumed, (unsigned long long)want, WAIT_S);
			exit(1);
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->consumer, 100);
		if (!m)
			continue;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "consumer: %s\n", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		r->consumed++;
		int kind = kind_of(r, rd_kafka_topic_name(m->rkt));
		pending p = { m, kind, 0, r->n_in };
		if (kind < 0 || input(r, &p, false, 0, NULL) != 0) {
			fprintf(stderr, "an input from %s does not decode\n", rd_kafka_topic_name(m->rkt));
			exit(1);
		}
		r->in = grow(r->in, &r->cap_in, r->n_in + 1, sizeof *r->in);
		r->in[r->n_in++] = p;
	}
}

/* The sales team reads every transition sent, acting only on what was due
 * at `before` (the last step, done already), then acts at `now`: what it
 * does does not depend on when the transitions arrive. */
static void sales_catch_up(run *r, int64_t before, int64_t now)
{
	rd_kafka_flush(r->producer, 10000);
	double deadline = bench_seconds() + WAIT_S;
	for (;;) {
		fd_demo_sales_tick(r->sales, before);
		fd_demo_sales_stats st;
		fd_demo_sales_stats_get(r->sales, &st);
		if (st.transitions_read >= r->transitions_sent)
			break;
		if (bench_seconds() > deadline) {
			fprintf(stderr, "sales: %llu of %llu transitions read after %.0f s\n",
			        (unsigned long long)st.transitions_read,
			        (unsigned long long)r->transitions_sent, WAIT_S);
			exit(1);
		}
		rd_kafka_poll(r->producer, 1);
	}
	fd_demo_sales_tick(r->sales, now);
}

/* ---- sizes ------------------------------------------------------------------ */

static void encode_both(run *r, const char *lead_id, sizes *s, uint8_t **v1, uint8_t **compact)
{
	uint8_t *a, *b;
	size_t na, nb;
	if (!fd_engine_export(r->e, lead_id, r->st) || fd_wire_encode_lead_state_v1(r->st, &a, &na) != 0 ||
	    fd_wire_encode_lead_state(r->st, &b, &nb) != 0) {
		fprintf(stderr, "%s: cannot export or encode\n", lead_id);
		exit(1);
	}
	s->v1 = grow(s->v1, &s->cap_v1, s->n + 1, sizeof *s->v1);
	s->compact = grow(s->compact, &s->cap_compact, s->n + 1, sizeof *s->compact);
	s->v1[s->n] = na;
	s->compact[s->n++] = nb;
	if (v1)
		*v1 = a;
	else
		free(a);
	if (compact)
		*compact = b;
	else
		free(b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The changelog of one step: each lead that changed, once. */
static void write_changed(run *r)
{
	qsort(r->changed, r->n_changed, sizeof *r->changed, cmp_str);
	for (size_t i = 0; i < r->n_changed; i++) {
		if (i == 0 || strcmp(r->changed[i], r->changed[i - 1]) != 0)
			encode_both(r, r->changed[i], &r->written, NULL, NULL);
	}
	for (size_t i = 0; i < r->n_changed; i++)
		free(r->changed[i]);
	r->n_changed = 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static void print_sizes(const char *what, size_t *v, size_t n)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	qsort(v, n, sizeof *v, cmp_size);
	printf("    %-8s avg %6.1f B  p50 %4zu  p99 %4zu  max %4zu\n", what, sum / (double)n,
	       v[n / 2], v[(size_t)((double)(n - 1) * 0.99)], v[n - 1]);
}

/* ---- rates ------------------------------------------------------------------ */

typedef struct record {
	uint8_t *buf;
	size_t len;
} record;

/* Decode + import of every record into a fresh engine; leads/s. */
static double import_all(const fd_rules *rules, const record *recs, size_t n, fd_lead_state *st,
                         fd_wire_arena *a)
{
	char err[256];
	fd_engine *e = fd_engine_new(rules, n);
	double t0 = bench_seconds();
	for (size_t i = 0; i < n; i++) {
		if (fd_wire_decode_lead_state(recs[i].buf, recs[i].len, a, st, err, sizeof err) != 0 ||
		    fd_engine_import(e, st, err, sizeof err) != FD_OK) {
			fprintf(stderr, "record %zu: %s\n", i, err);
			exit(1);
		}
	}
	double dt = bench_seconds() - t0;
	fd_engine_free(e);
	return (double)n / dt;
}

static double import_rate(const fd_rules *rules, const record *recs, size_t n, fd_lead_state *st,
                          fd_wire_arena *a)
{
	double t0 = bench_seconds(), leads = 0, busy = 0;
	int reps = 0;
	while (reps < 3 || bench_seconds() - t0 < 1.0) {
		double rate = import_all(rules, recs, n, st, a);
		busy += (double)n / rate;
		leads += (double)n;
		reps++;
	}
	return leads / busy;
}

/* Decode alone, repeated to at least a second; leads/s. */
static double decode_rate(const record *recs, size_t n, fd_lead_state *st, fd_wire_arena *a)
{
	char err[256];
	double t0 = bench_seconds(), leads = 0;
	while (leads < 3.0 * (double)n || bench_seconds() - t0 < 1.0) {
		for (size_t i = 0; i < n; i++)
			if (fd_wire_decode_lead_state(recs[i].buf, recs[i].len, a, st, err, sizeof err) != 0)
				exit(1);
		leads += (double)n;
	}
	return leads / (bench_seconds() - t0);
}

typedef int (*encoder)(const fd_lead_state *, uint8_t **, size_t *);

static double encode_rate(fd_engine *e, char **ids, size_t n, fd_lead_state *st, encoder enc)
{
	double t0 = bench_seconds(), leads = 0;
	while (leads < 3.0 * (double)n || bench_seconds() - t0 < 1.0) {
		for (size_t i = 0; i < n; i++) {
			uint8_t *buf;
			size_t len;
			if (!fd_engine_export(e, ids[i], st) || enc(st, &buf, &len) != 0)
				exit(1);
			free(buf);
		}
		leads += (double)n;
	}
	return leads / (bench_seconds() - t0);
}

/* `n` records: the final ones again and again, each under a lead id of
 * its own ("<id>~<copy>"), in the given encoding. */
static record *replicate(run *r, char **ids, size_t n_ids, size_t n, encoder enc)
{
	record *recs = malloc(n * sizeof *recs);
	if (!recs)
		exit(1);
	char id[300];
	for (size_t i = 0; i < n; i++) {
		const char *lead = ids[i % n_ids];
		if (!fd_engine_export(r->e, lead, r->st))
			exit(1);
		snprintf(id, sizeof id, "%s~%zu", lead, i / n_ids);
		r->st->lead_id = id;
		if (enc(r->st, &recs[i].buf, &recs[i].len) != 0)
			exit(1);
	}
	return recs;
}

static void free_records(record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(recs[i].buf);
	free(recs);
}

/* BENCH_STATE_DUMP=DIR: the first final record of each stage, compact, as
 * DIR/compact-<stage> (the fuzz corpus's seeds). */
static void dump_records(run *r, const char *dir, char **ids, const record *recs, size_t n)
{
	bool done[FD_STAGE_COUNT] = { false };
	char err[256];
	for (size_t i = 0; i < n; i++) {
		if (fd_wire_decode_lead_state(recs[i].buf, recs[i].len, r->arena, r->st, err, sizeof err) != 0 ||
		    done[r->st->stage])
			continue;
		done[r->st->stage] = true;
		char path[4096], name[32];
		snprintf(name, sizeof name, "%s", fd_stage_name(r->st->stage));
		for (char *c = name; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		snprintf(path, sizeof path, "%s/compact-%s", dir, name);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(recs[i].buf, 1, recs[i].len, f) != recs[i].len) {
			fprintf(stderr, "%s: cannot write %s\n", ids[i], path);
			exit(1);
		}
		fclose(f);
	}
}

/* ---- the run ---------------------------------------------------------------- */

static void collect(void *ctx, const char *lead_id, int32_t partition)
{
	(void)partition;
	run *r = ctx;
	on_changed(r, lead_id);
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap, const char *group)
{
	char err[512];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
	rd_kafka_conf_set(c, "log_level", "3", err, sizeof err);
	if (group) {
		rd_kafka_conf_set(c, "group.id", group, err, sizeof err);
		rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
		rd_kafka_conf_set(c, "fetch.wait.max.ms", "5", err, sizeof err);
	} else {
		rd_kafka_conf_set(c, "linger.ms", "1", err, sizeof err);
	}
	rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
	if (!rk) {
		fprintf(stderr, "client: %s\n", err);
		exit(1);
	}
	if (group)
		rd_kafka_poll_set_consumer(rk);
	return rk;
}

int main(int argc, char **argv)
{
	int leads = argc > 1 ? atoi(argv[1]) : 2000;
	double days = argc > 2 ? atof(argv[2]) : 7.5;
	size_t restore_leads = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
	uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 42;
	char err[1024];
	fd_log_init(FD_LOG_ERR);
	if (leads < 1 || days <= 0) {
		fprintf(stderr, "usage: bench_state [leads] [days] [restore_leads] [seed]\n");
		return 64;
	}

	/* 1. the demo's actors, the engine, the cluster between them */
	rd_kafka_t *mrk = client(RD_KAFKA_PRODUCER, "", NULL);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
	if (!mc)
		return 1;
	const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
	run r = { 0 };
	r.cfg = calloc(1, sizeof *r.cfg);
	if (fd_config_load_string(r.cfg, "config/funneld.conf", fd_default_config, NULL, 0, err,
	                          sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const fd_topics *t = &r.cfg->settings.topics;
	const char *inputs[IN_KINDS] = { t->engagement, t->profiles, t->activities };
	for (int k = 0; k < IN_KINDS; k++)
		rd_kafka_mock_topic_create(mc, inputs[k], PARTITIONS, 1);
	rd_kafka_mock_topic_create(mc, t->transitions, PARTITIONS, 1);

	r.e = fd_engine_new(&r.cfg->rules, (size_t)leads);
	r.arena = fd_wire_arena_new();
	r.st = malloc(sizeof *r.st);
	r.producer = client(RD_KAFKA_PRODUCER, bootstrap, NULL);
	r.consumer = client(RD_KAFKA_CONSUMER, bootstrap, "bench-state");
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(IN_KINDS * PARTITIONS);
	for (int k = 0; k < IN_KINDS; k++)
		for (int p = 0; p < PARTITIONS; p++)
			rd_kafka_topic_partition_list_add(parts, inputs[k], p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(r.consumer, parts);
	rd_kafka_topic_partition_list_destroy(parts);

	/* the demo's arrival window: 45 % of the run, within 12 h .. 4 d */
	double window = 0.45 * days * (double)FD_MS_DAY;
	window = window < 12.0 * (double)FD_MS_HOUR ? 12.0 * (double)FD_MS_HOUR
	         : window > 4.0 * (double)FD_MS_DAY ? 4.0 * (double)FD_MS_DAY
	                                            : window;
	r.traffic = fd_demo_traffic_new(r.cfg, bootstrap, leads, seed, START_MS, (int64_t)window, err,
	                                sizeof err);
	r.sales = r.traffic ? fd_demo_sales_new(r.cfg, bootstrap, PARTITIONS, leads, seed, err,
	                                        sizeof err)
	                    : NULL;
	if (!r.sales) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fd_sink sink = { .transition = on_transition, .lead_changed = on_changed, .ctx = &r };

	double t_run = bench_seconds();
	int64_t end = START_MS + (int64_t)(days * (double)FD_MS_DAY);
	for (int64_t now = START_MS; now <= end; now += STEP_MS) {
		fd_demo_traffic_tick(r.traffic, now);
		sales_catch_up(&r, now - STEP_MS, now);
		read_inputs(&r);
		qsort(r.in, r.n_in, sizeof *r.in, by_time);
		for (size_t i = 0; i < r.n_in; i++) {
			if (r.in[i].at > 1)
				fd_engine_advance(r.e, r.in[i].at - 1, &sink);
			input(&r, &r.in[i], true, now, &sink);
			rd_kafka_message_destroy(r.in[i].m);
		}
		r.n_in = 0;
		fd_engine_advance(r.e, now, &sink);
		if ((now - START_MS) % COMMIT_MS == 0)
			write_changed(&r);
	}
	write_changed(&r);
	double t_sim = bench_seconds() - t_run;

	/* 2. every lead, once */
	fd_engine_foreach(r.e, -1, collect, &r);
	size_t n = r.n_changed;
	char **ids = r.changed;
	qsort(ids, n, sizeof *ids, cmp_str);
	sizes fin = { 0 };
	record *v1 = malloc(n * sizeof *v1), *compact = malloc(n * sizeof *compact);
	for (size_t i = 0; i < n; i++) {
		encode_both(&r, ids[i], &fin, &v1[i].buf, &compact[i].buf);
		v1[i].len = fin.v1[i];
		compact[i].len = fin.compact[i];
	}
	const char *dump = getenv("BENCH_STATE_DUMP");
	if (dump)
		dump_records(&r, dump, ids, compact, n);
	/* both decode to states that restore the same lead */
	fd_engine *from_v1 = fd_engine_new(&r.cfg->rules, n);
	fd_engine *from_compact = fd_engine_new(&r.cfg->rules, n);
	for (size_t i = 0; i < n; i++) {
		const record *src[2] = { &v1[i], &compact[i] };
		fd_engine *dst[2] = { from_v1, from_compact };
		for (int k = 0; k < 2; k++) {
			uint8_t *again;
			size_t len;
			if (fd_wire_decode_lead_state(src[k]->buf, src[k]->len, r.arena, r.st, err, sizeof err) != 0 ||
			    fd_engine_import(dst[k], r.st, err, sizeof err) != FD_OK ||
			    !fd_engine_export(dst[k], ids[i], r.st) ||
			    fd_wire_encode_lead_state(r.st, &again, &len) != 0) {
				fprintf(stderr, "%s: %s\n", ids[i], err);
				return 1;
			}
			if (len != compact[i].len || memcmp(again, compact[i].buf, len) != 0) {
				fprintf(stderr, "%s: restored from %s, it encodes differently\n", ids[i],
				        k ? "compact" : "v1");
				return 1;
			}
			free(again);
		}
	}
	fd_engine_free(from_v1);
	fd_engine_free(from_compact);

	fd_engine_stats es;
	fd_engine_stats_get(r.e, &es);
	printf("state benchmark: shipped config, demo traffic and sales team, %d leads, %.1f virtual "
	       "days (seed %llu, %.1f s)\n", leads, days, (unsigned long long)seed, t_sim);
	printf("  applied %llu events, %llu profiles, %llu activities (%llu refused); %llu transitions; "
	       "%zu leads\n",
	       (unsigned long long)r.applied[IN_ENGAGEMENT], (unsigned long long)r.applied[IN_PROFILE],
	       (unsigned long long)r.applied[IN_ACTIVITY], (unsigned long long)r.refused,
	       (unsigned long long)r.transitions_sent, n);
	printf("  per stage:");
	for (int s = 0; s < FD_STAGE_COUNT; s++)
		printf(" %s %llu", fd_stage_name((fd_stage)s), (unsigned long long)es.per_stage[s]);
	printf("\n  LeadState record, final state of every lead (%zu records):\n", n);
	print_sizes("v1", fin.v1, fin.n);
	print_sizes("compact", fin.compact, fin.n);
	printf("  LeadState record, as written (each lead that changed in a %lld-hour commit interval, "
	       "%zu records):\n", (long long)(COMMIT_MS / FD_MS_HOUR), r.written.n);
	print_sizes("v1", r.written.v1, r.written.n);
	print_sizes("compact", r.written.compact, r.written.n);

	/* 3. rates */
	fd_wire_arena *a = r.arena;
	printf("  export + encode: v1 %.0f leads/s, compact %.0f leads/s\n",
	       encode_rate(r.e, ids, n, r.st, fd_wire_encode_lead_state_v1),
	       encode_rate(r.e, ids, n, r.st, fd_wire_encode_lead_state));
	printf("  decode alone: v1 %.0f leads/s, compact %.0f leads/s\n", decode_rate(v1, n, r.st, a),
	       decode_rate(compact, n, r.st, a));
	printf("  decode + import, %zu leads into a fresh engine, repeated: v1 %.0f leads/s, "
	       "compact %.0f leads/s\n", n, import_rate(&r.cfg->rules, v1, n, r.st, a),
	       import_rate(&r.cfg->rules, compact, n, r.st, a));
	if (restore_leads > 0) {
		record *big = replicate(&r, ids, n, restore_leads, fd_wire_encode_lead_state);
		double rc = import_all(&r.cfg->rules, big, restore_leads, r.st, a);
		free_records(big, restore_leads);
		big = replicate(&r, ids, n, restore_leads, fd_wire_encode_lead_state_v1);
		double rv = import_all(&r.cfg->rules, big, restore_leads, r.st, a);
		free_records(big, restore_leads);
		printf("  decode + import, %zu leads into one fresh engine: v1 %.0f leads/s, compact %.0f "
		       "leads/s\n", restore_leads, rv, rc);
	}

	free_records(v1, n);
	free_records(compact, n);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(fin.v1);
	free(fin.compact);
	free(r.written.v1);
	free(r.written.compact);
	free(r.in);
	free(r.st);
	fd_demo_sales_free(r.sales, 1000);
	fd_demo_traffic_free(r.traffic, 1000);
	rd_kafka_consumer_close(r.consumer);
	rd_kafka_destroy(r.consumer);
	rd_kafka_flush(r.producer, 1000);
	rd_kafka_destroy(r.producer);
	fd_wire_arena_free(r.arena);
	fd_engine_free(r.e);
	fd_config_free(r.cfg);
	free(r.cfg);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mrk);
	return 0;
}
