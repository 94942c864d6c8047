/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log - diagnostics for the daemon and the command line tools.
 *
 * log_warn/log_warnx report and go on (with and without errno);
 * fatal/fatalx report and exit(1): configuration or environment problems;
 * log_panic is for our own bugs and aborts. log_info/log_debug are chatty.
 * Messages are lower case, user values quoted: "cannot open '%s'".
 * Output goes to stderr, prefixed with the program name, unless
 * log_to_syslog() was called (daemon without --foreground). When stderr
 * is the systemd journal (JOURNAL_STREAM names it), each line starts with
 * its priority ("<4>warning: ...") and without the name the journal adds.
 */
#ifndef MS_LOG_H
#define MS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *progname, enum log_level max);
void log_set_level(enum log_level max);
enum log_level log_get_level(void);
void log_to_syslog(bool on);
/* Whether a syslog daemon listens at /dev/log (what syslog(3) writes to:
 * without one, its messages are dropped). 0, or -1 with why in err. */
int log_syslog_probe(char *err, size_t errlen);
/* Start each stderr line with the time and "mailscreen[PID]: ", for a
 * detached daemon whose log goes to a file instead of syslog. */
void log_set_stamps(bool on);
/* stderr is the systemd journal: lines carry "<N>" priorities */
bool log_to_journal(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Format into a caller's error buffer and return -1, so that
 * "return errf(err, errlen, "...")" reads well. */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The one length of an error buffer: every char err[ERR_LEN] a callee
 * writes into, and every buffer a caller wraps it into, is this long, so
 * a wrapped message is never cut short by a smaller buffer on the way. */
#define ERR_LEN 1024

#endif
