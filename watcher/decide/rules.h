/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules - screening rules from the rule files (rules/NAME.conf). A rule counts events of some
 * kinds (optionally only of some services) per key within a window and,
 * at the limit, decides: block the key for a duration, or only log.
 */
#ifndef MS_RULES_H
#define MS_RULES_H

#include "keydoc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rule_per { PER_IP, PER_ACCOUNT, PER_SESSION };
enum user_form { USER_ANY, USER_BARE, USER_FULL };

struct rule {
	char *name;
	char *file;
	int lineno;
	bool enabled;
	uint32_t kinds;         /* bit (1 << ev_kind) */
	char **services;        /* NULL-terminated; NULL = any service */
	enum rule_per per;
	enum user_form user_form;       /* count only users without / with '@' */
	bool exempt_authenticated;      /* skip sessions and addresses that logged in */
	uint32_t limit;                 /* 0 = no limit: never decides */
	bool limit_set;
	uint64_t window_ms;
	bool log_only;
	uint64_t block_ms;      /* DURATION_PERMANENT for permanent */
	uint8_t ipv4_prefix, ipv6_prefix;
	/* location (geo.h): count only addresses of these countries, or with
	 * not_countries only addresses of none of them; none = any address */
	uint16_t *countries;
	size_t ncountries;
	bool not_countries;
	bool shared;            /* counted across the cluster (screen_shared_fn) */
};

struct ruleset {
	struct rule *v;
	size_t n, alloc;
};

struct inilayer;
/* Every key a rule section takes, with type, default and meaning
 * (keydoc.h): the parser accepts exactly these; `mailscreen options`
 * prints them. */
extern const struct keydoc rule_keys[];
extern const size_t rule_nkeys;

/* Load one rule file. On error, "file:line: message" in err and the set
 * is unchanged. */
int ruleset_load(struct ruleset *rs, const char *path, char *err, size_t errlen);
/* Load the rules of rule files read in layers (inilayer.h): shipped files
 * with their local overrides merged in. Each rule's file is the file of
 * its section. The same errors, with the file:line of the value. */
int ruleset_load_layers(struct ruleset *rs, const struct inilayer *doc, char *err, size_t errlen);
void ruleset_release(struct ruleset *rs);
uint64_t ruleset_max_window(const struct ruleset *rs);
bool rule_wants_service(const struct rule *r, const char *svc, size_t len);
/* Does the rule screen by location (countries or not_countries)? */
static inline bool rule_is_location(const struct rule *r) { return r->ncountries > 0; }
/* Does it count an address of this country (geo.h's code)? */
bool rule_wants_country(const struct rule *r, uint16_t code);

#endif
