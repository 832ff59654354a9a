/*
 * score.c — decay, frequency buckets and caps (see score.h).
 */
#include "engine/score.h"

#include <math.h>

int64_t fd_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && (a < 0))
		q--;
	return q;
}

double fd_score_decay(double value, int64_t dt_ms, int64_t half_life_ms)
{
	if (dt_ms <= 0 || value == 0.0)
		return value;
	return value * exp2(-(double)dt_ms / (double)half_life_ms);
}

double fd_score_add(double *value, int64_t *as_of, double points, int64_t t,
                    int64_t half_life_ms, double *late_factor)
{
	if (*as_of == INT64_MIN) {
		*value = points;
		*as_of = t;
		*late_factor = 1.0;
		return 0.0;
	}
	if (t >= *as_of) {
		double f = t == *as_of ? 1.0 : exp2(-(double)(t - *as_of) / (double)half_life_ms);
		*value = *value * f + points;
		*as_of = t;
		*late_factor = 1.0;
		return f;
	}
	double lf = exp2(-(double)(*as_of - t) / (double)half_life_ms);
	*value += points * lf;
	*late_factor = lf;
	return 1.0;
}

void fd_freq_add(uint16_t buckets[FD_FREQ_BUCKETS], int64_t *head, int64_t b)
{
	if (*head == INT64_MIN) {
		for (int i = 0; i < FD_FREQ_BUCKETS; i++)
			buckets[i] = 0;
		*head = b;
	} else if (b > *head) {
		int64_t gap = b - *head;
		if (gap >= FD_FREQ_BUCKETS) {
			for (int i = 0; i < FD_FREQ_BUCKETS; i++)
				buckets[i] = 0;
		} else {
			for (int64_t i = *head + 1; i <= b; i++)
				buckets[(size_t)(i % FD_FREQ_BUCKETS)] = 0;
		}
		*head = b;
	} else if (*head - b >= FD_FREQ_BUCKETS) {
		return; /* older than the ring */
	}
	uint16_t *c = &buckets[(size_t)(b % FD_FREQ_BUCKETS)];
	if (*c < UINT16_MAX)
		(*c)++;
}

uint32_t fd_freq_count(const uint16_t buckets[FD_FREQ_BUCKETS], int64_t head,
                       int64_t at, int64_t n)
{
	if (head == INT64_MIN)
		return 0;
	uint32_t sum = 0;
	int64_t lo = at - n + 1;
	if (lo < head - FD_FREQ_BUCKETS + 1)
		lo = head - FD_FREQ_BUCKETS + 1;
	if (lo < 0)
		lo = 0; /* no bucket before the epoch (a window reaching back past it) */
	int64_t hi = at < head ? at : head;
	for (int64_t i = lo; i <= hi; i++)
		sum += buckets[(size_t)(i % FD_FREQ_BUCKETS)];
	return sum;
}

double fd_score_cap(int64_t *window, double *awarded, double points, double cap,
                    int64_t t, int64_t cap_window_ms)
{
	if (cap <= 0 || points <= 0)
		return points;
	int64_t w = fd_floor_div(t, cap_window_ms);
	if (w > *window) {
		*window = w;
		*awarded = 0;
	}
	double room = cap - *awarded;
	if (room <= 0)
		return 0;
	double got = points < room ? points : room;
	*awarded += got;
	return got;
}
