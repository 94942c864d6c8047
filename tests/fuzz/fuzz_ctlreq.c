// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_ctlreq - the daemon's parse of a control request (ctl_req_parse):
 * what reaches a command's handler from the socket. The input is the
 * request's words, each ended by a NUL (a last word without one is a word
 * too), as control.c hands them over; unlike control.c this target does
 * not refuse empty words or control characters first, so the parse is
 * tried on anything.
 *
 * Invariants: a refusal has a terminated, non-empty message. A request
 * taken names its row; it has from `required` to the row's most
 * arguments, each in its normal form (non-empty; an address or range, a
 * duration, a word of the row as parsed, a rule's name printable without
 * spaces and at most CTL_RULE_MAX bytes, an address or else an account
 * name of at most CTL_ACCOUNT_MAX bytes); --json, --utc and
 * --reason only where the row takes them, a reason printable and at most
 * CTL_REASON_MAX bytes. And the request as the command line would send it
 * (the command, the normal forms, then --reason TEXT, --json and --utc) is
 * taken again, with the same values: what the command line sends, the
 * daemon accepts.
 */
#include "fuzz.h"

#include "ctl_cmds.h"
#include "jsonw.h"

#include <stdbool.h>

#define MAX_WORDS 80

static void same_values(const struct ctl_req *a, const struct ctl_req *b)
{
	FUZZ_ASSERT(a->cmd == b->cmd && a->nargs == b->nargs && a->json == b->json && a->utc == b->utc,
		    "a different request");
	FUZZ_ASSERT((a->reason == NULL) == (b->reason == NULL) && (!a->reason || strcmp(a->reason, b->reason) == 0),
		    "a different reason");
	for (unsigned i = 0; i < a->nargs; i++) {
		const struct ctl_val *x = &a->arg[i], *y = &b->arg[i];
		FUZZ_ASSERT(strcmp(x->text, y->text) == 0, "argument %u: '%s' then '%s'", i, x->text, y->text);
		FUZZ_ASSERT(x->ms == y->ms, "argument %u: %llu ms then %llu", i, (unsigned long long)x->ms,
			    (unsigned long long)y->ms);
		FUZZ_ASSERT(x->target.len == y->target.len && addr_equal(&x->target.addr, &y->target.addr) &&
			    x->is_target == y->is_target, "argument %u: another address", i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_WORDS + 1], *again[CTL_MAX_ARGS + 6], err[512];
	struct ctl_req q, q2;
	int argc = 0, n = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size && argc < MAX_WORDS; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;

	memset(err, 'x', sizeof err);
	if (ctl_req_parse(argc, argv, &q, err, sizeof err) < 0) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL && err[0], "no message for a refusal");
		free(buf);
		return 0;
	}
	FUZZ_ASSERT(q.cmd && q.cmd == ctl_cmd_find(argv[0]), "the request names another row");
	FUZZ_ASSERT(q.nargs >= q.cmd->required && q.nargs <= ctl_cmd_max_args(q.cmd), "%u arguments to %s",
		    q.nargs, q.cmd->name);
	FUZZ_ASSERT(!q.json || (q.cmd->flags & CTL_JSON), "--json taken by %s", q.cmd->name);
	FUZZ_ASSERT(!q.reason || (q.cmd->flags & CTL_REASON), "--reason taken by %s", q.cmd->name);
	FUZZ_ASSERT(!q.utc || (q.cmd->flags & CTL_UTC), "--utc taken by %s", q.cmd->name);
	if (q.reason)
		FUZZ_ASSERT(strlen(q.reason) <= CTL_REASON_MAX && text_printable(q.reason, strlen(q.reason), NULL),
			    "a reason that is not one line of text");
	for (unsigned i = 0; i < q.nargs; i++) {
		struct ctl_val v;
		FUZZ_ASSERT(q.arg[i].text && q.arg[i].text[0], "argument %u has no text", i);
		FUZZ_ASSERT(ctl_arg_parse(q.cmd, q.cmd->args[i], q.arg[i].text, &v, err, sizeof err) == 0,
			    "the normal form '%s' does not parse: %s", q.arg[i].text, err);
		FUZZ_ASSERT(strcmp(v.text, q.arg[i].text) == 0, "'%s' normalises to '%s'", q.arg[i].text, v.text);
		if (q.cmd->args[i] == CTL_ARG_RULE)
			FUZZ_ASSERT(strlen(v.text) <= CTL_RULE_MAX && !strchr(v.text, ' ') &&
				    text_printable(v.text, strlen(v.text), NULL), "a rule name that is not one: '%s'", v.text);
		if (q.cmd->args[i] == CTL_ARG_WHO && !q.arg[i].is_target)
			FUZZ_ASSERT(strlen(v.text) <= CTL_ACCOUNT_MAX, "an account name that is not one: '%s'", v.text);
	}

	/* as the command line sends it */
	again[n++] = argv[0];
	for (unsigned i = 0; i < q.nargs; i++)
		again[n++] = (char *)q.arg[i].text;
	if (q.reason) {
		again[n++] = "--reason";
		again[n++] = (char *)q.reason;
	}
	if (q.json)
		again[n++] = "--json";
	if (q.utc)
		again[n++] = "--utc";
	again[n] = NULL;
	FUZZ_ASSERT(ctl_req_parse(n, again, &q2, err, sizeof err) == 0, "the normal form is refused: %s", err);
	same_values(&q, &q2);
	free(buf);
	return 0;
}
