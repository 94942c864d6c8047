// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_line - the syslog header parser (logline_parse) and the timestamp
 * parser (logtime_parse_form) on arbitrary bytes.
 *
 * The input is one log line, without its newline, exactly as the tail
 * hands it over (not NUL-terminated: libFuzzer's buffer ends at size, so
 * ASan sees any read of raw[len]). It is parsed against two "now"s: one
 * in the middle of a year and one on New Year's Eve (year rollover), in a
 * zone with daylight saving time (so that the local-time cache and its DST
 * hours are exercised).
 *
 * Invariants: every field points into the line; msg is a suffix of it;
 * the tag, host and pid are within their limits and made of their
 * characters; the stamp consumed is within the line and, for every form
 * but RFC 5424, ends at the end of the line or after one space; usec is
 * below a million; parsing is deterministic.
 */
#include "fuzz.h"

#include "line.h"
#include "logtime.h"

#include <stdbool.h>
#include <time.h>

static const time_t nows[] = {
	1782864000,     /* 2026-07-01T00:00:00Z */
	1798761599,     /* 2026-12-31T23:59:59Z */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Central Europe: DST from the last Sunday of March to the last of October */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	logtime_tz_changed();
	return 0;
}

static bool within(const char *p, size_t n, const char *raw, size_t len)
{
	return p >= raw && n <= len && (size_t)(p - raw) <= len - n;
}

static bool tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '/' || c == '-' || c == '@';
}

static void check_line(const char *raw, size_t len, time_t now)
{
	struct logline ll, again;
	enum logtime_form form;
	int64_t sec = -1;
	uint32_t usec = 0;
	size_t p;

	p = logtime_parse_form(raw, len, now, &sec, &usec, &form);
	FUZZ_ASSERT(p <= len, "stamp of %zu bytes in a line of %zu", p, len);
	FUZZ_ASSERT((p == 0) == (form == LOGTIME_NONE), "consumed %zu, form %d", p, (int)form);
	if (p) {
		FUZZ_ASSERT(usec < 1000000, "usec %u", usec);
		if (form != LOGTIME_RFC5424)
			FUZZ_ASSERT(p == len || raw[p - 1] == ' ', "stamp ends at %zu before '%c'", p, raw[p - 1]);
	}

	logline_parse(&ll, raw, len, now);
	FUZZ_ASSERT(ll.raw == raw && ll.rawlen == len, "raw changed");
	FUZZ_ASSERT(ll.form == form, "form %d, the stamp's %d", (int)ll.form, (int)form);
	FUZZ_ASSERT(within(ll.msg, ll.msglen, raw, len) && ll.msg + ll.msglen == raw + len,
		    "msg is not a suffix of the line");
	FUZZ_ASSERT((size_t)(ll.msg - raw) >= p, "msg starts inside the stamp");
	FUZZ_ASSERT(ll.usec < 1000000, "usec %u", ll.usec);
	FUZZ_ASSERT(p ? ll.time == sec && ll.usec == usec : ll.time == 0 && ll.usec == 0,
		    "time %lld.%06u, stamp said %lld.%06u", (long long)ll.time, ll.usec, (long long)sec, usec);
	if (ll.prog) {
		FUZZ_ASSERT(within(ll.prog, ll.proglen, raw, len), "prog outside the line");
		FUZZ_ASSERT(ll.proglen >= 1 && ll.proglen <= 64, "tag of %zu bytes", ll.proglen);
		FUZZ_ASSERT(ll.prog + ll.proglen <= ll.msg, "tag overlaps msg");
		for (size_t i = 0; i < ll.proglen; i++)
			FUZZ_ASSERT(form == LOGTIME_RFC5424 ? ll.prog[i] > ' ' && ll.prog[i] < 127 : tag_char(ll.prog[i]),
				    "tag byte 0x%02x", (unsigned char)ll.prog[i]);
	}
	if (ll.host) {
		FUZZ_ASSERT(within(ll.host, ll.hostlen, raw, len), "host outside the line");
		FUZZ_ASSERT(ll.hostlen >= 1 && ll.hostlen <= 255, "host of %zu bytes", ll.hostlen);
		FUZZ_ASSERT(ll.host + ll.hostlen <= ll.msg, "host overlaps msg");
		FUZZ_ASSERT(!ll.prog || ll.host < ll.prog, "host after the tag");
	}
	FUZZ_ASSERT(ll.pid >= -1 && ll.pid <= 2147483647L, "pid %ld", ll.pid);
	FUZZ_ASSERT(ll.pid == -1 || ll.prog || form == LOGTIME_RFC5424, "a pid without a tag");

	logline_parse(&again, raw, len, now);
	FUZZ_ASSERT(again.msg == ll.msg && again.msglen == ll.msglen && again.prog == ll.prog &&
		    again.proglen == ll.proglen && again.host == ll.host && again.hostlen == ll.hostlen &&
		    again.pid == ll.pid && again.time == ll.time && again.usec == ll.usec,
		    "two parses of the same line differ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++)
		check_line((const char *)data, size, nows[i]);
	return 0;
}
