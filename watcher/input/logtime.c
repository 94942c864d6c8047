// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * logtime - see logtime.h. Turns the stamp at the head of a log line into
 * Unix seconds and microseconds, by arithmetic on civil dates.
 *
 * Owns a small cache of local UTC offsets keyed by the hour of local time,
 * and the year of the last `now` seen. Runs on every line, so it must never
 * call mktime(), strptime() or localtime per line (only on a cache miss),
 * never allocate, and never read s[n] or beyond: the caller's buffer need
 * not be terminated.
 */
#include "logtime.h"
#include "hex.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DAY             86400
#define YEAR_AHEAD      (7 * DAY)       /* a stamp further ahead of now is from last year */
#define TAI64_BASE      (UINT64_C(1) << 62)
#define TAI64_SPAN      (UINT64_C(1) << 40) /* labels beyond base + 2^40 s are garbage */
#define TZCACHE_SLOTS   16              /* power of two */

static inline bool is_digit(char c) { return (unsigned)(c - '0') < 10u; }
static inline unsigned dig(char c) { return (unsigned)(c - '0'); }

/* n digits at s, already checked by all_digits(). */
static unsigned num(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + dig(s[i]);
	return v;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date. Counting years from
 * March puts the leap day last, so the day of the year follows from the
 * month by a linear formula; 400 years are exactly 146097 days.
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = floordiv(y, 400);
	yoe = y - era * 400;                                    /* 0..399 */
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
	return era * 146097 + doe - 719468;                    /* 719468: 0000-03-01 to 1970-01-01 */
}

/* The inverse of days_from_civil(). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* --- local time ------------------------------------------------------- */

struct tzslot {
	int64_t hour;           /* local civil time / 3600 */
	long off;               /* seconds east of UTC */
	bool used;
};

static struct tzslot tzcache[TZCACHE_SLOTS];
static int64_t year_day = INT64_MIN;    /* day number of the last now */
static int64_t year_of_day;

void logtime_tz_changed(void)
{
	memset(tzcache, 0, sizeof tzcache);
}

static long gmtoff_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		return 0;
	return tm.tm_gmtoff;
}

/*
 * The offset in effect at local civil time lt (seconds since the epoch as if
 * local time were UTC): a fixed point of off = gmtoff(lt - off). When the
 * clocks went back, the hour repeats and this finds the later (standard
 * time) offset; when they went forward, lt does not exist and the offset from
 * before the change is used, so 02:30 in the gap reads as 03:30 after it.
 */
static long local_offset_exact(int64_t lt)
{
	long o1 = gmtoff_at(lt - gmtoff_at(lt));
	long o2 = gmtoff_at(lt - o1);

	if (o2 == o1)
		return o1;
	if (gmtoff_at(lt - o2) == o2)
		return o2;
	return o1 < o2 ? o1 : o2;
}

/* Changes of offset happen at most once an hour, so an hour whose first and
 * last second have the same offset has that offset throughout. */
static long local_offset(int64_t lt)
{
	int64_t hour = floordiv(lt, 3600);
	struct tzslot *sl = &tzcache[(size_t)hour & (TZCACHE_SLOTS - 1)];
	long a, b;

	if (sl->used && sl->hour == hour)
		return sl->off;
	a = local_offset_exact(hour * 3600);
	b = local_offset_exact(hour * 3600 + 3599);
	if (a != b)
		return local_offset_exact(lt);  /* the change is inside this hour */
	sl->hour = hour;
	sl->off = a;
	sl->used = true;
	return a;
}

/* The UTC year of now; computed once a day. */
static int64_t year_of(time_t now)
{
	int64_t day = floordiv((int64_t)now, DAY), y;
	unsigned m, d;

	if (day != year_day) {
		civil_from_days(day, &y, &m, &d);
		year_day = day;
		year_of_day = y;
	}
	return year_of_day;
}

/* --- pieces ----------------------------------------------------------- */

/* "hh:mm:ss" at s[i..n). Returns the index after it, 0 if not there. */
static size_t parse_hms(const char *s, size_t n, size_t i, int64_t *secs)
{
	unsigned h, mi, se;

	if (n - i < 8 || !is_digit(s[i]) || !is_digit(s[i + 1]) || s[i + 2] != ':' ||
	    !is_digit(s[i + 3]) || !is_digit(s[i + 4]) || s[i + 5] != ':' ||
	    !is_digit(s[i + 6]) || !is_digit(s[i + 7]))
		return 0;
	h = num(s + i, 2);
	mi = num(s + i + 3, 2);
	se = num(s + i + 6, 2);
	if (h > 23 || mi > 59 || se > 60)       /* 60: a leap second */
		return 0;
	*secs = h * 3600 + mi * 60 + se;
	return i + 8;
}

/* Optional ".ddd..." (or ",ddd..."): any number of digits, microseconds kept. */
static size_t parse_frac(const char *s, size_t n, size_t i, uint32_t *usec, bool comma)
{
	size_t k = 0;
	uint32_t u = 0;

	*usec = 0;
	if (i >= n || !(s[i] == '.' || (comma && s[i] == ',')))
		return i;
	if (i + 1 >= n || !is_digit(s[i + 1]))
		return 0;
	for (i++; i < n && is_digit(s[i]); i++, k++)
		if (k < 6)
			u = u * 10 + dig(s[i]);
	for (; k < 6; k++)
		u *= 10;
	*usec = u;
	return i;
}

/* Optional zone: "Z", "+hh:mm", "+hhmm", "+hh" (or '-'). Sets *off (seconds
 * east of UTC) and *has. Returns the index after it, 0 if malformed. */
static size_t parse_zone(const char *s, size_t n, size_t i, long *off, bool *has)
{
	unsigned h, m = 0;
	int sign;

	*has = false;
	*off = 0;
	if (i >= n)
		return i;
	if (s[i] == 'Z' || s[i] == 'z') {
		*has = true;
		return i + 1;
	}
	if (s[i] != '+' && s[i] != '-')
		return i;
	sign = s[i] == '-' ? -1 : 1;
	i++;
	if (n - i < 2 || !all_digits(s + i, 2))
		return 0;
	h = num(s + i, 2);
	i += 2;
	if (i < n && s[i] == ':') {
		if (n - i < 3 || !all_digits(s + i + 1, 2))
			return 0;
		m = num(s + i + 1, 2);
		i += 3;
	} else if (i < n && is_digit(s[i])) {
		if (n - i < 2 || !all_digits(s + i, 2))
			return 0;
		m = num(s + i, 2);
		i += 2;
	}
	if (h > 23 || m > 59)
		return 0;
	*off = sign * (long)(h * 3600 + m * 60);
	*has = true;
	return i;
}

/* A stamp ends at the end of the input or at a space, which it consumes. */
static size_t finish(const char *s, size_t n, size_t i)
{
	if (i == 0)
		return 0;
	if (i == n)
		return i;
	return s[i] == ' ' ? i + 1 : 0;
}

static unsigned month_of(const char *s)
{
	uint32_t k;

	/* Fold ASCII letters to lower case; non-letters cannot match below. */
	k = (uint32_t)((unsigned char)s[0] | 0x20) << 16 |
	    (uint32_t)((unsigned char)s[1] | 0x20) << 8 | ((unsigned char)s[2] | 0x20);
#define M3(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))
	switch (k) {
	case M3('j', 'a', 'n'): return 1;
	case M3('f', 'e', 'b'): return 2;
	case M3('m', 'a', 'r'): return 3;
	case M3('a', 'p', 'r'): return 4;
	case M3('m', 'a', 'y'): return 5;
	case M3('j', 'u', 'n'): return 6;
	case M3('j', 'u', 'l'): return 7;
	case M3('a', 'u', 'g'): return 8;
	case M3('s', 'e', 'p'): return 9;
	case M3('o', 'c', 't'): return 10;
	case M3('n', 'o', 'v'): return 11;
	case M3('d', 'e', 'c'): return 12;
	default: return 0;
	}
#undef M3
}

/* --- forms ------------------------------------------------------------ */

/* "Mmm dd hh:mm:ss", the day as "23", " 3" or "3"; an optional fraction. */
static size_t parse_3164(const char *s, size_t n, time_t now, int64_t *sec, uint32_t *usec)
{
	unsigned mon, day;
	int64_t tod, y, lt;
	size_t i;

	if (n < 14 || (mon = month_of(s)) == 0 || s[3] != ' ')
		return 0;
	if (s[4] == ' ' && is_digit(s[5])) {
		day = dig(s[5]);
		i = 6;
	} else if (is_digit(s[4]) && is_digit(s[5])) {
		day = num(s + 4, 2);
		i = 6;
	} else if (is_digit(s[4])) {
		day = dig(s[4]);
		i = 5;
	} else {
		return 0;
	}
	/* Feb 29 is accepted in any year: the year is only a guess. */
	if (day < 1 || day > days_in_month(2000, mon) || s[i] != ' ')
		return 0;
	if ((i = parse_hms(s, n, i + 1, &tod)) == 0 || (i = parse_frac(s, n, i, usec, false)) == 0)
		return 0;
	if ((i = finish(s, n, i)) == 0)
		return 0;

	/* The year that puts the stamp at most YEAR_AHEAD after now. The
	 * local offset (< 1 day) is small against the margin, so compare the
	 * local civil time with now directly. */
	y = year_of(now);
	lt = days_from_civil(y, mon, day) * DAY + tod;
	if (lt > (int64_t)now + YEAR_AHEAD) {
		y--;
		lt = days_from_civil(y, mon, day) * DAY + tod;
	} else if (lt + 300 * DAY < (int64_t)now) {
		int64_t next = days_from_civil(y + 1, mon, day) * DAY + tod;

		if (next <= (int64_t)now + YEAR_AHEAD)
			lt = next;
	}
	*sec = lt - local_offset(lt);
	return i;
}

/*
 * "YYYY-MM-DD" then 'T' or ' ', "hh:mm:ss", a fraction and a zone. Without a
 * zone the time is local. After a space, Exim's log_timezone appends " +hhmm".
 */
static size_t parse_iso(const char *s, size_t n, int64_t *sec, uint32_t *usec, enum logtime_form *form)
{
	unsigned y, mon, day;
	int64_t tod, t;
	long off;
	bool has, spaced;
	size_t i;

	if (n < 19 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
	    !all_digits(s + 8, 2))
		return 0;
	if (s[10] == 'T' || s[10] == 't')
		spaced = false;
	else if (s[10] == ' ')
		spaced = true;
	else
		return 0;
	y = num(s, 4);
	mon = num(s + 5, 2);
	day = num(s + 8, 2);
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(y, mon))
		return 0;
	if ((i = parse_hms(s, n, 11, &tod)) == 0 || (i = parse_frac(s, n, i, usec, spaced)) == 0 ||
	    (i = parse_zone(s, n, i, &off, &has)) == 0)
		return 0;
	if (spaced && !has && n - i >= 6 && s[i] == ' ' && (s[i + 1] == '+' || s[i + 1] == '-') &&
	    all_digits(s + i + 2, 4) && (n - i == 6 || s[i + 6] == ' ')) {
		size_t j = parse_zone(s, n, i + 1, &off, &has);

		if (j != 0)
			i = j;
	}
	if ((i = finish(s, n, i)) == 0)
		return 0;
	t = days_from_civil(y, mon, day) * DAY + tod;
	*sec = has ? t - off : t - local_offset(t);
	*form = spaced ? LOGTIME_SPACED : LOGTIME_RFC3339;
	return i;
}

/*
 * "[DD-Mon-YYYY hh:mm:ss[.frac] +hhmm]", then an optional ':': PHP's date()
 * format 'd-M-Y H:i:s O', Roundcube's default log_date_format. The zone is
 * required (a stamp without one is some other format). Day and month may
 * be in either case, as PHP writes "Nov".
 */
static size_t parse_bracketed(const char *s, size_t n, int64_t *sec, uint32_t *usec)
{
	unsigned y, mon, day;
	int64_t tod, t;
	long off;
	bool has;
	size_t i;

	if (n < 28 || s[0] != '[' || !is_digit(s[1]) || !is_digit(s[2]) || s[3] != '-' ||
	    (mon = month_of(s + 4)) == 0 || s[7] != '-' || !all_digits(s + 8, 4) || s[12] != ' ')
		return 0;
	day = num(s + 1, 2);
	y = num(s + 8, 4);
	if (day < 1 || day > days_in_month(y, mon))
		return 0;
	if ((i = parse_hms(s, n, 13, &tod)) == 0 || (i = parse_frac(s, n, i, usec, false)) == 0)
		return 0;
	if (n - i < 7 || s[i] != ' ' || (s[i + 1] != '+' && s[i + 1] != '-') || !all_digits(s + i + 2, 4))
		return 0;
	if ((i = parse_zone(s, n, i + 1, &off, &has)) == 0 || i >= n || s[i] != ']')
		return 0;
	i++;
	if (i < n && s[i] == ':')
		i++;
	if ((i = finish(s, n, i)) == 0)
		return 0;
	t = days_from_civil(y, mon, day) * DAY + tod;
	*sec = t - off;
	return i;
}

/* Leap seconds: each was inserted at the end of the day before this date (UTC). */
static const struct { unsigned short y; unsigned char m; } leaps[] = {
	{ 1972, 7 }, { 1973, 1 }, { 1974, 1 }, { 1975, 1 }, { 1976, 1 }, { 1977, 1 },
	{ 1978, 1 }, { 1979, 1 }, { 1980, 1 }, { 1981, 7 }, { 1982, 7 }, { 1983, 7 },
	{ 1985, 7 }, { 1988, 1 }, { 1990, 1 }, { 1991, 1 }, { 1992, 7 }, { 1993, 7 },
	{ 1994, 7 }, { 1996, 1 }, { 1997, 7 }, { 1999, 1 }, { 2006, 1 }, { 2009, 1 },
	{ 2012, 7 }, { 2015, 7 }, { 2017, 1 },
};

/*
 * x TAI seconds after the TAI64 base to Unix time. TAI ran 10 s ahead of UTC
 * in 1972 and one more second after each leap second (37 s since 2017); the
 * leap second itself (23:59:60) reads as 23:59:59. Newest first: a current
 * stamp costs one comparison.
 */
static int64_t tai_to_unix(int64_t x)
{
	for (size_t i = sizeof leaps / sizeof leaps[0]; i-- > 0;) {
		int64_t u = days_from_civil(leaps[i].y, leaps[i].m, 1) * DAY;
		int64_t ahead = 10 + (int64_t)i;        /* TAI - UTC before this leap */

		if (x >= u + ahead)
			return x - ahead - 1;
	}
	return x - 10;
}

/* "@" + 16 hex digits of TAI64 label + 8 hex digits of nanoseconds. */
static size_t parse_tai64n(const char *s, size_t n, int64_t *sec, uint32_t *usec)
{
	uint64_t label = 0;
	uint32_t nano = 0;
	size_t i;

	if (n < 25 || s[0] != '@')
		return 0;
	for (i = 1; i < 25; i++) {
		int v = hex_value(s[i]);

		if (v < 0)
			return 0;
		if (i <= 16)
			label = label << 4 | (uint64_t)v;
		else
			nano = nano << 4 | (uint32_t)v;
	}
	if (label < TAI64_BASE || label - TAI64_BASE >= TAI64_SPAN || nano > 999999999)
		return 0;
	if ((i = finish(s, n, 25)) == 0)
		return 0;
	*sec = tai_to_unix((int64_t)(label - TAI64_BASE));
	*usec = nano / 1000;
	return i;
}

/* "<PRI>": returns the index after '>', 0 if not there. */
static size_t parse_pri(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 3 || s[0] != '<')
		return 0;
	while (i < n && i <= 3 && is_digit(s[i]))
		i++;
	if (i == 1 || i >= n || s[i] != '>' || num(s + 1, i - 1) > 191)
		return 0;
	return i + 1;
}

size_t logtime_parse_form(const char *s, size_t n, time_t now, int64_t *sec, uint32_t *usec,
			  enum logtime_form *form)
{
	enum logtime_form f = LOGTIME_NONE;
	size_t pri = 0, i;
	int64_t se = 0;
	uint32_t us = 0;

	*form = LOGTIME_NONE;
	if (n == 0)
		return 0;
	if (s[0] == '<') {
		if ((pri = parse_pri(s, n)) == 0)
			return 0;
		s += pri;
		n -= pri;
		/* RFC 5424: VERSION (a non-zero number), a space, the stamp. */
		i = 0;
		while (i < n && i < 3 && is_digit(s[i]))
			i++;
		if (i > 0 && s[0] != '0' && i < n && s[i] == ' ') {
			s += i + 1;
			n -= i + 1;
			pri += i + 1;
			if (n >= 1 && s[0] == '-' && (n == 1 || s[1] == ' ')) {
				i = n == 1 ? 1 : 2;
			} else {
				i = parse_iso(s, n, &se, &us, &f);
				if (f != LOGTIME_RFC3339)
					return 0;
			}
			*sec = se;
			*usec = us;
			*form = LOGTIME_RFC5424;
			return pri + i;
		}
	}
	if (n == 0)
		return 0;
	if (is_digit(s[0])) {
		i = parse_iso(s, n, &se, &us, &f);
	} else if (s[0] == '@' && pri == 0) {
		i = parse_tai64n(s, n, &se, &us);
		f = LOGTIME_TAI64N;
	} else if (s[0] == '[' && pri == 0) {
		i = parse_bracketed(s, n, &se, &us);
		f = LOGTIME_BRACKETED;
	} else {
		i = parse_3164(s, n, now, &se, &us);
		f = LOGTIME_RFC3164;
	}
	if (i == 0)
		return 0;
	*sec = se;
	*usec = us;
	*form = f;
	return pri + i;
}

size_t logtime_parse(const char *s, size_t n, time_t now, int64_t *sec, uint32_t *usec)
{
	enum logtime_form form;

	return logtime_parse_form(s, n, now, sec, usec, &form);
}

const char *logtime_form_name(enum logtime_form form)
{
	static const char *const names[] = {
		[LOGTIME_NONE] = "none", [LOGTIME_RFC3164] = "rfc3164", [LOGTIME_RFC3339] = "rfc3339",
		[LOGTIME_RFC5424] = "rfc5424", [LOGTIME_TAI64N] = "tai64n", [LOGTIME_SPACED] = "spaced",
		[LOGTIME_JOURNAL] = "journal", [LOGTIME_BRACKETED] = "bracketed",
	};

	return (unsigned)form < sizeof names / sizeof names[0] && names[form] ? names[form] : "none";
}

void logtime_format_utc(int64_t sec, char buf[32])
{
	int64_t days = floordiv(sec, DAY), rem = sec - days * DAY, y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(buf, 32, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
		 (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
}
