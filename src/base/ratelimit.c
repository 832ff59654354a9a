/*
 * ratelimit.c — the repeating-line limiter (see ratelimit.h): a linear
 * search of a small table, by key.
 */
#include "base/ratelimit.h"

#include <stdio.h>
#include <string.h>

void fd_ratelimit_init(fd_ratelimit *rl, int64_t window_ms)
{
	memset(rl, 0, sizeof *rl);
	rl->window_ms = window_ms;
}

bool fd_ratelimit_allow(fd_ratelimit *rl, const char *key, int64_t now_ms, uint64_t *held)
{
	char k[FD_RATELIMIT_KEY_MAX];
	snprintf(k, sizeof k, "%s", key);
	*held = 0;
	fd_ratelimit_key *slot = NULL, *oldest = NULL;
	for (int i = 0; i < FD_RATELIMIT_KEYS; i++) {
		fd_ratelimit_key *s = &rl->keys[i];
		if (s->used && strcmp(s->key, k) == 0) {
			slot = s;
			break;
		}
		if (oldest == NULL || !s->used || (oldest->used && s->seen_ms < oldest->seen_ms))
			oldest = s;
	}
	if (slot == NULL) { /* new: written, remembered in the place of the oldest */
		slot = oldest;
		memset(slot, 0, sizeof *slot);
		memcpy(slot->key, k, sizeof k);
		slot->used = true;
		slot->written_ms = now_ms;
		slot->seen_ms = now_ms;
		return true;
	}
	slot->seen_ms = now_ms;
	if (now_ms - slot->written_ms < rl->window_ms) {
		slot->held++;
		return false;
	}
	*held = slot->held;
	slot->held = 0;
	slot->written_ms = now_ms;
	return true;
}
