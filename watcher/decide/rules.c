// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rules - see rules.h. Owns the parsed rules; nothing else. A rule file
 * is INI, one section per rule:
 *
 *   [auth-ip]
 *   events   = auth-fail          ; kinds counted
 *   services = smtp imap          ; optional: only these services
 *   per      = ip                 ; the key counted: ip, account or session
 *   limit    = 5                  ; 0 = no limit
 *   window   = 10m
 *   block    = 1h                 ; a duration, permanent, or log
 *   ipv6_prefix = 64              ; IPv6 addresses are keyed per /64
 *   users    = any                ; any, bare (no '@') or full
 *   exempt_authenticated = no     ; skip sessions/addresses that logged in
 */
#include "rules.h"
#include "duration.h"
#include "event.h"
#include "inifile.h"
#include "inilayer.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ini_keydef keys[] = {
	{ "events", NULL }, { "services", "any" }, { "per", "ip" }, { "limit", NULL }, { "window", NULL },
	{ "block", NULL }, { "enabled", "yes" }, { "users", "any" }, { "exempt_authenticated", "no" },
	{ "ipv4_prefix", "32" }, { "ipv6_prefix", "64" },
};
#define NKEYS (sizeof keys / sizeof keys[0])

size_t rules_keys(const struct ini_keydef **k)
{
	*k = keys;
	return NKEYS;
}

struct rload {
	struct ruleset *rs;
	size_t first;           /* rules of these files start here */
	const char *path;       /* the file of the section being read */
	const struct inilayer *doc;
	struct rule *cur;
	int secline;
};

static void rule_release(struct rule *r)
{
	free(r->name);
	free(r->file);
	for (size_t i = 0; r->services && r->services[i]; i++)
		free(r->services[i]);
	free(r->services);
}

static int finish(struct rload *ld, char *err, size_t errlen)
{
	struct rule *r = ld->cur;

	if (!r)
		return 0;
	ld->cur = NULL;
	if (!r->kinds)
		return errf(err, errlen, "rule '%s' (line %d) has no 'events' (e.g. events = auth-fail)", r->name, r->lineno);
	if (!r->limit_set)
		return errf(err, errlen, "rule '%s' (line %d) has no 'limit'", r->name, r->lineno);
	if (!r->window_ms)
		return errf(err, errlen, "rule '%s' (line %d) has no 'window' (e.g. window = 10m)", r->name, r->lineno);
	if (!r->log_only && !r->block_ms)
		return errf(err, errlen, "rule '%s' (line %d) has no 'block' (a duration, permanent, or log)",
			    r->name, r->lineno);
	return 0;
}

static int key_value(void *arg, const char *section, const char *k, const char *v, int lineno, int secline,
		     char *err, size_t errlen)
{
	struct rload *ld = arg;
	struct rule *r = ld->cur;
	char msg[ERR_LEN];

	if (!r || strcmp(r->name, section) != 0 || secline != ld->secline) {
		if (finish(ld, msg, sizeof msg) < 0)
			return errf(err, errlen, "%s", msg);
		if (!*section)
			return errf(err, errlen, "key '%s' outside a [rule] section", k);
		for (size_t i = 0; i < ld->rs->n; i++)
			if (strcmp(ld->rs->v[i].name, section) == 0)
				return errf(err, errlen, "rule '%s' is defined twice (also in %s:%d)", section,
					    ld->rs->v[i].file, ld->rs->v[i].lineno);
		XGROW(ld->rs->v, ld->rs->alloc, ld->rs->n + 1);
		r = &ld->rs->v[ld->rs->n++];
		*r = (struct rule){ .name = xstrdup(section), .file = xstrdup(ld->path), .lineno = lineno,
				    .enabled = true, .per = PER_IP, .ipv4_prefix = 32, .ipv6_prefix = 64 };
		ld->cur = r;
		ld->secline = secline;
	}
	if (strcmp(k, "events") == 0) {
		char **w, *st;
		size_t n = ini_words(v, &w, &st);
		r->kinds = 0;
		for (size_t i = 0; i < n; i++) {
			int kind = ev_kind_parse(w[i], strlen(w[i]));
			if (kind < 0) {
				errf(err, errlen, "unknown event '%s' (known: connect, auth-fail, auth-ok, rcpt-fail, "
				     "rset, abuse, disconnect)", w[i]);
				free(w);
				free(st);
				return -1;
			}
			r->kinds |= 1u << kind;
		}
		free(w);
		free(st);
		if (!r->kinds)
			return errf(err, errlen, "events: name at least one event kind");
	} else if (strcmp(k, "services") == 0) {
		char **w, *st;
		size_t n = ini_words(v, &w, &st);
		for (size_t i = 0; r->services && r->services[i]; i++)
			free(r->services[i]);
		free(r->services);
		r->services = xcalloc(n + 1, sizeof *r->services);
		for (size_t i = 0; i < n; i++)
			r->services[i] = xstrdup(w[i]);
		free(w);
		free(st);
	} else if (strcmp(k, "per") == 0) {
		if (strcmp(v, "ip") == 0)
			r->per = PER_IP;
		else if (strcmp(v, "account") == 0)
			r->per = PER_ACCOUNT;
		else if (strcmp(v, "session") == 0)
			r->per = PER_SESSION;
		else
			return errf(err, errlen, "per = '%s': use ip, account or session", v);
	} else if (strcmp(k, "users") == 0) {
		if (strcmp(v, "any") == 0)
			r->user_form = USER_ANY;
		else if (strcmp(v, "bare") == 0)
			r->user_form = USER_BARE;
		else if (strcmp(v, "full") == 0)
			r->user_form = USER_FULL;
		else
			return errf(err, errlen, "users = '%s': use any, bare (names without '@') or full", v);
	} else if (strcmp(k, "exempt_authenticated") == 0) {
		int b;
		if (ini_bool(v, &b) < 0)
			return errf(err, errlen, "exempt_authenticated: '%s' is not yes or no", v);
		r->exempt_authenticated = b;
	} else if (strcmp(k, "limit") == 0) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);
		if (*end || !*v || v[0] == '-' || n > 10000)
			return errf(err, errlen, "limit: '%s' is not a number from 0 (no limit) to 10000", v);
		r->limit = (uint32_t)n;
		r->limit_set = true;
	} else if (strcmp(k, "window") == 0) {
		if (duration_parse(v, &r->window_ms, 0, false, msg, sizeof msg) < 0)
			return errf(err, errlen, "window: %s", msg);
	} else if (strcmp(k, "block") == 0) {
		r->log_only = strcmp(v, "log") == 0;
		if (!r->log_only && duration_parse(v, &r->block_ms, 0, true, msg, sizeof msg) < 0)
			return errf(err, errlen, "block: %s (or 'log' to only log)", msg);
	} else if (strcmp(k, "enabled") == 0) {
		int b;
		if (ini_bool(v, &b) < 0)
			return errf(err, errlen, "enabled: '%s' is not yes or no", v);
		r->enabled = b;
	} else if (strcmp(k, "ipv4_prefix") == 0 || strcmp(k, "ipv6_prefix") == 0) {
		bool six = k[3] == '6';
		char *end;
		unsigned long n = strtoul(v, &end, 10);
		if (*end || v[0] == '-' || n < (six ? 16u : 8u) || n > (six ? 128u : 32u))
			return errf(err, errlen, "%s: '%s' is not a prefix length from %u to %u", k, v,
				    six ? 16u : 8u, six ? 128u : 32u);
		if (six)
			r->ipv6_prefix = (uint8_t)n;
		else
			r->ipv4_prefix = (uint8_t)n;
	} else {
		char known[512];
		size_t n = 0;
		for (size_t i = 0; i < NKEYS && n < sizeof known; i++)
			n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", keys[i].name);
		return errf(err, errlen, "unknown key '%s' in rule [%s] (known: %s)", k, section, known);
	}
	return 0;
}

/* No rule value holds ';' or '#' after a blank: there they start a
 * comment, as in the README's examples. */
static int key(void *arg, const char *section, const char *k, const char *v, int lineno, int secline,
	       char *err, size_t errlen)
{
	char *value = ini_strip_comment(v);
	int rc = key_value(arg, section, k, value, lineno, secline, err, errlen);

	free(value);
	return rc;
}

static int section_begin(void *arg, const struct ini_section_info *si, char *err, size_t errlen)
{
	struct rload *ld = arg;

	(void)err;
	(void)errlen;
	ld->path = si->file;
	return 0;
}

/* A section's keys are all read: the rule must be complete. An override
 * section that names no shipped rule is a new rule, and says so. */
static int section_end(void *arg, const struct ini_section_info *si, char *err, size_t errlen)
{
	struct rload *ld = arg;
	char msg[ERR_LEN], hint[ERR_LEN];

	if (finish(ld, msg, sizeof msg) == 0)
		return 0;
	inilayer_added_hint(ld->doc, si, "rule", hint, sizeof hint);
	return errf(err, errlen, "%s%s", msg, hint);
}

int ruleset_load_layers(struct ruleset *rs, const struct inilayer *doc, char *err, size_t errlen)
{
	struct rload ld = { .rs = rs, .first = rs->n, .doc = doc };
	struct inilayer_feeder fd = { .begin = section_begin, .key = key, .end = section_end, .arg = &ld };

	if (inilayer_feed(doc, NULL, &fd, err, errlen) < 0) {
		while (rs->n > ld.first)
			rule_release(&rs->v[--rs->n]);
		return -1;
	}
	return 0;
}

int ruleset_load(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	struct inilayer *doc = inilayer_new();
	int rc = inilayer_add(doc, path, NULL, false, err, errlen);

	if (rc == 0)
		rc = ruleset_load_layers(rs, doc, err, errlen);
	inilayer_free(doc);
	return rc;
}

void ruleset_release(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_release(&rs->v[i]);
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

uint64_t ruleset_max_window(const struct ruleset *rs)
{
	uint64_t m = 0;

	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].enabled && rs->v[i].window_ms > m)
			m = rs->v[i].window_ms;
	return m;
}

bool rule_wants_service(const struct rule *r, const char *svc, size_t len)
{
	if (!r->services || !r->services[0])
		return true;
	if (!svc)
		return false;
	for (size_t i = 0; r->services[i]; i++)
		if (strlen(r->services[i]) == len && memcmp(r->services[i], svc, len) == 0)
			return true;
	return false;
}
