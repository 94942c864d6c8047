/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dedup - one attempt, one count, however many log lines show it.
 *
 * The same password attempt can be written three times: by pam_unix, by
 * Dovecot's auth process (auth_verbose = yes: one line per attempt, one per
 * passdb tried) and by the program that asked (Dovecot's login process in
 * its "auth failed, N attempts" summary, or Postfix/Exim for SMTP AUTH
 * through Dovecot SASL). A client that passes postscreen is logged as a
 * connection by postscreen and again by smtpd. dedup sits after the
 * filters and makes the first line that shows an attempt or connection
 * count it; later lines that show the same one count 0 (ev->dup says how
 * many of theirs were counted before):
 *
 *   - lines of the auth process (service "auth") for the same address and
 *     user within a second, in the same or no session: one attempt (a
 *     passdb chain, pam_unix beside Dovecot's own line); each line takes
 *     the place of at most one other;
 *   - a login process's summary with a Dovecot session id counts only the
 *     attempts the auth lines of that session did not show;
 *   - an auth-fail of another service (an MTA's SASL failure) and an auth
 *     line without a session (a SASL client's request: Dovecot's login
 *     processes always send their session) for the same address within
 *     attempt_s, in either order: one attempt, counted by the first; a
 *     summary of N attempts takes up to N such lines of the last 5
 *     minutes (pam_unix's lines of a login session, which Dovecot logs
 *     without its session id when auth_verbose = no);
 *   - an only_if_counted auth-fail of another service (smtpd's
 *     "Connection lost to authentication server": it stopped waiting)
 *     and an unpaired auth line without a session for the same address
 *     within attempt_s before it: one attempt (the auth process checked
 *     the password, its reply came too late); without such a line it
 *     stands alone, and it never waits for a later one;
 *   - a connect from a filter with "handoff = yes" (postscreen) and the
 *     next connect of the same address and service from another filter
 *     within handoff_s: one connection.
 *
 * It also lends addresses: an event of a filter with "session_address =
 * yes" that has a session but no address (OpenSMTPD >= 6.7 names the
 * client only in its "connected" line) takes the address an earlier event
 * of such a filter named for that session.
 *
 * Pairing starts with the first line of an auth process: where none is
 * ever logged (auth_verbose = no, no Dovecot), the other lines count as
 * they are, and cost nothing here.
 *
 * Every pairing takes one line for one: an attacker's lines can only ever
 * be counted, never made to cancel more than one other line each. What is
 * remembered is bounded (rings of fixed size); when an entry is pushed out
 * early, the later line simply counts (more, never less).
 *
 * Owns its rings; keeps no pointer into lines or filters, so a reload of
 * the filters does not concern it. Times are the lines' own (log time).
 */
#ifndef MS_DEDUP_H
#define MS_DEDUP_H

#include "event.h"

#include <stdint.h>

struct dedup;

struct dedup_stats {
	uint64_t same_attempt;  /* auth lines merged with an auth line just before */
	uint64_t session_seen;  /* summary attempts the session's auth lines showed */
	uint64_t sasl_pairs;    /* MTA and auth-process lines of one SASL attempt */
	uint64_t handoffs;      /* connections logged by postscreen and smtpd */
	uint64_t session_addresses;     /* events given their session's address */
};

struct dedup *dedup_new(void);
void dedup_free(struct dedup *d);
/* Adjust ev->count (and set ev->dup) for what earlier lines counted, and
 * fill in the session's address where the filter asks for it. now is used
 * when the event has no time of its own. */
void dedup_event(struct dedup *d, struct event *ev, int64_t now);
void dedup_stats(const struct dedup *d, struct dedup_stats *st);

#endif
