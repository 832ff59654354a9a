/*
 * test_epochs.c — input offsets become committable only when every output of
 * their epoch, and of every epoch before, is acknowledged.
 */
#include <criterion/criterion.h>

#include "kafka/epochs.h"

static fd_epochs *ep;

static void setup(void)
{
	ep = fd_epochs_new();
	cr_assert_not_null(ep);
}

static void teardown(void)
{
	fd_epochs_free(ep);
}

TestSuite(epochs, .init = setup, .fini = teardown);

/* Release every epoch that is ready (no deferred records in these tests). */
static void release_ready(void)
{
	uint64_t id;
	while ((id = fd_epochs_deferred_ready(ep)) != 0)
		fd_epochs_released(ep, id);
}

static int64_t offset_of(const fd_position *p, size_t n, int topic, int32_t partition)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].topic == topic && p[i].partition == partition)
			return p[i].offset;
	return -1;
}

Test(epochs, nothing_is_committable_before_the_epoch_closes)
{
	const fd_position *p;
	fd_epochs_input(ep, 0, 0, 41);
	cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 0);
}

Test(epochs, closed_epoch_without_outputs_commits_next_offsets)
{
	const fd_position *p;
	fd_epochs_input(ep, 0, 0, 41);
	fd_epochs_input(ep, 0, 0, 42);
	fd_epochs_input(ep, 2, 1, 7);
	fd_epochs_close(ep);
	size_t n = (release_ready(), fd_epochs_committable(ep, &p));
	cr_assert_eq(n, 2);
	cr_assert_eq(offset_of(p, n, 0, 0), 43);
	cr_assert_eq(offset_of(p, n, 2, 1), 8);
	cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 0);
}

Test(epochs, offsets_wait_for_every_output_of_their_epoch)
{
	const fd_position *p;
	fd_epochs_input(ep, 0, 0, 10);
	uint64_t a = fd_epochs_output(ep);
	uint64_t b = fd_epochs_output(ep);
	cr_assert_eq(a, b);
	fd_epochs_close(ep);
	cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 0);
	fd_epochs_ack(ep, a);
	cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 0);
	cr_assert_eq(fd_epochs_pending(ep), 1);
	fd_epochs_ack(ep, b);
	cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 1);
	cr_assert_eq(p[0].offset, 11);
	cr_assert_eq(fd_epochs_pending(ep), 0);
}

Test(epochs, a_later_epoch_never_commits_past_an_unacknowledged_earlier_one)
{
	const fd_position *p;
	fd_epochs_input(ep, 0, 0, 1);
	uint64_t first = fd_epochs_output(ep);
	fd_epochs_close(ep);
	fd_epochs_input(ep, 0, 0, 2);
	uint64_t second = fd_epochs_output(ep);
	fd_epochs_close(ep);
	cr_assert_neq(first, second);
	fd_epochs_ack(ep, second);
	cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 0);
	fd_epochs_ack(ep, first);
	size_t n = (release_ready(), fd_epochs_committable(ep, &p));
	cr_assert_eq(n, 1);
	cr_assert_eq(p[0].offset, 3); /* both epochs done: the newer snapshot */
}

Test(epochs, open_epoch_outputs_do_not_block_closed_ones)
{
	const fd_position *p;
	fd_epochs_input(ep, 1, 3, 5);
	fd_epochs_close(ep);
	fd_epochs_input(ep, 1, 3, 6);
	(void)fd_epochs_output(ep); /* open epoch, unacknowledged */
	size_t n = (release_ready(), fd_epochs_committable(ep, &p));
	cr_assert_eq(n, 1);
	cr_assert_eq(p[0].offset, 6);
}

Test(epochs, forgotten_partitions_leave_every_snapshot)
{
	const fd_position *p;
	fd_epochs_input(ep, 0, 0, 5);
	fd_epochs_input(ep, 0, 1, 9);
	fd_epochs_close(ep);
	fd_epochs_forget(ep, 0, 1);
	size_t n = (release_ready(), fd_epochs_committable(ep, &p));
	cr_assert_eq(n, 1);
	cr_assert_eq(offset_of(p, n, 0, 1), -1);
	cr_assert_eq(offset_of(p, n, 0, 0), 6);
}

Test(epochs, many_epochs_in_flight_are_released_in_order)
{
	const fd_position *p;
	uint64_t tok[100];
	for (int i = 0; i < 100; i++) {
		fd_epochs_input(ep, 0, 0, i);
		tok[i] = fd_epochs_output(ep);
		fd_epochs_close(ep);
	}
	for (int i = 99; i >= 50; i--)
		fd_epochs_ack(ep, tok[i]);
	cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 0);
	for (int i = 0; i < 50; i++) {
		fd_epochs_ack(ep, tok[i]);
		if (i < 49)
			cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 1);
	}
	cr_assert_eq((release_ready(), fd_epochs_committable(ep, &p)), 1);
	cr_assert_eq(p[0].offset, 100);
}

Test(epochs, deferred_records_wait_for_the_epoch_outputs_and_gate_the_commit)
{
	const fd_position *p;
	fd_epochs_input(ep, 0, 0, 1);
	uint64_t out = fd_epochs_output(ep);
	uint64_t id = fd_epochs_close(ep);
	cr_assert_neq(id, 0);
	cr_assert_eq(fd_epochs_deferred_ready(ep), 0); /* an output is in flight */
	fd_epochs_ack(ep, out);
	cr_assert_eq(fd_epochs_deferred_ready(ep), id);
	uint64_t cl = fd_epochs_output_to(ep, id); /* the changelog record */
	fd_epochs_released(ep, id);
	cr_assert_eq(fd_epochs_deferred_ready(ep), 0);
	cr_assert_eq(fd_epochs_committable(ep, &p), 0);
	fd_epochs_ack(ep, cl);
	cr_assert_eq(fd_epochs_committable(ep, &p), 1);
	cr_assert_eq(p[0].offset, 2);
}

Test(epochs, deferred_records_are_released_in_epoch_order)
{
	uint64_t o1 = fd_epochs_output(ep);
	uint64_t e1 = fd_epochs_close(ep);
	uint64_t e2 = fd_epochs_close(ep); /* nothing in flight */
	cr_assert_eq(fd_epochs_deferred_ready(ep), 0); /* e2 waits behind e1 */
	fd_epochs_ack(ep, o1);
	cr_assert_eq(fd_epochs_deferred_ready(ep), e1);
	fd_epochs_released(ep, e1);
	cr_assert_eq(fd_epochs_deferred_ready(ep), e2);
}

/* What the daemon bounds during an outage: closed epochs waiting for their
 * outputs, counted until they commit. */
Test(epochs, closed_epochs_are_counted_until_committed)
{
	uint64_t tok[3];
	for (int i = 0; i < 3; i++) {
		fd_epochs_input(ep, 0, 0, i);
		tok[i] = fd_epochs_output(ep);
		fd_epochs_close(ep);
		cr_assert_eq(fd_epochs_closed(ep), (size_t)i + 1);
	}
	const fd_position *pos;
	fd_epochs_ack(ep, tok[1]);
	release_ready();
	cr_assert_eq(fd_epochs_committable(ep, &pos), 0, "epoch 2 committed before epoch 1");
	cr_assert_eq(fd_epochs_closed(ep), 3);
	fd_epochs_ack(ep, tok[0]);
	fd_epochs_ack(ep, tok[2]);
	release_ready();
	cr_assert_gt(fd_epochs_committable(ep, &pos), 0);
	cr_assert_eq(fd_epochs_closed(ep), 0);
}
