/*
 * test_crash.c — kill -9 at random points of a scripted run, restart, let
 * it finish: the result is that of a run nobody interrupted.
 *
 * Two runs of the same scripted scenario (durability.h: three phases of
 * profiles, engagement and sales activities over ~400 leads, with
 * duplicates, late events, refused activities and undecodable records) on
 * one dev-broker, each on a topic set and consumer group of its own, so
 * both see identical records at identical offsets:
 *
 *   reference  one daemon, never interrupted;
 *   crashed    DUR_KILLS kill -9 at random points; after each, a new
 *              daemon in the same group at once. Each incarnation, once it
 *              has restored its partitions, gets the next slice of the
 *              script and is killed, by a draw from the seed, either
 *                - a random 0-5 s after its start (during start-up, the
 *                  group join, the restore, or idle), or
 *                - a random 0-1.5 s after its slice was produced (before
 *                  the fetch, mid-processing, between commits: the commit
 *                  interval is 150 ms), or
 *                - a random 0-300 ms after the first outputs of its slice
 *                  appeared (outputs out, state and offsets not yet).
 *              After the last kill the script is finished by the last
 *              incarnation, which is then stopped with SIGTERM.
 *
 * Between phases both runs wait until every input is committed (a lead's
 * inputs on different topics would otherwise be applied in an order that
 * depends on fetch timing, and the comparison would test the consumer,
 * not durability).
 *
 * Verified: every transition, SLA event and dead letter of the reference
 * run is in the crashed run and nothing else (by ce_id; dead letters by
 * input topic, partition and offset); every copy of one id is
 * byte-identical (key, value, headers), within the crashed run and with
 * the reference; the last LeadScore of every lead is identical; the last
 * changelog record of every lead (its final state, decoded by the
 * comparison on failure) is identical; the last checkpoint of every
 * partition has the same stream time (under exactly_once: the same bytes,
 * funnel counters included); every input offset ends up committed. The
 * shipped state.lead_ttl (180 d) applies: the old leads' history is older
 * than that, so the reference run evicts leads (at least one tombstone
 * required) and the crashed run must evict the same. The kill points come from a seed printed at the start
 * (FUNNELD_TEST_SEED reproduces the script and the kill schedule; the
 * exact instant a kill lands still depends on scheduling).
 *
 * Not verified: how many copies a crash causes (at-least-once allows
 * any), intermediate LeadScores (their number depends on commit timing).
 *
 * On a real broker (FUNNELD_IT_BROKER=kafka) the same scenario runs again
 * under exactly_once, where a read_committed reader must see no duplicate
 * at all: aborted transactions invisible, each output exactly once.
 *
 * persisted_state_does_not_depend_on_commit_timing pins, without a crash,
 * the one difference the comparison has found so far (see its comment).
 */
#include "harness.h"
#include "durability.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "funneld/wire.h"

#define PARTITIONS 3
#define DUR_KILLS 20

static void init(void)
{
	it_setup(PARTITIONS);
	it_override("processing.commit_interval=150ms");
	/* librdkafka 2.0.2's mock keeps a killed member in the group until its
	 * session times out: a short session keeps each restart short (about
	 * 4-5 s). Not below 4 s: the mock holds the first join of a group for
	 * 3 s and drops a member whose session ran out meanwhile (with 2 s no
	 * daemon ever gets an assignment). */
	it_override("kafka.session.timeout.ms=4000");
	it_override("kafka.heartbeat.interval.ms=1000");
	it_override("lifecycle.nurture.review_days=3650");
	/* state.lead_ttl stays the shipped 180 d: the old leads' history
	 * (January 2026) is older than that, and their partitions' stream time
	 * moves past it with the recent leads' inputs, so leads are evicted,
	 * and met again as new, during the runs (issue 11: the outcome must
	 * not depend on where a commit or a crash fell) */
}

TestSuite(crash, .init = init, .fini = dur_teardown, .timeout = 480);

/* The scenario, the reference run, DUR_KILLS kill -9 and the comparison.
 * exactly_once (`eos`): both runs commit in transactions, and the crashed
 * run must show no duplicate at all to a read_committed reader (aborted
 * transactions invisible), not merely byte-identical copies. */
static void crash_run(bool eos)
{
	if (eos)
		it_override("processing.guarantee=exactly_once");
	uint64_t seed = dur_seed("crash");
	uint64_t rng = seed;
	dur_script sc = { 0 };
	dur_scenario_size size = { .mixed = 60, .old = 240, .orphans = 12 };
	dur_scenario(&sc, seed, PARTITIONS, size, dur_recent_base());
	dur_trace("crash: script of %zu records in %d phases", sc.n, sc.phases);

	dur_set ref, run;
	dur_set_init(&ref, "ref");
	dur_set_init(&run, "crashed");
	dur_check_config(dur_set_args(&ref, NULL));
	dur_reader *want = dur_reference_run(&ref, &sc, "crash");

	/* ---- the crashed run ---- */
	enum { AT_START, AFTER_FEED, IN_OUTPUT, MODES };
	static const char *const mode_name[MODES] = { "a random time after its start",
		                                          "a random time after its slice was produced",
		                                          "just after its first outputs" };
	int per_mode[MODES] = { 0 };
	const size_t slice = sc.n / (DUR_KILLS * 2 / 3) + 1;
	size_t next = 0;
	int allowed_phase = 0, kills = 0, incarnation = 0;
	int64_t t_run = dur_mono_ms();
	dur_reader *got = dur_reader_open(&run); /* watches for outputs while it runs */
	char name[32];
	dur_proc *cur = NULL;
	bool fed = false;          /* this incarnation got its slice */
	int mode = AT_START;
	int64_t kill_at = -1, fed_at = 0, last_barrier_check = 0;
	size_t outputs_at_feed = 0;
	bool barrier_ok = false;

	for (;;) {
		int64_t now = dur_mono_ms();
		if (!cur || (kills < DUR_KILLS && kill_at >= 0 && now >= kill_at)) {
			if (cur) {
				bool restored = dur_restored_all(cur, run.in[0]);
				int64_t since_start = it_now_ms() - cur->start_ms;
				dur_kill9(cur);
				kills++;
				per_mode[mode]++;
				dur_trace("crash: kill %d: %s at %s: %" PRId64 " ms after its start, %s, %s "
				          "(%zu of %zu records produced, phase %d)", kills, cur->name,
				          mode_name[mode], since_start, restored ? "restored" : "not restored",
				          fed ? "slice produced" : "no slice", next, sc.n, allowed_phase);
				if (fed)
					dur_trace("crash:   ... %" PRId64 " ms after the slice was produced, %zu "
					          "outputs read since", now - fed_at, dur_reader_count(got) -
					          outputs_at_feed);
			}
			snprintf(name, sizeof name, "crashed-%d", ++incarnation);
			cur = dur_daemon(name, dur_set_args(&run, NULL));
			fed = false;
			barrier_ok = false;
			int x = dur_rand_range(&rng, 0, 99);
			mode = x < 30 ? AT_START : x < 60 ? AFTER_FEED : IN_OUTPUT;
			kill_at = mode == AT_START ? dur_mono_ms() + dur_rand_range(&rng, 0, 5000) : -1;
			continue;
		}
		dur_assert_alive(cur, "during the crash run");
		cr_assert(now - t_run < 360000, "crash run not finished after 360 s (%d kills, %zu of %zu "
		          "records produced)", kills, next, sc.n);
		dur_reader_poll(got, 0);

		bool last = kills == DUR_KILLS;
		if (next < sc.n && (!fed || last) && dur_restored_all(cur, run.in[0])) {
			int ph = sc.recs[next].phase;
			if (ph > allowed_phase && !barrier_ok && now - last_barrier_check >= 100) {
				char diag[1024];
				last_barrier_check = now;
				barrier_ok = dur_committed_at_end(&run, diag, sizeof diag);
			}
			if (ph > allowed_phase && barrier_ok) {
				allowed_phase = ph;
				barrier_ok = false;
			}
			if (ph <= allowed_phase) {
				size_t end = dur_phase_start(&sc, ph + 1);
				size_t to = last ? end : (next + slice < end ? next + slice : end);
				outputs_at_feed = dur_reader_count(got);
				dur_produce(&run, &sc, next, to);
				next = to;
				fed = true;
				fed_at = dur_mono_ms();
				if (mode == AFTER_FEED && !last)
					kill_at = fed_at + dur_rand_range(&rng, 0, 1500);
			}
		} else if (!last && mode != AT_START && kill_at < 0 && next == sc.n &&
		           dur_restored_all(cur, run.in[0])) {
			/* nothing left to feed: kill it a while after it restored */
			kill_at = now + dur_rand_range(&rng, 0, 1500);
		}
		if (!last && mode == IN_OUTPUT && fed && kill_at < 0) {
			if (dur_reader_count(got) > outputs_at_feed)
				kill_at = now + dur_rand_range(&rng, 0, 300);
			else if (now - fed_at > 3000)
				kill_at = now; /* no output at all: kill anyway */
		}
		if (last && next == sc.n)
			break;
		dur_sleep_ms(5);
	}
	/* the last incarnation restores and finishes the job */
	dur_wait_restored(&run, cur, 60000);
	dur_barrier(&run, cur, 60000, "after the last kill");
	dur_stop_clean(cur, IT_WAIT_MS);
	dur_trace("crash: %d kills (%d %s, %d %s, %d %s) in %" PRId64 " ms", kills, per_mode[0],
	          mode_name[0], per_mode[1], mode_name[1], per_mode[2], mode_name[2],
	          dur_mono_ms() - t_run);

	dur_reader_catch_up(got, IT_WAIT_MS);
	/* exactly_once: the partitions' checkpoints (stream time and funnel
	 * counters) commit with the leads: the same bytes as the reference */
	dur_compare_checkpoints_exactly(eos);
	dur_summary sum = dur_compare(want, got, "crashed run");
	cr_assert_eq(kills, DUR_KILLS);
	/* under the shipped lead_ttl the old leads were evicted as their
	 * partitions' stream time passed them: the comparison covers it */
	size_t tombstones = 0;
	for (size_t i = 0; i < dur_count(want, DUR_OUT_CHANGELOG, NULL); i++)
		tombstones += dur_nth(want, DUR_OUT_CHANGELOG, NULL, i)->value == NULL;
	dur_trace("crash: the reference run evicted %zu leads (tombstones)", tombstones);
	cr_assert_gt(tombstones, 0, "no lead was evicted: the scenario does not test the TTL");
	cr_assert_gt(sum.ids[DUR_OUT_TRANSITIONS], 100, "the scenario made only %zu transitions",
	             sum.ids[DUR_OUT_TRANSITIONS]);
	cr_assert_gt(sum.ids[DUR_OUT_SLA], 100, "the scenario made only %zu SLA events",
	             sum.ids[DUR_OUT_SLA]);
	cr_assert_gt(sum.ids[DUR_OUT_DEAD_LETTERS], 10, "the scenario made only %zu dead letters",
	             sum.ids[DUR_OUT_DEAD_LETTERS]);
	if (eos) {
		cr_assert_eq(sum.copies[DUR_OUT_TRANSITIONS], 0, "%zu duplicate transitions under "
		             "exactly_once", sum.copies[DUR_OUT_TRANSITIONS]);
		cr_assert_eq(sum.copies[DUR_OUT_SLA], 0, "%zu duplicate SLA events under exactly_once",
		             sum.copies[DUR_OUT_SLA]);
		cr_assert_eq(sum.copies[DUR_OUT_DEAD_LETTERS], 0, "%zu duplicate dead letters under "
		             "exactly_once", sum.copies[DUR_OUT_DEAD_LETTERS]);
		dur_trace("crash: exactly_once: 0 duplicates over %d kills (%zu transitions, %zu SLA "
		          "events, %zu dead letters)", kills, sum.ids[DUR_OUT_TRANSITIONS],
		          sum.ids[DUR_OUT_SLA], sum.ids[DUR_OUT_DEAD_LETTERS]);
	}

	dur_reader_close(got);
	dur_reader_close(want);
	dur_set_free(&ref);
	dur_set_free(&run);
	dur_script_free(&sc);
}

Test(crash, kill9_at_random_points_then_restart_equals_uninterrupted_run)
{
	crash_run(false);
}

/* Only a real broker can show it: the mock stores no transactional offsets
 * and shows aborted records to read_committed consumers (DESIGN section 9). */
Test(crash, exactly_once_kill9_at_random_points_shows_every_output_exactly_once)
{
	if (!it_real_broker())
		cr_skip_test("needs a real broker (FUNNELD_IT_BROKER=kafka)");
	crash_run(true);
}

/* The last applied input of a lead, per its last changelog record (-1:
 * none). */
static int64_t applied(const dur_reader *r, const char *lead, int kind)
{
	size_t n = dur_count(r, DUR_OUT_CHANGELOG, lead);
	cr_assert_gt(n, 0, "no changelog record for %s", lead);
	const dur_msg *m = dur_nth(r, DUR_OUT_CHANGELOG, lead, n - 1);
	cr_assert_not_null(m->value, "%s: tombstone", lead);
	fd_wire_arena *a = fd_wire_arena_new();
	fd_lead_state s;
	char err[256];
	cr_assert_eq(fd_wire_decode_lead_state(m->value, m->len, a, &s, err, sizeof err), 0,
	             "%s: %s", lead, err);
	int64_t off = s.positions[kind] ? s.positions[kind] : -1;
	fd_wire_arena_free(a);
	return off;
}

/* The crash test's comparison fails now and then (seed 249893183 fails
 * every time) on a lead whose LAST input is a duplicate: the engine notes
 * a duplicate event's (or a stale profile's) position in the lead's state
 * but does not report the lead as changed, so the changelog keeps the
 * previous position when the duplicate arrives after the tick that wrote
 * the lead, and the final state depends on commit timing. This pins it
 * without a crash: the same two inputs, once in one batch (partition 1)
 * and once with a commit in between (partition 0), must leave the same
 * persisted state (here: the same applied position). */
Test(crash, persisted_state_does_not_depend_on_commit_timing)
{
	dur_set s;
	dur_set_init(&s, NULL);
	dur_check_config(dur_set_args(&s, NULL));
	dur_proc *d = dur_daemon("daemon", dur_set_args(&s, NULL));
	dur_wait_restored(&s, d, IT_WAIT_MS);
	dur_script sc = { 0 };
	/* together: both inputs in one batch */
	dur_add_event(&sc, 0, 1, "dup-together", "ev-dup", IT_T0, "page_view", "blog-kafka", "web");
	dur_add_event(&sc, 0, 1, "dup-together", "ev-dup", IT_T0, "page_view", "blog-kafka", "web");
	dur_add_profile(&sc, 0, 1, "stale-together", IT_T0, 0, "website", "");
	dur_add_profile(&sc, 0, 1, "stale-together", IT_T0 - FD_MS_HOUR, 1, "website", "");
	/* apart: the second input after the first was committed */
	dur_add_event(&sc, 0, 0, "dup-apart", "ev-dup", IT_T0, "page_view", "blog-kafka", "web");
	dur_add_profile(&sc, 0, 0, "stale-apart", IT_T0, 0, "website", "");
	dur_add_event(&sc, 1, 0, "dup-apart", "ev-dup", IT_T0, "page_view", "blog-kafka", "web");
	dur_add_profile(&sc, 1, 0, "stale-apart", IT_T0 - FD_MS_HOUR, 1, "website", "");
	for (int ph = 0; ph < sc.phases; ph++) {
		dur_produce(&s, &sc, dur_phase_start(&sc, ph), dur_phase_start(&sc, ph + 1));
		dur_barrier(&s, d, IT_WAIT_MS, "input by input");
	}
	dur_stop_clean(d, IT_WAIT_MS);
	dur_reader *r = dur_reader_open(&s);
	dur_reader_catch_up(r, IT_WAIT_MS);
	/* each lead's two inputs are offsets 0 and 1 of its partition */
	int64_t dup_together = applied(r, "dup-together", FD_INPUT_ENGAGEMENT);
	int64_t dup_apart = applied(r, "dup-apart", FD_INPUT_ENGAGEMENT);
	int64_t stale_together = applied(r, "stale-together", FD_INPUT_PROFILE);
	int64_t stale_apart = applied(r, "stale-apart", FD_INPUT_PROFILE);
	dur_trace("crash: persisted positions after the same two inputs: duplicate event %" PRId64
	          " (one batch) vs %" PRId64 " (a commit between); stale profile %" PRId64 " vs %"
	          PRId64, dup_together, dup_apart, stale_together, stale_apart);
	cr_assert_eq(dup_together, dup_apart,
	             "a duplicate event leaves engagement applied up to position %" PRId64 " in the "
	             "changelog when it comes in the same batch as the original, %" PRId64 " when a "
	             "commit comes between: the persisted state depends on commit timing",
	             dup_together, dup_apart);
	cr_assert_eq(stale_together, stale_apart,
	             "a stale profile leaves profile applied up to position %" PRId64 " in the "
	             "changelog when it comes in the same batch as the newer one, %" PRId64 " when a "
	             "commit comes between: the persisted state depends on commit timing",
	             stale_together, stale_apart);
	dur_reader_close(r);
	dur_script_free(&sc);
	dur_set_free(&s);
}
