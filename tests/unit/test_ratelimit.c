/*
 * test_ratelimit.c — the repeating-line limiter (base/ratelimit.c) with a
 * fake clock: the first occurrence is written, the rest of the window is
 * held back and counted, the next one after the window carries the count;
 * keys are independent; the table forgets the key seen longest ago.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "base/ratelimit.h"

#define WINDOW 30000

static fd_ratelimit rl;

static void setup(void)
{
	fd_ratelimit_init(&rl, WINDOW);
}

TestSuite(ratelimit, .init = setup);

Test(ratelimit, first_occurrence_is_written_then_held_for_the_window)
{
	uint64_t held = 99;
	cr_expect(fd_ratelimit_allow(&rl, "refused", 1000, &held));
	cr_expect_eq(held, 0);
	/* librdkafka retries twice a second */
	for (int64_t t = 1500; t < 1000 + WINDOW; t += 500)
		cr_expect_not(fd_ratelimit_allow(&rl, "refused", t, &held), "written at %lld", (long long)t);
	/* the first one after the window, with the count of those held back */
	cr_expect(fd_ratelimit_allow(&rl, "refused", 1000 + WINDOW, &held));
	cr_expect_eq(held, 59);
	/* and the next window starts there */
	cr_expect_not(fd_ratelimit_allow(&rl, "refused", 1000 + WINDOW + 500, &held));
	cr_expect(fd_ratelimit_allow(&rl, "refused", 1000 + 2 * WINDOW, &held));
	cr_expect_eq(held, 1);
}

Test(ratelimit, a_line_after_a_quiet_window_is_written_as_it_is)
{
	uint64_t held;
	cr_expect(fd_ratelimit_allow(&rl, "down", 0, &held));
	cr_expect(fd_ratelimit_allow(&rl, "down", WINDOW, &held));
	cr_expect_eq(held, 0);
	cr_expect(fd_ratelimit_allow(&rl, "down", 5 * WINDOW, &held));
	cr_expect_eq(held, 0);
}

Test(ratelimit, keys_are_limited_independently)
{
	uint64_t held;
	cr_expect(fd_ratelimit_allow(&rl, "broker 1 refused", 0, &held));
	cr_expect(fd_ratelimit_allow(&rl, "broker 2 refused", 10, &held));
	cr_expect_not(fd_ratelimit_allow(&rl, "broker 1 refused", 20, &held));
	cr_expect_not(fd_ratelimit_allow(&rl, "broker 2 refused", 30, &held));
	cr_expect(fd_ratelimit_allow(&rl, "broker 1 refused", WINDOW, &held));
	cr_expect_eq(held, 1);
}

Test(ratelimit, the_key_seen_longest_ago_makes_room)
{
	uint64_t held;
	char key[32];
	for (int i = 0; i < FD_RATELIMIT_KEYS; i++) {
		snprintf(key, sizeof key, "line %d", i);
		cr_expect(fd_ratelimit_allow(&rl, key, i, &held));
	}
	cr_expect_not(fd_ratelimit_allow(&rl, "line 0", 100, &held)); /* line 1 is now the oldest */
	cr_expect(fd_ratelimit_allow(&rl, "one more", 200, &held));   /* takes line 1's place */
	cr_expect_not(fd_ratelimit_allow(&rl, "line 0", 300, &held));  /* still remembered */
	cr_expect(fd_ratelimit_allow(&rl, "line 1", 400, &held));      /* forgotten: written */
	cr_expect_eq(held, 0);
}
