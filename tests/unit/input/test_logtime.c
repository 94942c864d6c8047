// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for logtime.c: every timestamp form, year rollover, DST, zones,
 * fractions, TAI64N, garbage and truncated input. Inputs are copied into
 * exactly sized heap buffers so that AddressSanitizer sees any read past n. */
#include "logtime.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
	logtime_tz_changed();
}

/* Parse s from an unterminated buffer of exactly strlen(s) bytes. */
static size_t parse_n(const char *s, size_t n, time_t now, int64_t *sec, uint32_t *usec,
		      enum logtime_form *form)
{
	char *buf = malloc(n ? n : 1);
	enum logtime_form f;
	size_t r;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, s, n);
	r = logtime_parse_form(buf, n, now, sec, usec, form ? form : &f);
	free(buf);
	return r;
}

static size_t parse(const char *s, time_t now, int64_t *sec, uint32_t *usec)
{
	return parse_n(s, strlen(s), now, sec, usec, NULL);
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm);
}

/* The UTC time s parses to, or "none"; now fixed to 2026-11-24. */
static const char *as_utc(const char *s)
{
	static char buf[32];
	int64_t sec;
	uint32_t usec;

	if (parse(s, (time_t)utc(2026, 11, 24, 12, 0, 0), &sec, &usec) == 0)
		return "none";
	logtime_format_utc(sec, buf);
	return buf;
}

START_TEST(rfc3164_reads_local_time_and_consumes_one_space)
{
	int64_t sec;
	uint32_t usec;
	enum logtime_form form;
	time_t now = (time_t)utc(2026, 11, 24, 0, 0, 0);
	const char *l = "Nov 23 14:44:59 mx postfix/smtpd[1]: x";

	set_tz("UTC");
	ck_assert_uint_eq(parse_n(l, strlen(l), now, &sec, &usec, &form), 16);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 14, 44, 59));
	ck_assert_uint_eq(usec, 0);
	ck_assert_int_eq(form, LOGTIME_RFC3164);
	ck_assert_uint_eq(parse("Nov  3 04:05:06 mx", now, &sec, &usec), 16);
	ck_assert_int_eq(sec, utc(2026, 11, 3, 4, 5, 6));
	ck_assert_uint_eq(parse("Nov 3 04:05:06 mx", now, &sec, &usec), 15);
	ck_assert_int_eq(sec, utc(2026, 11, 3, 4, 5, 6));
	/* A stamp alone on the line. */
	ck_assert_uint_eq(parse("Jan 12 00:00:00", now, &sec, &usec), 15);
	ck_assert_int_eq(sec, utc(2026, 1, 12, 0, 0, 0));
	/* A high-precision fraction. */
	ck_assert_uint_eq(parse("Nov 23 14:44:59.250 mx", now, &sec, &usec), 20);
	ck_assert_uint_eq(usec, 250000);

	set_tz("America/New_York");
	ck_assert_uint_eq(parse("Nov 23 14:44:59 mx", now, &sec, &usec), 16);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 19, 44, 59));
	ck_assert_uint_eq(parse("Jul  4 12:00:00 mx", now, &sec, &usec), 16);
	ck_assert_int_eq(sec, utc(2026, 7, 4, 16, 0, 0));
	set_tz("UTC");
}
END_TEST

START_TEST(rfc3164_year_rolls_over_both_ways)
{
	int64_t sec;
	uint32_t usec;

	set_tz("UTC");
	/* Just after new year, last year's stamps are last year's. */
	ck_assert_uint_ne(parse("Dec 31 23:59:58 mx", (time_t)utc(2027, 1, 1, 0, 0, 10), &sec, &usec), 0);
	ck_assert_int_eq(sec, utc(2026, 12, 31, 23, 59, 58));
	/* A log a little ahead of our clock across new year is next year's. */
	ck_assert_uint_ne(parse("Jan  1 00:00:05 mx", (time_t)utc(2026, 12, 31, 23, 59, 50), &sec, &usec), 0);
	ck_assert_int_eq(sec, utc(2027, 1, 1, 0, 0, 5));
	/* Replaying a file in early January with December lines. */
	ck_assert_uint_ne(parse("Dec 20 10:00:00 mx", (time_t)utc(2026, 1, 5, 0, 0, 0), &sec, &usec), 0);
	ck_assert_int_eq(sec, utc(2025, 12, 20, 10, 0, 0));
	/* Up to a week ahead is this year; further ahead is last year. */
	ck_assert_uint_ne(parse("Nov 29 12:00:00 mx", (time_t)utc(2026, 11, 23, 0, 0, 0), &sec, &usec), 0);
	ck_assert_int_eq(sec, utc(2026, 11, 29, 12, 0, 0));
	ck_assert_uint_ne(parse("Dec  5 12:00:00 mx", (time_t)utc(2026, 11, 23, 0, 0, 0), &sec, &usec), 0);
	ck_assert_int_eq(sec, utc(2025, 12, 5, 12, 0, 0));
	/* Feb 29 is taken as given; in a leap year it is exact. */
	ck_assert_uint_ne(parse("Feb 29 01:02:03 mx", (time_t)utc(2028, 3, 1, 0, 0, 0), &sec, &usec), 0);
	ck_assert_int_eq(sec, utc(2028, 2, 29, 1, 2, 3));
}
END_TEST

START_TEST(rfc3339_fractions_and_zones)
{
	set_tz("UTC");
	ck_assert_str_eq(as_utc("2026-11-23T14:44:59Z"), "2026-11-23T14:44:59Z");
	ck_assert_str_eq(as_utc("2026-11-23t14:44:59z"), "2026-11-23T14:44:59Z");
	ck_assert_str_eq(as_utc("2026-11-23T14:44:59+01:00"), "2026-11-23T13:44:59Z");
	ck_assert_str_eq(as_utc("2026-11-23T14:44:59-0500"), "2026-11-23T19:44:59Z");
	ck_assert_str_eq(as_utc("2026-11-23T14:44:59+05"), "2026-11-23T09:44:59Z");
	ck_assert_str_eq(as_utc("2026-11-23T00:15:00+05:30"), "2026-11-22T18:45:00Z");
	ck_assert_str_eq(as_utc("2026-01-01T00:30:00+01:00"), "2025-12-31T23:30:00Z");
	ck_assert_str_eq(as_utc("2026-11-23T14:44:59.123456+00:00 mx"), "2026-11-23T14:44:59Z");
	ck_assert_str_eq(as_utc("2028-02-29T23:59:60Z"), "2028-03-01T00:00:00Z");

	int64_t sec;
	uint32_t usec;
	enum logtime_form form;
	const char *l = "2026-11-23T14:44:59.123456+00:00 mx dovecot[99]: x";

	ck_assert_uint_eq(parse_n(l, strlen(l), 0, &sec, &usec, &form), 33);
	ck_assert_uint_eq(usec, 123456);
	ck_assert_int_eq(form, LOGTIME_RFC3339);
	ck_assert_uint_ne(parse("2026-11-23T14:44:59.1Z", 0, &sec, &usec), 0);
	ck_assert_uint_eq(usec, 100000);
	ck_assert_uint_ne(parse("2026-11-23T14:44:59.003Z", 0, &sec, &usec), 0);
	ck_assert_uint_eq(usec, 3000);
	ck_assert_uint_ne(parse("2026-11-23T14:44:59.123456789Z", 0, &sec, &usec), 0);
	ck_assert_uint_eq(usec, 123456);
	ck_assert_uint_ne(parse("2026-11-23T14:44:59.000000000000000000000009Z", 0, &sec, &usec), 0);
	ck_assert_uint_eq(usec, 0);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 14, 44, 59));

	/* No zone: local time. */
	set_tz("Asia/Tokyo");
	ck_assert_str_eq(as_utc("2026-11-23T14:44:59"), "2026-11-23T05:44:59Z");
	ck_assert_str_eq(as_utc("2026-11-23T14:44:59Z"), "2026-11-23T14:44:59Z");
	set_tz("UTC");
}
END_TEST

START_TEST(rfc5424_header_is_consumed)
{
	int64_t sec;
	uint32_t usec;
	enum logtime_form form;
	const char *l = "<34>1 2026-11-23T14:44:59.003Z host app 12 ID47 - msg";
	const char *nil = "<165>1 - host app - - - msg";

	ck_assert_uint_eq(parse_n(l, strlen(l), 0, &sec, &usec, &form), strlen("<34>1 2026-11-23T14:44:59.003Z "));
	ck_assert_int_eq(form, LOGTIME_RFC5424);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 14, 44, 59));
	ck_assert_uint_eq(usec, 3000);
	ck_assert_uint_eq(parse_n(nil, strlen(nil), 0, &sec, &usec, &form), 9);
	ck_assert_int_eq(form, LOGTIME_RFC5424);
	ck_assert_int_eq(sec, 0);
	/* "<PRI>" before an old-style stamp. */
	set_tz("UTC");
	ck_assert_uint_eq(parse_n("<13>Nov 23 14:44:59 mx", 22, (time_t)utc(2026, 11, 24, 0, 0, 0),
				  &sec, &usec, &form), 20);
	ck_assert_int_eq(form, LOGTIME_RFC3164);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 14, 44, 59));
	/* Bad PRI, bad version, zone-less 5424 stamp from the wrong family. */
	ck_assert_str_eq(as_utc("<192>1 2026-11-23T14:44:59Z h"), "none");
	ck_assert_str_eq(as_utc("<>1 2026-11-23T14:44:59Z h"), "none");
	ck_assert_str_eq(as_utc("<1234>1 2026-11-23T14:44:59Z h"), "none");
	ck_assert_str_eq(as_utc("<34>0 2026-11-23T14:44:59Z h"), "none");
	ck_assert_str_eq(as_utc("<34>1 2026-11-23 14:44:59 h"), "none");
	ck_assert_str_eq(as_utc("<34>1 Nov 23 14:44:59 h"), "none");
	ck_assert_str_eq(as_utc("<34>postfix[1]: x"), "none");
}
END_TEST

START_TEST(bracketed_php_stamp_has_its_zone)
{
	int64_t sec;
	uint32_t usec;
	enum logtime_form form;
	const char *l = "[22-Nov-2026 11:00:01 +0100]: <a1b2c3d4> IMAP Error";

	/* "]" and ":" and one space are consumed. */
	ck_assert_uint_eq(parse_n(l, strlen(l), 0, &sec, &usec, &form), 30);
	ck_assert_int_eq(form, LOGTIME_BRACKETED);
	ck_assert_int_eq(sec, utc(2026, 11, 22, 10, 0, 1));
	ck_assert_str_eq(as_utc("[22-Nov-2026 11:00:01 -0530] x"), "2026-11-22T16:30:01Z");
	ck_assert_str_eq(as_utc("[29-Feb-2028 23:59:59.5 +0000]"), "2028-02-29T23:59:59Z");
	/* No zone, a zone name, a bad date or month, no "]", no space after. */
	ck_assert_str_eq(as_utc("[22-Nov-2026 11:00:01]: x"), "none");
	ck_assert_str_eq(as_utc("[22-Nov-2026 11:00:01 UTC] PHP Warning"), "none");
	ck_assert_str_eq(as_utc("[29-Feb-2026 11:00:01 +0000]: x"), "none");
	ck_assert_str_eq(as_utc("[22-Nix-2026 11:00:01 +0000]: x"), "none");
	ck_assert_str_eq(as_utc("[22-Nov-2026 11:00:01 +0000 x"), "none");
	ck_assert_str_eq(as_utc("[22-Nov-2026 11:00:01 +0000]x"), "none");
	ck_assert_str_eq(as_utc("[22-Nov-2026 25:00:01 +0000]: x"), "none");
	ck_assert_str_eq(as_utc("<34>[22-Nov-2026 11:00:01 +0000]: x"), "none");
}
END_TEST

START_TEST(tai64n_matches_known_values)
{
	int64_t sec;
	uint32_t usec;
	enum logtime_form form;
	const char *l = "@400000006553f1250001e240 qmail-smtpd: x";

	/* Unix 1700000000 (2023-11-14T22:13:20Z) is TAI 37 s later; 123456 ns. */
	ck_assert_uint_eq(parse_n(l, strlen(l), 0, &sec, &usec, &form), 26);
	ck_assert_int_eq(form, LOGTIME_TAI64N);
	ck_assert_int_eq(sec, 1700000000);
	ck_assert_uint_eq(usec, 123);
	ck_assert_str_eq(as_utc("@400000006553f1250001e240"), "2023-11-14T22:13:20Z");
	ck_assert_uint_eq(parse("@4000000069232f1b1c2d3e4f", 0, &sec, &usec), 25);
	ck_assert_int_eq(sec, 0x69232f1b - 37);
	ck_assert_uint_eq(usec, 0x1c2d3e4f / 1000);
	ck_assert_uint_eq(parse("@4000000069232F1B1C2D3E4F", 0, &sec, &usec), 25);
	ck_assert_int_eq(sec, 0x69232f1b - 37);
	/* Across the last leap second (end of 2016): 36 s before, 37 after, and
	 * 23:59:60 itself reads as 23:59:59. */
	ck_assert_str_eq(as_utc("@40000000586846a300000000"), "2016-12-31T23:59:59Z"); /* 1483228799 + 36 */
	ck_assert_str_eq(as_utc("@40000000586846a400000000"), "2016-12-31T23:59:59Z");
	ck_assert_str_eq(as_utc("@40000000586846a500000000"), "2017-01-01T00:00:00Z"); /* 1483228800 + 37 */
	/* Before any leap second: 10 s. */
	ck_assert_str_eq(as_utc("@400000000000000a00000000"), "1970-01-01T00:00:00Z");
	/* Garbage: short, non-hex, below the base, nanoseconds >= 1e9, glued. */
	ck_assert_str_eq(as_utc("@4000000069232f1b1c2d3e4"), "none");
	ck_assert_str_eq(as_utc("@4000000069232f1b1c2d3e4g"), "none");
	ck_assert_str_eq(as_utc("@3fffffff69232f1b1c2d3e4f"), "none");
	ck_assert_str_eq(as_utc("@4000000069232f1b3b9aca00"), "none");
	ck_assert_str_eq(as_utc("@4000000069232f1b1c2d3e4fx"), "none");
	ck_assert_str_eq(as_utc("@ffffffffffffffff00000000"), "none");
}
END_TEST

START_TEST(spaced_form_is_local_with_optional_exim_zone)
{
	int64_t sec;
	uint32_t usec;
	enum logtime_form form;
	const char *l = "2026-11-23 14:44:59 1abcde-000123-AB H=x";

	set_tz("UTC");
	ck_assert_uint_eq(parse_n(l, strlen(l), 0, &sec, &usec, &form), 20);
	ck_assert_int_eq(form, LOGTIME_SPACED);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 14, 44, 59));
	ck_assert_uint_eq(parse("2026-11-23 14:44:59.042 x", 0, &sec, &usec), 24);
	ck_assert_uint_eq(usec, 42000);
	ck_assert_uint_eq(parse("2026-11-23 14:44:59,5 x", 0, &sec, &usec), 22);
	ck_assert_uint_eq(usec, 500000);
	/* Exim log_timezone. */
	ck_assert_uint_eq(parse("2026-11-23 14:44:59 +0100 1abcde", 0, &sec, &usec), 26);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 13, 44, 59));
	ck_assert_uint_eq(parse("2026-11-23 14:44:59 -0130", 0, &sec, &usec), 25);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 16, 14, 59));
	/* Not a zone: it stays for the message. */
	ck_assert_uint_eq(parse("2026-11-23 14:44:59 +01 x", 0, &sec, &usec), 20);
	ck_assert_uint_eq(parse("2026-11-23 14:44:59 +01000 x", 0, &sec, &usec), 20);
	ck_assert_int_eq(sec, utc(2026, 11, 23, 14, 44, 59));

	set_tz("Europe/Berlin");
	ck_assert_str_eq(as_utc("2026-11-23 14:44:59 x"), "2026-11-23T13:44:59Z");
	ck_assert_str_eq(as_utc("2026-07-23 14:44:59 x"), "2026-07-23T12:44:59Z");
	set_tz("UTC");
}
END_TEST

START_TEST(local_time_follows_dst_changes)
{
	time_t now = (time_t)utc(2026, 11, 1, 0, 0, 0);

	set_tz("Europe/Berlin");
	/* Spring: 02:00 CET becomes 03:00 CEST on 2026-03-29 (01:00 UTC). The
	 * cache must not carry one side over to the other, in either order. */
	for (int round = 0; round < 2; round++) {
		ck_assert_str_eq(as_utc("Mar 29 01:59:59 mx"), "2026-03-29T00:59:59Z");
		ck_assert_str_eq(as_utc("Mar 29 03:00:00 mx"), "2026-03-29T01:00:00Z");
		ck_assert_str_eq(as_utc("2026-03-29 01:30:00 x"), "2026-03-29T00:30:00Z");
		ck_assert_str_eq(as_utc("2026-03-29T03:30:00 x"), "2026-03-29T01:30:00Z");
		/* 02:30 does not exist; it reads as 03:30 CEST. */
		ck_assert_str_eq(as_utc("Mar 29 02:30:00 mx"), "2026-03-29T01:30:00Z");
		/* Autumn: 03:00 CEST becomes 02:00 CET on 2026-10-25 (01:00 UTC). */
		ck_assert_str_eq(as_utc("Oct 25 01:59:59 mx"), "2026-10-24T23:59:59Z");
		ck_assert_str_eq(as_utc("Oct 25 03:00:00 mx"), "2026-10-25T02:00:00Z");
		/* 02:30 happens twice; the later (CET) one is taken. */
		ck_assert_str_eq(as_utc("Oct 25 02:30:00 mx"), "2026-10-25T01:30:00Z");
		ck_assert_str_eq(as_utc("Oct 24 12:00:00 mx"), "2026-10-24T10:00:00Z");
		ck_assert_str_eq(as_utc("Oct 26 12:00:00 mx"), "2026-10-26T11:00:00Z");
	}
	(void)now;

	/* A zone whose change is not on the hour: Lord Howe Island moves 30
	 * minutes, at 02:00 local standard time (+10:30 -> +11:00). */
	set_tz("Australia/Lord_Howe");
	ck_assert_str_eq(as_utc("2026-10-04 01:59:00 x"), "2026-10-03T15:29:00Z");
	ck_assert_str_eq(as_utc("2026-10-04 02:45:00 x"), "2026-10-03T15:45:00Z");
	ck_assert_str_eq(as_utc("2026-10-04 02:15:00 x"), "2026-10-03T15:45:00Z");
	set_tz("UTC");
}
END_TEST

START_TEST(garbage_is_rejected)
{
	const char *bad[] = {
		"", " ", "x", "Nov", "Nov 23", "Nov 23 14:44", "Nov 23 14:44:59x", "Nox 23 14:44:59 x",
		"Nov 00 14:44:59 x", "Nov 32 14:44:59 x", "Feb 30 14:44:59 x", "Nov 23 24:00:00 x",
		"Nov 23 14:60:00 x", "Nov 23 14:44:61 x", "Nov 23 1:44:59 x", "Nov  23 14:44:59 x",
		"Nov 23 14:44:59. x", "Nov 23 14-44-59 x", "Nov123 14:44:59 x",
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-11-23X14:44:59Z", "2026-11-23T14:44:59+", "2026-11-23T14:44:59+1",
		"2026-11-23T14:44:59+01:", "2026-11-23T14:44:59+01:0", "2026-11-23T14:44:59+010",
		"2026-11-23T14:44:59+24:00", "2026-11-23T14:44:59+01:60", "2026-11-23T14:44:59ZZ",
		"2026-11-23T14:44:59.Z", "2026-11-23T14:44:59.5.5Z", "2026-1-23T14:44:59Z",
		"20261123T144459Z", "2026-11-23  14:44:59", "2026-11-23T14:44:59,5Z",
		"-2026-11-23T14:44:59Z", "1234", "@", "@40000000", "<", "<34", "<34>", "<34>1",
		"<34>1 ", "<34>1 -x", "\t2026-11-23T14:44:59Z",
	};
	char what[64];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(what, sizeof what, "%s", as_utc(bad[i]));
		ck_assert_msg(strcmp(what, "none") == 0, "accepted '%s' as %s", bad[i], what);
	}
}
END_TEST

static const char *const samples[] = {
	"Nov 23 14:44:59 mx postfix/smtpd[1234]: connect from x",
	"Nov  3 04:05:06 mx x",
	"Nov 23 14:44:59.123456 mx x",
	"2026-11-23T14:44:59.123456+01:00 mx x",
	"2026-11-23T14:44:59.123456-0500 mx x",
	"2026-11-23T14:44:59Z mx x",
	"<34>1 2026-11-23T14:44:59.003Z host app pid id - msg",
	"<34>1 - host app pid id - msg",
	"<13>Nov 23 14:44:59 mx x",
	"@4000000069232f1b1c2d3e4f x",
	"2026-11-23 14:44:59 1abcde-000123-AB H=x",
	"2026-11-23 14:44:59.5 +0100 1abcde",
};

/* Every prefix of a valid stamp either fails or is a valid parse of that
 * prefix (e.g. "2026-11-23T14:44:59.12" alone), ending at its end or just
 * after a space; none reads past its end (ASan). */
START_TEST(truncated_input_is_rejected_or_consistent)
{
	time_t now = (time_t)utc(2026, 11, 24, 0, 0, 0);

	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		size_t len = strlen(samples[i]);

		for (size_t k = 0; k <= len; k++) {
			int64_t sec = -1;
			uint32_t usec = 0;
			size_t r = parse_n(samples[i], k, now, &sec, &usec, NULL);

			ck_assert_msg(r <= k, "'%.*s' consumed %zu", (int)k, samples[i], r);
			ck_assert_msg(r == 0 || r == k || samples[i][r - 1] == ' ',
				      "'%.*s' stopped inside a word at %zu", (int)k, samples[i], r);
			ck_assert(usec < 1000000);
		}
	}
}
END_TEST

/* Random mutations of the samples: never past the end, never absurd. */
START_TEST(mutated_input_stays_in_bounds)
{
	static const char alphabet[] = "0123456789:-+.,@<> TtZzNovDecabcdefx\t\xff";
	time_t now = (time_t)utc(2026, 11, 24, 0, 0, 0);
	char buf[128];

	srand(1);
	for (int round = 0; round < 200000; round++) {
		const char *s = samples[(size_t)rand() % (sizeof samples / sizeof samples[0])];
		size_t len = strlen(s), k = (size_t)rand() % (len + 1);
		int64_t sec;
		uint32_t usec = 0;
		size_t r;

		memcpy(buf, s, len);
		for (int m = rand() % 4; m >= 0; m--)
			buf[(size_t)rand() % len] = alphabet[(size_t)rand() % (sizeof alphabet - 1)];
		r = parse_n(buf, k, now, &sec, &usec, NULL);
		ck_assert(r <= k);
		ck_assert(usec < 1000000);
	}
}
END_TEST

/* The arithmetic agrees with timegm() over a wide range of dates. */
START_TEST(civil_arithmetic_agrees_with_timegm)
{
	char s[40], f[32];
	int64_t sec;
	uint32_t usec;

	srand(2);
	for (int i = 0; i < 100000; i++) {
		int y = 1900 + rand() % 300, mo = 1 + rand() % 12, d = 1 + rand() % 28;
		int h = rand() % 24, mi = rand() % 60, se = rand() % 60;

		snprintf(s, sizeof s, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, se);
		ck_assert_uint_eq(parse(s, 0, &sec, &usec), strlen(s));
		ck_assert_int_eq(sec, utc(y, mo, d, h, mi, se));
		logtime_format_utc(sec, f);
		ck_assert_str_eq(f, s);
	}
}
END_TEST

START_TEST(format_utc_formats)
{
	char buf[32];

	logtime_format_utc(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	logtime_format_utc(-1, buf);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	logtime_format_utc(utc(2026, 11, 22, 10, 0, 1), buf);
	ck_assert_str_eq(buf, "2026-11-22T10:00:01Z");
	logtime_format_utc(utc(2000, 2, 29, 23, 59, 59), buf);
	ck_assert_str_eq(buf, "2000-02-29T23:59:59Z");
}
END_TEST

/* Not an assertion: how long a typical stamp takes. */
START_TEST(speed_report)
{
	const char *l = "Nov 23 14:44:59 mx postfix/smtpd[1234]: connect from unknown[192.0.2.1]";
	const char *l2 = "2026-11-23T14:44:59.123456+00:00 mx dovecot[99]: imap-login: x";
	size_t n = strlen(l), n2 = strlen(l2);
	time_t now = (time_t)utc(2026, 11, 24, 0, 0, 0);
	struct timespec a, b;
	int64_t sec, sum = 0;
	uint32_t usec;
	const int N = 2000000;

	set_tz("Europe/Berlin");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < N; i++) {
		sum += (int64_t)logtime_parse(l, n, now, &sec, &usec);
		sum += sec;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("logtime_parse RFC 3164: %.1f ns/line\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / N);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < N; i++) {
		sum += (int64_t)logtime_parse(l2, n2, now, &sec, &usec);
		sum += sec;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("logtime_parse RFC 3339: %.1f ns/line (%lld)\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / N,
	       (long long)(sum & 1));
	set_tz("UTC");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("logtime");
	TCase *tc = tcase_create("logtime");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rfc3164_reads_local_time_and_consumes_one_space);
	tcase_add_test(tc, rfc3164_year_rolls_over_both_ways);
	tcase_add_test(tc, rfc3339_fractions_and_zones);
	tcase_add_test(tc, rfc5424_header_is_consumed);
	tcase_add_test(tc, bracketed_php_stamp_has_its_zone);
	tcase_add_test(tc, tai64n_matches_known_values);
	tcase_add_test(tc, spaced_form_is_local_with_optional_exim_zone);
	tcase_add_test(tc, local_time_follows_dst_changes);
	tcase_add_test(tc, garbage_is_rejected);
	tcase_add_test(tc, truncated_input_is_rejected_or_consistent);
	tcase_add_test(tc, mutated_input_stays_in_bounds);
	tcase_add_test(tc, civil_arithmetic_agrees_with_timegm);
	tcase_add_test(tc, format_utc_formats);
	tcase_add_test(tc, speed_report);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
