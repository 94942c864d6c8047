/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * event - what a filter makes of a log line. The set of kinds is closed.
 * String fields point into the line (or the filter) and are valid only
 * during the callback that receives the event.
 */
#ifndef MS_EVENT_H
#define MS_EVENT_H

#include "addr.h"

#include <stdbool.h>
#include <stdint.h>

enum ev_kind {
	EV_CONNECT,
	EV_AUTH_FAIL,
	EV_AUTH_OK,
	EV_RCPT_FAIL,
	EV_RSET,
	EV_ABUSE,
	EV_DISCONNECT,
	EV_NKINDS
};

struct filter;

struct event {
	int64_t time;           /* Unix seconds */
	uint32_t usec;
	enum ev_kind kind;
	bool has_ip;
	struct ipaddr ip;
	const char *user;       /* NULL if none */
	size_t userlen;
	const char *session;    /* NULL if none */
	size_t sessionlen;
	unsigned long count;    /* 1 unless the filter captured a count */
	const char *service;    /* "smtp", "imap", ...; NULL if unknown */
	size_t servicelen;
	const struct filter *filter;
	const char *filter_name;
	int regex;              /* index of the matching regex in the filter */
	bool only_if_counted;   /* counts for a rule only where its key already
				 * has a counted event in the rule's window */
	bool handoff;           /* a connect that another program logs again (postscreen) */
	bool session_only;      /* an auth-ok for its session, not its address */
	bool session_address;   /* names its session's address, or takes it (dedup) */
	unsigned long dup;      /* attempts or connections of this line that
				 * earlier lines counted (dedup); count is the rest */
};

const char *ev_kind_name(enum ev_kind k);
/* -1 if the name is not a kind */
int ev_kind_parse(const char *name, size_t len);

#endif
