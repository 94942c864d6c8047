// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_filterfile - the filter file parser (filterset_load: INI, keys,
 * regex compilation, named groups, literal prefixes, program globs) on an
 * arbitrary file; a file that loads is then run over a few real log lines
 * (from filters/samples) through a matcher, and every event must hold the
 * invariants of fuzz_event.h.
 *
 * Also: an error is a terminated message starting with the file's path,
 * and a file that fails leaves the set as it was (a second, good file
 * still loads and runs). LeakSanitizer checks that a failed load frees
 * what it compiled.
 */
#include "fuzz_event.h"

#include "log.h"

#include <time.h>

static const char *const lines[] = {
	"Nov 22 10:00:01 mx postfix/smtpd[2101]: connect from unknown[203.0.113.5]",
	"Nov 22 10:00:02 mx postfix/smtpd[2101]: warning: unknown[203.0.113.5]: SASL LOGIN authentication "
	"failed: UGFzc3dvcmQ6, sasl_username=bob@example.org",
	"Nov 22 10:00:06 mx postfix/smtpd[2101]: disconnect from unknown[2001:db8::5] ehlo=1 auth=0/3 rset=2 "
	"commands=3/6",
	"Nov 22 11:00:03 mx dovecot: pop3-login: Aborted login (auth failed, 1 attempts in 4 secs): user=<test>, "
	"method=PLAIN, rip=::ffff:203.0.113.6, lip=::ffff:192.0.2.1, session=<AbCdEfGhIjKlMnOp>",
	"2026-11-22 11:00:04 imap-login: Info: Login: user=<a>, method=PLAIN, rip=[2001:DB8:0:0::7]:143, "
	"lip=192.0.2.1, mpid=7, TLS",
	"<34>1 2026-11-22T11:00:05Z mx sshd 77 - - Failed password for root from 198.51.100.7 port 22",
	"no header at all: 192.0.2.1 user=x",
	"",
};

static void on_event(void *arg, const struct event *ev, const struct logline *ll)
{
	unsigned *n = arg;

	fuzz_check_event(ev, ll);
	(*n)++;
}

static const char good[] =
	"[good]\nevent = auth-fail\nregex = ^connect from [^[]*\\[(?<ip>[^]]+)\\]$\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_filterfile", LOG_LVL_WARN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filterset *fs = filterset_new(NULL);
	const char *path = fuzz_file("fz.conf", data, size);
	char err[1024], pathcopy[256];
	struct matcher *m;
	struct logline ll;
	unsigned events = 0;
	int rc;

	snprintf(pathcopy, sizeof pathcopy, "%s", path);
	memset(err, 'x', sizeof err);
	rc = filterset_load(fs, pathcopy, err, sizeof err);
	if (rc < 0) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL, "unterminated error message");
		FUZZ_ASSERT(strncmp(err, pathcopy, strlen(pathcopy)) == 0, "error without the file name: %s", err);
		FUZZ_ASSERT(filterset_nfilters(fs) == 0 && !filterset_has_file(fs, "fz"), "a failed load left filters");
		path = fuzz_file("good.conf", (const uint8_t *)good, sizeof good - 1);
		FUZZ_ASSERT(filterset_load(fs, path, err, sizeof err) == 0, "the good file after a bad one: %s", err);
	} else {
		FUZZ_ASSERT(filterset_has_file(fs, "fz") && filterset_nfilters(fs) >= 1, "loaded nothing");
	}
	m = matcher_new(fs, NULL, 0, err, sizeof err);
	FUZZ_ASSERT(m, "matcher: %s", err);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		size_t len = strlen(lines[i]);
		char *copy = malloc(len ? len : 1);   /* exactly the line: ASan sees a read past it */
		int n;

		memcpy(copy, lines[i], len);
		logline_parse(&ll, copy, len, 1795000000);
		n = matcher_run(m, &ll, on_event, &events);
		FUZZ_ASSERT(n >= 0 && (size_t)n <= filterset_nfilters(fs), "%d events from %zu filters", n,
			    filterset_nfilters(fs));
		free(copy);
	}
	matcher_free(m);
	filterset_free(fs);
	return 0;
}
