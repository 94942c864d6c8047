// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_rules - the rule file parser (ruleset_load) on an arbitrary file.
 *
 * Invariants: an error is a terminated message starting with the file's
 * path, and leaves the set as it was; every loaded rule is complete
 * (events, a limit, a window, a block or log) with prefix lengths in
 * range; loading the same file a second time fails (each rule would be
 * defined twice) and leaves the set as it was; nothing leaks.
 */
#include "fuzz.h"

#include "duration.h"
#include "event.h"
#include "log.h"
#include "rules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_rules", LOG_LVL_WARN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("fz.conf", data, size);
	struct ruleset rs = { 0 };
	char err[1024];
	size_t n;

	memset(err, 'x', sizeof err);
	if (ruleset_load(&rs, path, err, sizeof err) < 0) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL, "unterminated error message");
		FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0, "error without the file name: %s", err);
		FUZZ_ASSERT(rs.n == 0, "a failed load left %zu rules", rs.n);
		ruleset_release(&rs);
		return 0;
	}
	for (size_t i = 0; i < rs.n; i++) {
		const struct rule *r = &rs.v[i];
		FUZZ_ASSERT(r->name && r->file && r->lineno >= 1, "rule %zu: name, file, line", i);
		FUZZ_ASSERT(r->kinds && r->kinds < (1u << EV_NKINDS), "rule %s: kinds %#x", r->name, r->kinds);
		FUZZ_ASSERT(r->limit_set && r->limit <= 10000, "rule %s: limit", r->name);
		FUZZ_ASSERT(r->window_ms > 0 && r->window_ms != DURATION_PERMANENT, "rule %s: window", r->name);
		FUZZ_ASSERT(r->log_only || r->block_ms > 0, "rule %s: block", r->name);
		FUZZ_ASSERT(r->ipv4_prefix >= 8 && r->ipv4_prefix <= 32 && r->ipv6_prefix >= 16 && r->ipv6_prefix <= 128,
			    "rule %s: prefixes /%u /%u", r->name, r->ipv4_prefix, r->ipv6_prefix);
		(void)rule_wants_service(r, "smtp", 4);
	}
	(void)ruleset_max_window(&rs);
	n = rs.n;
	if (n) {
		FUZZ_ASSERT(ruleset_load(&rs, path, err, sizeof err) < 0, "the same rules loaded twice");
		FUZZ_ASSERT(rs.n == n, "a failed second load changed the set (%zu rules, was %zu)", rs.n, n);
	}
	ruleset_release(&rs);
	return 0;
}
