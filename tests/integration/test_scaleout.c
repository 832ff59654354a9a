/*
 * test_scaleout.c — the consumer group grows from one instance to three
 * and shrinks back to one during a run, one instance dying by kill -9 on
 * the way: the result is that of a single uninterrupted instance, and no
 * partition (so no lead) is ever owned by two instances at once.
 *
 * The scripted scenario of durability.h (the crash test's), on six
 * partitions, runs twice on one dev-broker, each run on a topic set and
 * consumer group of its own:
 *
 *   reference  one daemon, never interrupted;
 *   scaled     A alone for the first half of phase 0; B joins while the
 *              rest of phase 0 arrives (1 -> 2); C joins during phase 1
 *              (2 -> 3); B is killed -9 right after the last third of
 *              phase 1 was produced (3 -> 2, its partitions move once its
 *              session times out); C is stopped with SIGTERM during phase 2
 *              (2 -> 1); A finishes and is stopped with SIGTERM.
 *
 * Phases are separated by a barrier (every input committed), as in the
 * crash test. Partitions and their leads move with cooperative-sticky
 * rebalances: the instance giving a partition up drains and drops it, the
 * one receiving it restores it from the changelog first.
 *
 * Verified: the same comparison as the crash test (transitions, SLA
 * events, dead letters by id with byte-identical copies; last LeadScore
 * and last changelog record per lead), and exclusive ownership, read from
 * the instances' logs: a partition is owned from its "assigned:" line to
 * the "partition N: ... dropped from memory" line that ends its revoke (or
 * lost) handling, or to the instance's exit (kill -9: the moment it was
 * reaped); no two such intervals of one partition overlap, and every
 * partition had an owner. Each instance actually owned partitions at some
 * point (the group really grew to three).
 *
 * Not verified: which partitions each instance gets (the assignor's
 * business), how many duplicates a rebalance causes.
 */
#include "harness.h"
#include "durability.h"

#include <inttypes.h>

#define PARTITIONS 6

static void init(void)
{
	it_setup(PARTITIONS);
	it_override("processing.commit_interval=150ms");
	it_override("kafka.session.timeout.ms=4000");
	it_override("kafka.heartbeat.interval.ms=1000");
	it_override("lifecycle.nurture.review_days=3650");
	it_override("state.lead_ttl=0");
}

TestSuite(scaleout, .init = init, .fini = dur_teardown, .timeout = 300);

/* Instances of `procs` that own at least one partition now (per their logs). */
static int owners_now(dur_proc *const *procs, size_t n, const char *topic)
{
	int owners = 0;
	for (size_t i = 0; i < n; i++) {
		if (procs[i]->reaped)
			continue;
		dur_owned own[256];
		size_t k = dur_ownership(procs[i], (int)i, topic, own, 256);
		bool open = false;
		for (size_t j = 0; j < k; j++)
			open |= own[j].to == INT64_MAX;
		owners += open;
	}
	return owners;
}

/* Wait until `want` instances own partitions and each has restored what it
 * owns. */
static void wait_owners(dur_set *s, dur_proc *const *procs, size_t n, int want, const char *when)
{
	int64_t deadline = dur_mono_ms() + 45000;
	for (;;) {
		dur_check_alive();
		bool restored = true;
		for (size_t i = 0; i < n; i++)
			if (!procs[i]->reaped && !dur_restored_all(procs[i], s->in[0]))
				restored = false;
		int owners = owners_now(procs, n, s->in[0]);
		if (owners == want && restored)
			return;
		cr_assert(dur_mono_ms() < deadline, "%s: %d instance(s) own partitions (want %d)%s after "
		          "45 s", when, owners, want, restored ? "" : ", some not restored");
		dur_sleep_ms(50);
	}
}

static size_t slice_at(const dur_script *sc, int phase, int num, int den)
{
	size_t a = dur_phase_start(sc, phase), b = dur_phase_start(sc, phase + 1);
	return a + (b - a) * (size_t)num / (size_t)den;
}

Test(scaleout, grow_to_three_and_back_with_a_kill9_equals_single_instance_run)
{
	uint64_t seed = dur_seed("scaleout");
	uint64_t rng = seed ^ 0x5ca1e;
	dur_script sc = { 0 };
	dur_scenario_size size = { .mixed = 60, .old = 240, .orphans = 12 };
	dur_scenario(&sc, seed, PARTITIONS, size, dur_recent_base());
	dur_trace("scaleout: script of %zu records in %d phases", sc.n, sc.phases);

	dur_set ref, run;
	dur_set_init(&ref, "ref");
	dur_set_init(&run, "scaled");
	dur_check_config(dur_set_args(&ref, NULL));
	dur_reader *want = dur_reference_run(&ref, &sc, "scaleout");

	int64_t t0 = dur_mono_ms();
	dur_proc *procs[3];
	size_t n = 0;
	const char *const *args = dur_set_args(&run, NULL);

	/* 1: A alone */
	dur_proc *a = procs[n++] = dur_daemon("instance-a", args);
	wait_owners(&run, procs, n, 1, "A alone");
	dur_produce(&run, &sc, 0, slice_at(&sc, 0, 1, 2));

	/* 1 -> 2 while the rest of phase 0 arrives */
	dur_proc *b = procs[n++] = dur_daemon("instance-b", dur_set_args(&run, NULL));
	dur_produce(&run, &sc, slice_at(&sc, 0, 1, 2), dur_phase_start(&sc, 1));
	wait_owners(&run, procs, n, 2, "after B joined");
	dur_barrier(&run, NULL, 60000, "end of phase 0");
	dur_trace("scaleout: two instances at +%" PRId64 " ms", dur_mono_ms() - t0);

	/* 2 -> 3 during phase 1 */
	dur_produce(&run, &sc, dur_phase_start(&sc, 1), slice_at(&sc, 1, 1, 3));
	dur_proc *c = procs[n++] = dur_daemon("instance-c", dur_set_args(&run, NULL));
	dur_produce(&run, &sc, slice_at(&sc, 1, 1, 3), slice_at(&sc, 1, 2, 3));
	wait_owners(&run, procs, n, 3, "after C joined");
	dur_trace("scaleout: three instances at +%" PRId64 " ms", dur_mono_ms() - t0);

	/* 3 -> 2: B killed -9 while the last third of phase 1 is processed */
	dur_produce(&run, &sc, slice_at(&sc, 1, 2, 3), dur_phase_start(&sc, 2));
	dur_sleep_ms(dur_rand_range(&rng, 0, 600)); /* the kill point */
	dur_kill9(b);
	dur_trace("scaleout: B killed -9 at +%" PRId64 " ms", dur_mono_ms() - t0);
	wait_owners(&run, procs, n, 2, "after B was killed");
	dur_barrier(&run, NULL, 60000, "end of phase 1");

	/* 2 -> 1: C leaves (SIGTERM) during phase 2 */
	dur_produce(&run, &sc, dur_phase_start(&sc, 2), slice_at(&sc, 2, 1, 2));
	dur_stop_clean(c, IT_WAIT_MS);
	dur_trace("scaleout: C stopped at +%" PRId64 " ms", dur_mono_ms() - t0);
	dur_produce(&run, &sc, slice_at(&sc, 2, 1, 2), sc.n);
	wait_owners(&run, procs, n, 1, "after C left");
	dur_barrier(&run, a, 60000, "end of phase 2");
	dur_stop_clean(a, IT_WAIT_MS);
	dur_trace("scaleout: scaled run done in %" PRId64 " ms", dur_mono_ms() - t0);

	dur_assert_exclusive_ownership(procs, n, run.in[0], PARTITIONS);
	for (size_t i = 0; i < n; i++) {
		dur_owned own[256];
		cr_assert_gt(dur_ownership(procs[i], (int)i, run.in[0], own, 256), 0,
		             "%s never owned a partition", procs[i]->name);
	}

	dur_reader *got = dur_reader_open(&run);
	dur_reader_catch_up(got, IT_WAIT_MS);
	dur_compare(want, got, "scaled run");

	dur_reader_close(got);
	dur_reader_close(want);
	dur_set_free(&ref);
	dur_set_free(&run);
	dur_script_free(&sc);
}
