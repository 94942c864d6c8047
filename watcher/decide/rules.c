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
 *   countries = CN RU             ; only addresses located there ([location])
 */
#include "rules.h"
#include "duration.h"
#include "event.h"
#include "geo.h"
#include "inifile.h"
#include "inilayer.h"
#include "keydoc.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys of a rule: what key_value() accepts and `mailscreen options`
 * prints, in one table. */
const struct keydoc rule_keys[] = {
	{ "events", "event kinds", "(required)", "kinds counted: connect auth-fail auth-ok rcpt-fail rset abuse "
	  "disconnect" },
	{ "services", "words", "(any)", "only events of these services (smtp submission smtps imap pop3 sieve auth "
	  "webmail, or a filter's own)" },
	{ "per", "ip, account or session", "ip", "the key counted: the address (or its prefix), the user name "
	  "(lower case; blocks the account) or the session (blocks its address)" },
	{ "limit", "number, 0 to 10000", "(required)", "events within the window that decide; 0 means no limit "
	  "(the rule never decides)" },
	{ "window", "duration", "(required)", "the sliding window the events are counted in" },
	{ "block", "duration, permanent or log", "(required)", "how long a decision blocks; log only logs it" },
	{ "enabled", "yes/no", "yes", "no switches the rule off" },
	{ "users", "any, bare or full", "any", "bare: only events whose user name has no @; full: only names "
	  "with @" },
	{ "exempt_authenticated", "yes/no", "no", "skip sessions that logged in, and addresses that logged in "
	  "within authenticated_ttl" },
	{ "ipv4_prefix", "number, 8 to 32", "32", "IPv4 addresses are counted and blocked per this prefix" },
	{ "ipv6_prefix", "number, 16 to 128", "64", "IPv6 addresses are counted and blocked per this prefix" },
	{ "countries", "country codes", "(any)", "only addresses located in these countries (ISO 3166 codes such "
	  "as CN RU, any case; -- or unknown: addresses the database does not place) by the [location] database; "
	  "its blocks have origin location" },
	{ "not_countries", "country codes", "(any)", "only addresses located in none of these countries (the "
	  "same codes; not with countries)" },
	{ "shared", "yes/no", "no", "yes: count the events of every node of the cluster in one window per key "
	  "(needs [cluster] share with counts; while Redis is away the rule counts alone)" },
};
const size_t rule_nkeys = KEYDOC_N(rule_keys);

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
	free(r->countries);
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
	if (r->ncountries && r->per == PER_ACCOUNT)
		return errf(err, errlen, "rule '%s' (line %d): countries and not_countries screen addresses; use "
			    "per = ip or session", r->name, r->lineno);
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
	if (!keydoc_find(rule_keys, rule_nkeys, k)) {
		char known[512];
		keydoc_known(rule_keys, rule_nkeys, known, sizeof known);
		return errf(err, errlen, "unknown key '%s' in rule [%s] (known: %s)", k, section, known);
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
	} else if (strcmp(k, "shared") == 0) {
		int b;
		if (ini_bool(v, &b) < 0)
			return errf(err, errlen, "shared: '%s' is not yes or no", v);
		r->shared = b;
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
	} else if (strcmp(k, "countries") == 0 || strcmp(k, "not_countries") == 0) {
		bool neg = k[0] == 'n';
		char **w, *st;
		size_t n = ini_words(v, &w, &st);
		if (r->ncountries && r->not_countries != neg) {
			free(w);
			free(st);
			return errf(err, errlen, "%s: the rule has %s already; a rule takes one of them", k,
				    neg ? "countries" : "not_countries");
		}
		if (!n) {
			free(w);
			free(st);
			return errf(err, errlen, "%s: name at least one country code (e.g. %s = CN)", k, k);
		}
		free(r->countries);
		r->countries = xcalloc(n, sizeof *r->countries);
		r->ncountries = 0;
		r->not_countries = neg;
		for (size_t i = 0; i < n; i++) {
			uint16_t code;
			if (geo_code_parse(w[i], &code) < 0) {
				errf(err, errlen, "%s: '%s' is not an ISO 3166 country code (two letters such as CN, DE, "
				     "US; -- or unknown for addresses the database does not place)", k, w[i]);
				free(w);
				free(st);
				free(r->countries);
				r->countries = NULL;
				r->ncountries = 0;
				return -1;
			}
			r->countries[r->ncountries++] = code;
		}
		free(w);
		free(st);
	} else {
		log_panic("rule key '%s' is in rule_keys but not parsed", k);
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

bool rule_wants_country(const struct rule *r, uint16_t code)
{
	bool in = false;

	for (size_t i = 0; i < r->ncountries; i++)
		in |= r->countries[i] == code;
	return in != r->not_countries;
}
