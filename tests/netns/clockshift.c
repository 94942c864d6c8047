// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * clockshift - a preloaded library for tests: the wall clock of the
 * process it is loaded into runs MS_CLOCK_SHIFT seconds (a signed
 * integer; 0 if unset) ahead of the real one, at the real rate. Only the
 * wall clock moves (clock_gettime of CLOCK_REALTIME and its coarse
 * variant, gettimeofday, time); the monotonic clock and the timers on it
 * stay real, so a daemon's timers fire when they should.
 *
 * Built as a shared object by make (build/tests/clockshift.so) and used as
 * LD_PRELOAD=build/tests/clockshift.so MS_CLOCK_SHIFT=N PROGRAM.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int clock_gettime_fn(clockid_t, struct timespec *);

static long long shift(void)
{
	static long long s;
	static int known;

	if (!known) {
		const char *e = getenv("MS_CLOCK_SHIFT");
		s = e ? strtoll(e, NULL, 10) : 0;
		known = 1;
	}
	return s;
}

static int real_clock_gettime(clockid_t c, struct timespec *ts)
{
	static clock_gettime_fn *real;

	if (!real)
		real = (clock_gettime_fn *)dlsym(RTLD_NEXT, "clock_gettime");
	return real(c, ts);
}

int clock_gettime(clockid_t c, struct timespec *ts)
{
	int rc = real_clock_gettime(c, ts);

	if (rc == 0 && (c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE))
		ts->tv_sec += shift();
	return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t time(time_t *t)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
