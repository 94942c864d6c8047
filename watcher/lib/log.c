// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log - see log.h. Owns the program name and the current level; nothing
 * else. Never allocates, so it is safe on the allocation failure path.
 * Never writes a control character: a message carrying one (a name or a
 * path quoted from hostile input) is written escaped, so that no text can
 * end a log line early and forge the next one, or act on a terminal.
 */
#include "log.h"
#include "jsonw.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "mailscreen";
static enum log_level log_max = LOG_LVL_INFO;
static bool log_syslog;
static bool log_journal;        /* stderr is a systemd journal stream */
static bool log_stamps;         /* stderr lines start with time and pid */

/* systemd sets JOURNAL_STREAM=DEV:INO for a service whose stderr is
 * connected to the journal; only if stderr is still that stream (not
 * redirected by a child's caller) do its lines take priorities. */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat sb;
	char end;

	if (!v || sscanf(v, "%ju:%ju%c", &dev, &ino, &end) != 2 || fstat(2, &sb) < 0)
		return false;
	return (uintmax_t)sb.st_dev == dev && (uintmax_t)sb.st_ino == ino;
}

void log_init(const char *progname, enum log_level max)
{
	log_prog = progname;
	log_max = max;
	log_journal = stderr_is_journal();
}

bool log_to_journal(void) { return log_journal; }

void log_set_level(enum log_level max) { log_max = max; }
enum log_level log_get_level(void) { return log_max; }

void log_set_stamps(bool on) { log_stamps = on; }

int log_syslog_probe(char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	int types[] = { SOCK_DGRAM, SOCK_STREAM }, e = 0;

	/* as syslog(3) does: a datagram socket, else a stream one */
	for (size_t i = 0; i < 2; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errf(err, errlen, "socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(fd);
			return 0;
		}
		e = errno;
		close(fd);
		if (e != EPROTOTYPE)
			break;
	}
	return errf(err, errlen, "no syslog at /dev/log (%s)", strerror(e));
}

void log_to_syslog(bool on)
{
	if (on && !log_syslog)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && log_syslog)
		closelog();
	log_syslog = on;
}

static void log_emit(enum log_level lvl, int errnum, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	char msg[2048], esc[4096];
	const char *out = msg;
	size_t len;
	int n;

	if (lvl > log_max)
		return;
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		return;
	if (errnum && (size_t)n < sizeof msg)
		snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(errnum));
	len = strlen(msg);
	if (!text_printable(msg, len, NULL)) {
		text_escape(esc, sizeof esc, msg, len);
		out = esc;
	}
	if (log_syslog)
		syslog(prio[lvl], "%s%s", tag[lvl], out);
	else if (log_journal)
		/* the journal names the program; "<N>" is the line's priority,
		 * so "journalctl -p warning" finds refusals and errors */
		fprintf(stderr, "<%d>%s%s\n", prio[lvl], tag[lvl], out);
	else if (log_stamps) {
		char when[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
		fprintf(stderr, "%s %s[%ld]: %s%s\n", when, log_prog, (long)getpid(), tag[lvl], out);
	} else
		fprintf(stderr, "%s: %s%s\n", log_prog, tag[lvl], out);
}

#define LOG_BODY(lvl, errnum) do { \
	va_list ap; va_start(ap, fmt); log_emit(lvl, errnum, fmt, ap); va_end(ap); \
} while (0)

void log_warn(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LVL_WARN, e); errno = e; }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, 0); }
void fatal(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LVL_ERR, e); exit(1); }
void fatalx(const char *fmt, ...) { LOG_BODY(LOG_LVL_ERR, 0); exit(1); }
void log_panic(const char *fmt, ...) { LOG_BODY(LOG_LVL_ERR, 0); abort(); }

int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
