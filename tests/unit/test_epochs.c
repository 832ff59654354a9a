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
	cr_assert_eq(fd_epochs_committable(ep, &p), 0);
}

Test(epochs, closed_epoch_without_outputs_commits_next_offsets)
{
	const fd_position *p;
	fd_epochs_input(ep, 0, 0, 41);
	fd_epochs_input(ep, 0, 0, 42);
	fd_epochs_input(ep, 2, 1, 7);
	fd_epochs_close(ep);
	size_t n = fd_epochs_committable(ep, &p);
	cr_assert_eq(n, 2);
	cr_assert_eq(offset_of(p, n, 0, 0), 43);
	cr_assert_eq(offset_of(p, n, 2, 1), 8);
	cr_assert_eq(fd_epochs_committable(ep, &p), 0);
}

Test(epochs, offsets_wait_for_every_output_of_their_epoch)
{
	const fd_position *p;
	fd_epochs_input(ep, 0, 0, 10);
	uint64_t a = fd_epochs_output(ep);
	uint64_t b = fd_epochs_output(ep);
	cr_assert_eq(a, b);
	fd_epochs_close(ep);
	cr_assert_eq(fd_epochs_committable(ep, &p), 0);
	fd_epochs_ack(ep, a);
	cr_assert_eq(fd_epochs_committable(ep, &p), 0);
	cr_assert_eq(fd_epochs_pending(ep), 1);
	fd_epochs_ack(ep, b);
	cr_assert_eq(fd_epochs_committable(ep, &p), 1);
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
	cr_assert_eq(fd_epochs_committable(ep, &p), 0);
	fd_epochs_ack(ep, first);
	size_t n = fd_epochs_committable(ep, &p);
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
	size_t n = fd_epochs_committable(ep, &p);
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
	size_t n = fd_epochs_committable(ep, &p);
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
	cr_assert_eq(fd_epochs_committable(ep, &p), 0);
	for (int i = 0; i < 50; i++) {
		fd_epochs_ack(ep, tok[i]);
		if (i < 49)
			cr_assert_eq(fd_epochs_committable(ep, &p), 1);
	}
	cr_assert_eq(fd_epochs_committable(ep, &p), 1);
	cr_assert_eq(p[0].offset, 100);
}
