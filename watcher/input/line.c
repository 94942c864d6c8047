// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * line - see line.h. Splits a raw line into timestamp, host, "prog[pid]:"
 * tag and message in one pass over the header.
 *
 * Owns nothing: every pointer it sets refers into the caller's buffer. It
 * must never allocate, never read raw[len] or beyond, and never look for
 * the tag past the first two words after the timestamp: the message text is
 * the attacker's ("warning: fake[2]: ..."), the header is not. Whatever it
 * does not recognise stays in msg.
 *
 * Which words may be a host or a tag depends on the timestamp's form:
 *   RFC 3164, RFC 3339   "host tag: msg" or "tag: msg" (Dovecot's log_path)
 *   YYYY-MM-DD hh:mm:ss  "tag: msg" or just "msg" (Dovecot, Exim): no host
 *   RFC 5424             "host app procid msgid sd msg", fields may be "-"
 *   TAI64N, none         "tag[pid]: msg" or just "msg": only a pid makes
 *                        a word clearly a tag
 *   [DD-Mon-YYYY ...]:   "msg" (Roundcube's log files): neither
 * A pid is written "[1234]" (syslog) or "(1234)" (Dovecot's log_path:
 * "auth-worker(1234): Info: ...").
 */
#include "line.h"

#include "logtime.h"

#include <stdbool.h>
#include <string.h>

#define TAG_MAX         64      /* longest syslog tag taken as one */
#define HOST_MAX        255
#define PID_DIGITS      10
#define PID_MAX         2147483647

/* RFC 5424 field limits: HOSTNAME, APP-NAME, PROCID, MSGID. */
static const size_t sd5424_max[4] = { 255, 48, 128, 32 };

static inline bool is_digit(char c) { return (unsigned)(c - '0') < 10u; }

/* Character classes as 128-bit maps of ASCII, bit c of word c / 64: one
 * lookup per byte instead of a chain of comparisons, which made a whole
 * RFC 3164 line about 10% faster (speed report in tests/unit/test_line.c). */
#define BITS(lo, hi)    (((UINT64_C(1) << ((hi) - (lo) + 1)) - 1) << (lo))
#define DIGITS          BITS('0' % 64, '9' % 64)
#define UPPER           BITS('A' % 64, 'Z' % 64)
#define LOWER           BITS('a' % 64, 'z' % 64)
#define BIT(c)          (UINT64_C(1) << ((c) % 64))

/* Tag: letters, digits and . _ / - @ */
static const uint64_t tag_map[2] = {
	DIGITS | BIT('.') | BIT('/') | BIT('-'),
	UPPER | LOWER | BIT('_') | BIT('@'),
};
/* Host: letters, digits and . _ - : (IPv6) */
static const uint64_t host_map[2] = {
	DIGITS | BIT('.') | BIT('-') | BIT(':'),
	UPPER | LOWER | BIT('_'),
};

static inline bool in_map(const uint64_t map[2], char c)
{
	unsigned char u = (unsigned char)c;

	return u < 128 && (map[u >> 6] >> (u & 63) & 1);
}

static inline bool tag_char(char c) { return in_map(tag_map, c); }
static inline bool host_char(char c) { return in_map(host_map, c); }

/*
 * "tag[pid]:", "tag(pid):" or "tag:" at s, then a space or the end of the line. On
 * success fills prog, pid and msg and returns true; otherwise leaves ll as
 * it was.
 */
static bool take_tag(struct logline *ll, const char *s, size_t n, bool need_pid)
{
	size_t i = 0, taglen, d;
	int64_t pid = -1;

	while (i < n && i <= TAG_MAX && tag_char(s[i]))
		i++;
	if (i == 0 || i > TAG_MAX || i >= n)
		return false;
	taglen = i;
	if (s[i] == '[' || s[i] == '(') {
		/* "tag(pid):" is how Dovecot's log_path names its worker
		 * processes ("auth-worker(1234): Info: ..."); only digits: a
		 * "(" with anything else ("imap(user)<pid>:") is no tag */
		char close = s[i] == '[' ? ']' : ')';

		pid = 0;
		for (i++, d = 0; i < n && is_digit(s[i]) && d < PID_DIGITS; i++, d++)
			pid = pid * 10 + (s[i] - '0');
		if (d == 0 || pid > PID_MAX || i >= n || s[i] != close)
			return false;
		i++;
	} else if (need_pid) {
		return false;
	}
	if (i >= n || s[i] != ':')
		return false;
	i++;
	if (i < n) {
		if (s[i] != ' ')
			return false;
		i++;
	}
	ll->prog = s;
	ll->proglen = taglen;
	ll->pid = (long)pid;
	ll->msg = s + i;
	ll->msglen = n - i;
	return true;
}

/* Length of a host name at s followed by a space and more, or 0. */
static size_t host_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && i <= HOST_MAX && host_char(s[i]))
		i++;
	if (i == 0 || i > HOST_MAX || i + 1 >= n || s[i] != ' ')
		return 0;
	return i;
}

/* Structured data: one or more "[id param="value" ...]"; in values '"',
 * '\' and ']' may be escaped with '\'. Returns the index after it, 0 if
 * malformed or truncated. */
static size_t skip_sd(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] == '[') {
		bool quoted = false;

		for (i++;; i++) {
			if (i >= n)
				return 0;
			if (quoted) {
				if (s[i] == '\\')
					i++;
				else if (s[i] == '"')
					quoted = false;
			} else if (s[i] == '"') {
				quoted = true;
			} else if (s[i] == ']') {
				break;
			}
		}
		i++;
	}
	return i;
}

/* After "<PRI>1 TIMESTAMP ": "HOSTNAME APP-NAME PROCID MSGID SD [MSG]".
 * All or nothing: a malformed header leaves msg as it is. */
static void parse_5424(struct logline *ll, const char *s, size_t n)
{
	const char *f[4];
	size_t fl[4], i = 0;

	for (size_t k = 0; k < 4; k++) {
		size_t start = i;

		while (i < n && s[i] > ' ' && s[i] < 127 && i - start < sd5424_max[k])
			i++;
		if (i == start || i >= n || s[i] != ' ')
			return;
		f[k] = s + start;
		fl[k] = i - start;
		i++;
	}
	if (i >= n)
		return;
	if (s[i] == '-')
		i++;
	else if (s[i] != '[' || (i = skip_sd(s, n, i)) == 0)
		return;
	if (i < n) {
		if (s[i] != ' ')
			return;
		i++;
	}
	/* MSG may start with a UTF-8 byte order mark. */
	if (n - i >= 3 && (unsigned char)s[i] == 0xef && (unsigned char)s[i + 1] == 0xbb &&
	    (unsigned char)s[i + 2] == 0xbf)
		i += 3;

#define NIL(k) (fl[k] == 1 && f[k][0] == '-')
	if (!NIL(0)) {
		ll->host = f[0];
		ll->hostlen = fl[0];
	}
	if (!NIL(1)) {
		ll->prog = f[1];
		ll->proglen = fl[1];
	}
	if (fl[2] <= PID_DIGITS) {
		int64_t pid = 0;
		size_t k;

		for (k = 0; k < fl[2] && is_digit(f[2][k]); k++)
			pid = pid * 10 + (f[2][k] - '0');
		if (k == fl[2] && pid <= PID_MAX)
			ll->pid = (long)pid;
	}
#undef NIL
	ll->msg = s + i;
	ll->msglen = n - i;
}

void logline_parse(struct logline *ll, const char *raw, size_t len, time_t now)
{
	enum logtime_form form;
	int64_t sec = 0;
	uint32_t usec = 0;
	size_t p, hl;
	const char *s;
	size_t n;

	ll->raw = raw;
	ll->rawlen = len;
	ll->msg = raw;
	ll->msglen = len;
	ll->prog = NULL;
	ll->proglen = 0;
	ll->host = NULL;
	ll->hostlen = 0;
	ll->pid = -1;
	ll->time = 0;
	ll->usec = 0;
	ll->cut = false;

	p = logtime_parse_form(raw, len, now, &sec, &usec, &form);
	if (p) {
		ll->time = sec;
		ll->usec = usec;
	}
	ll->form = form;
	s = raw + p;
	n = len - p;
	ll->msg = s;
	ll->msglen = n;

	switch (form) {
	case LOGTIME_RFC5424:
		parse_5424(ll, s, n);
		break;
	case LOGTIME_NONE:
	case LOGTIME_TAI64N:
	case LOGTIME_JOURNAL:   /* never parsed from text */
		take_tag(ll, s, n, true);
		break;
	case LOGTIME_SPACED:
		take_tag(ll, s, n, false);
		break;
	case LOGTIME_BRACKETED:
		break;
	case LOGTIME_RFC3164:
	case LOGTIME_RFC3339:
		if (take_tag(ll, s, n, false))
			break;
		if ((hl = host_len(s, n)) != 0 && take_tag(ll, s + hl + 1, n - hl - 1, false)) {
			ll->host = s;
			ll->hostlen = hl;
		}
		break;
	}
}

static const char *const format_names[] = {
	[LOGLINE_AUTO] = "auto", [LOGLINE_SYSLOG] = "syslog", [LOGLINE_POSTLOG] = "postlog",
	[LOGLINE_DOVECOT] = "dovecot", [LOGLINE_MULTILOG] = "multilog",
};

int logline_format_parse(const char *s)
{
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
		if (strcmp(s, format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *logline_format_name(enum logline_format f)
{
	return (unsigned)f < sizeof format_names / sizeof format_names[0] ? format_names[f] : "auto";
}

bool logline_fits(enum logline_format f, const struct logline *ll)
{
	switch (f) {
	case LOGLINE_AUTO:
		return true;
	case LOGLINE_SYSLOG:
		return ll->host && (ll->form == LOGTIME_RFC3164 || ll->form == LOGTIME_RFC3339 ||
				    ll->form == LOGTIME_RFC5424);
	case LOGLINE_POSTLOG:
		return ll->host && ll->prog && ll->pid >= 0 && ll->form == LOGTIME_RFC3164;
	case LOGLINE_DOVECOT:
		return !ll->host && (ll->form == LOGTIME_RFC3164 || ll->form == LOGTIME_RFC3339 ||
				     ll->form == LOGTIME_SPACED);
	case LOGLINE_MULTILOG:
		return !ll->host && ll->form == LOGTIME_TAI64N;
	}
	return true;
}
