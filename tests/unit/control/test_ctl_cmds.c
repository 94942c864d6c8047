// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for ctl_cmds.c, the table of control commands and the
 * daemon's parse of a request: every row found by its name at its id;
 * the synopses derived from the rows, as the help, the daemon's usage
 * errors and the docs show them; only status and list leave the state
 * alone; a request's arguments parsed into their normal form, options
 * anywhere after the command word; and each refusal with its message:
 * unknown command, an option the command does not take, a missing option
 * value, an option twice, too few or too many arguments, a bad address,
 * duration or subcommand, a reason that is not UTF-8 or too long. An
 * account name is the mail server's bytes for the daemon; the command
 * line alone refuses spaces (ctl_arg_lint).
 */
#include "ctl_cmds.h"
#include "duration.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define NWORDS(...) (int)(sizeof (char *[]){ __VA_ARGS__ } / sizeof(char *))
/* parse the words as a request; 0 or -1, the message in err */
#define PARSE(req, err, ...) \
	ctl_req_parse(NWORDS(__VA_ARGS__), (char *[]){ __VA_ARGS__, NULL }, req, err, sizeof err)

START_TEST(every_row_is_found_by_its_name_at_its_id)
{
	for (size_t i = 0; i < CTL_NCMDS; i++) {
		const struct ctl_cmd *c = &ctl_cmds[i];
		ck_assert_msg(c->name && *c->name, "row %zu has no name", i);
		ck_assert_uint_eq(c->id, i);
		ck_assert_ptr_eq(ctl_cmd_find(c->name), c);
		ck_assert_msg(c->summary && *c->summary && c->doc && *c->doc, "%s: no help", c->name);
		ck_assert_msg(c->required <= ctl_cmd_max_args(c), "%s: more required than taken", c->name);
		for (unsigned k = 0; k < ctl_cmd_max_args(c); k++)
			ck_assert_msg(c->args[k] != CTL_ARG_WORD || (c->words && *c->words), "%s: no words", c->name);
	}
	ck_assert_ptr_null(ctl_cmd_find("frobnicate"));
	ck_assert_ptr_null(ctl_cmd_find(""));
	ck_assert_ptr_null(ctl_cmd_find("run"));
}
END_TEST

START_TEST(synopses_are_derived_from_the_rows)
{
	static const char *const want[CTL_NCMDS] = {
		[CTL_STATUS] = "[RULE] [--json] [--utc]",
		[CTL_LIST] = "blocks|allows|failures|accounts [--json] [--utc]",
		[CTL_BLOCK] = "ADDR[/LEN] [DURATION] [--reason TEXT]",
		[CTL_UNBLOCK] = "ADDR[/LEN] [--from-file]",
		[CTL_ALLOW] = "ADDR[/LEN] [DURATION]",
		[CTL_UNALLOW] = "ADDR[/LEN]",
		[CTL_BLOCK_ACCOUNT] = "USER [DURATION]",
		[CTL_UNBLOCK_ACCOUNT] = "USER",
		[CTL_RESET] = "failures|blocks|allows|all",
		[CTL_PAUSE] = "",
		[CTL_RESUME] = "",
		[CTL_RELOAD] = "",
		[CTL_HISTORY] = "[ADDR[/LEN]|USER] [--json] [--utc]",
		[CTL_REPORT] = "[--json] [--utc] [--since DURATION] [--html FILE] [--mail]",
	};
	char buf[128], small[12];

	for (size_t i = 0; i < CTL_NCMDS; i++) {
		ctl_cmd_synopsis(&ctl_cmds[i], buf, sizeof buf);
		ck_assert_str_eq(buf, want[i]);
	}
	/* cut, never overrun */
	ctl_cmd_synopsis(&ctl_cmds[CTL_BLOCK], small, sizeof small);
	ck_assert_str_eq(small, "ADDR[/LEN] ");
}
END_TEST

START_TEST(only_status_list_history_and_report_leave_the_state_alone)
{
	for (size_t i = 0; i < CTL_NCMDS; i++)
		ck_assert_msg(!(ctl_cmds[i].flags & CTL_CHANGES) == (i == CTL_STATUS || i == CTL_LIST || i == CTL_HISTORY ||
								     i == CTL_REPORT),
			      "%s: changes state %d", ctl_cmds[i].name, !!(ctl_cmds[i].flags & CTL_CHANGES));
}
END_TEST

START_TEST(report_takes_since_and_html)
{
	struct ctl_req q;
	char err[256];

	ck_assert_int_eq(PARSE(&q, err, "report", "--since", "2h", "--json"), 0);
	ck_assert(q.since);
	ck_assert_uint_eq(q.since_ms, 7200000);
	ck_assert(q.json);
	ck_assert(!q.html);
	ck_assert_int_eq(PARSE(&q, err, "report", "--html", "-", "--mail"), 0);
	ck_assert(q.html);
	ck_assert(q.mail);
	ck_assert(!q.since);
	ck_assert_int_eq(PARSE(&q, err, "report", "--since", "soon"), -1);
	ck_assert_ptr_nonnull(strstr(err, "--since: "));
	ck_assert_int_eq(PARSE(&q, err, "report", "--since"), -1);
	ck_assert_int_eq(PARSE(&q, err, "status", "--since", "1h"), -1);
}
END_TEST

START_TEST(arguments_are_parsed_into_their_normal_form)
{
	struct ctl_req q;
	char err[256];

	ck_assert_int_eq(PARSE(&q, err, "block", "::ffff:192.0.2.7", "90m", "--reason", "port scan"), 0);
	ck_assert_ptr_eq(q.cmd, &ctl_cmds[CTL_BLOCK]);
	ck_assert_uint_eq(q.nargs, 2);
	ck_assert_str_eq(q.arg[0].text, "192.0.2.7");
	ck_assert_uint_eq(q.arg[0].target.len, 32);
	ck_assert_str_eq(q.arg[1].text, "1h30m");
	ck_assert_uint_eq(q.arg[1].ms, 90 * 60 * 1000);
	ck_assert_str_eq(q.reason, "port scan");
	ck_assert(!q.json);

	/* options anywhere after the command word; --reason takes the next
	 * word whatever it is */
	ck_assert_int_eq(PARSE(&q, err, "block", "--reason", "--json", "2001:DB8::/32", "permanent"), 0);
	ck_assert_str_eq(q.arg[0].text, "2001:db8::/32");
	ck_assert_uint_eq(q.arg[1].ms, DURATION_PERMANENT);
	ck_assert_str_eq(q.arg[1].text, "permanent");
	ck_assert_str_eq(q.reason, "--json");
	ck_assert_int_eq(PARSE(&q, err, "unblock", "--from-file", "192.0.2.0/24"), 0);
	ck_assert(q.from_file);
	ck_assert(!q.json);
	ck_assert_str_eq(q.arg[0].text, "192.0.2.0/24");
	ck_assert_int_eq(PARSE(&q, err, "list", "--json", "failures"), 0);
	ck_assert(q.json);
	ck_assert(!q.from_file);
	ck_assert_uint_eq(q.nargs, 1);
	ck_assert_str_eq(q.arg[0].text, "failures");
	ck_assert_int_eq(PARSE(&q, err, "status"), 0);
	ck_assert_uint_eq(q.nargs, 0);
	ck_assert(!q.json && !q.reason);

	/* an account is the mail server's bytes: spaces and Latin-1 too */
	ck_assert_int_eq(PARSE(&q, err, "block-account", "b\xe9" "b smith@example.org", "2h"), 0);
	ck_assert_str_eq(q.arg[0].text, "b\xe9" "b smith@example.org");
	ck_assert_int_eq(PARSE(&q, err, "unblock-account", "-bob@example.org"), 0);
	ck_assert_str_eq(q.arg[0].text, "-bob@example.org");

	/* status RULE, --utc; history of an address, a range or an account */
	ck_assert_int_eq(PARSE(&q, err, "status", "auth-ip", "--utc", "--json"), 0);
	ck_assert_uint_eq(q.nargs, 1);
	ck_assert_str_eq(q.arg[0].text, "auth-ip");
	ck_assert(q.utc && q.json);
	ck_assert_int_eq(PARSE(&q, err, "history", "2001:DB8::1"), 0);
	ck_assert(q.arg[0].is_target);
	ck_assert_str_eq(q.arg[0].text, "2001:db8::1");
	ck_assert_int_eq(PARSE(&q, err, "history", "198.51.100.0/24"), 0);
	ck_assert(q.arg[0].is_target);
	ck_assert_uint_eq(q.arg[0].target.len, 24);
	ck_assert_int_eq(PARSE(&q, err, "history", "cafe.de"), 0);
	ck_assert(!q.arg[0].is_target);
	ck_assert_str_eq(q.arg[0].text, "cafe.de");
	ck_assert_int_eq(PARSE(&q, err, "history", "b\xe9" "b@example.org"), 0);
	ck_assert(!q.arg[0].is_target);
	ck_assert_int_eq(PARSE(&q, err, "history", "Bob@Example.org", "--utc"), 0);
	ck_assert(!q.arg[0].is_target && q.utc);
	ck_assert_int_eq(PARSE(&q, err, "list", "blocks", "--utc"), 0);
	ck_assert(q.utc && !q.json);

	/* a reason of CTL_REASON_MAX bytes of UTF-8 */
	char reason[CTL_REASON_MAX + 2];
	memset(reason, 'r', sizeof reason);
	memcpy(reason, "\xc3\xa9", 2);
	reason[CTL_REASON_MAX] = '\0';
	ck_assert_int_eq(PARSE(&q, err, "block", "192.0.2.1", "--reason", reason), 0);
	ck_assert_str_eq(q.reason, reason);
}
END_TEST

/* the request must be refused with exactly this message */
#define REFUSED(want, ...) do { \
	struct ctl_req q_; \
	char err_[256]; \
	ck_assert_int_eq(PARSE(&q_, err_, __VA_ARGS__), -1); \
	ck_assert_str_eq(err_, want); \
} while (0)

START_TEST(bad_requests_are_refused_saying_why)
{
	char reason[CTL_REASON_MAX + 2];

	REFUSED("unknown command 'frobnicate'", "frobnicate");
	REFUSED("unknown command 'run'", "run", "-c", "x");
	/* counts */
	REFUSED("usage: unblock ADDR[/LEN] [--from-file]", "unblock");
	REFUSED("usage: unblock ADDR[/LEN] [--from-file]", "unblock", "192.0.2.1", "192.0.2.2");
	REFUSED("usage: unblock ADDR[/LEN] [--from-file]", "unblock", "192.0.2.1", "--from-file", "--from-file");
	REFUSED("usage: block ADDR[/LEN] [DURATION] [--reason TEXT]", "block", "192.0.2.1", "--from-file");
	REFUSED("usage: pause", "pause", "now");
	REFUSED("usage: status [RULE] [--json] [--utc]", "status", "a", "b");
	REFUSED("usage: history [ADDR[/LEN]|USER] [--json] [--utc]", "history", "192.0.2.1", "bob");
	REFUSED("usage: block ADDR[/LEN] [DURATION] [--reason TEXT]", "block", "192.0.2.1", "--utc");
	/* a NUL in a reason makes one word more */
	REFUSED("usage: block ADDR[/LEN] [DURATION] [--reason TEXT]", "block", "192.0.2.1", "1h", "--reason", "x",
		"mailscreen: unblock 192.0.2.1");
	REFUSED("usage: block ADDR[/LEN] [DURATION] [--reason TEXT]", "block", "192.0.2.1", "1h", "extra", "more");
	/* options */
	REFUSED("usage: block ADDR[/LEN] [DURATION] [--reason TEXT]", "block", "192.0.2.1", "--json");
	REFUSED("usage: unblock-account USER", "unblock-account", "--reason");
	REFUSED("usage: block-account USER [DURATION]", "block-account", "--json");
	REFUSED("usage: block ADDR[/LEN] [DURATION] [--reason TEXT]", "block", "192.0.2.1", "--reason");
	REFUSED("usage: block ADDR[/LEN] [DURATION] [--reason TEXT]", "block", "192.0.2.1", "--reason", "a",
		"--reason", "b");
	REFUSED("usage: list blocks|allows|failures|accounts [--json] [--utc]", "list", "blocks", "--json", "--json");
	REFUSED("usage: list blocks|allows|failures|accounts [--json] [--utc]", "list", "--json");
	REFUSED("usage: list blocks|allows|failures|accounts [--json] [--utc]", "list", "blocks", "--utc", "--utc");
	/* arguments */
	REFUSED("'203.0.113.300' is not an IP address or range", "block", "203.0.113.300", "1h");
	REFUSED("'192.0.2.1/8' has host bits set (did you mean 192.0.0.0/8?)", "unallow", "192.0.2.1/8");
	REFUSED("unknown subcommand 'things' (one of: blocks allows failures accounts)", "list", "things");
	REFUSED("unknown subcommand 'everything' (one of: failures blocks allows all)", "reset", "everything");
	REFUSED("'auth ip' is not a rule name (printable text without spaces, at most 128 bytes)", "status",
		"auth ip");
	REFUSED("'r\xe9' is not a rule name (printable text without spaces, at most 128 bytes)", "status", "r\xe9");
	REFUSED("'203.0.113.300' is not an IP address or range", "history", "203.0.113.300");
	REFUSED("'2001:db8::/129': bad prefix length (0..128)", "history", "2001:db8::/129");

	/* the first bad argument is the one named */
	REFUSED("'203.0.113.300' is not an IP address or range", "allow", "203.0.113.300", "soon");
	/* reasons */
	REFUSED("--reason is not UTF-8 text (byte 0xe9 at position 4)", "block", "192.0.2.1", "--reason", "caf\xe9");
	memset(reason, 'r', sizeof reason);
	reason[CTL_REASON_MAX + 1] = '\0';
	REFUSED("--reason is too long (160 bytes; at most 159)", "block", "192.0.2.1", "--reason", reason);
}
END_TEST

START_TEST(the_command_line_alone_refuses_spaces_in_an_account)
{
	char err[512], big[CTL_ACCOUNT_MAX + 2];
	struct ctl_val v;

	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_ACCOUNT, "bob@example.org", err, sizeof err), 0);
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_ACCOUNT, "b\xe9" "b@example.org", err, sizeof err), 0);
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_ACCOUNT, "bob smith", err, sizeof err), -1);
	ck_assert_str_eq(err, "'bob smith' is not an account name (no spaces or control characters, at most 256 "
			 "bytes)");
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_ACCOUNT, "tab\there", err, sizeof err), -1);
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_ACCOUNT, "csi\xc2\x9b", err, sizeof err), -1);
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_ACCOUNT, "", err, sizeof err), -1);
	memset(big, 'a', sizeof big);
	big[CTL_ACCOUNT_MAX] = '\0';
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_ACCOUNT, big, err, sizeof err), 0);
	big[CTL_ACCOUNT_MAX] = 'a';
	big[CTL_ACCOUNT_MAX + 1] = '\0';
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_ACCOUNT, big, err, sizeof err), -1);
	/* so does history's account (or address) */
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_WHO, "bob smith", err, sizeof err), -1);
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_WHO, "2001:db8::/32", err, sizeof err), 0);
	ck_assert_int_eq(ctl_arg_parse(&ctl_cmds[CTL_HISTORY], CTL_ARG_WHO, big, &v, err, sizeof err), -1);
	ck_assert_str_eq(strstr(err, "is neither"), "is neither an address nor an account name (at most 256 bytes)");
	/* the daemon's own parse takes the name as it is */
	ck_assert_int_eq(ctl_arg_parse(&ctl_cmds[CTL_UNBLOCK_ACCOUNT], CTL_ARG_ACCOUNT, "bob smith", &v, err, sizeof err),
			 0);
	ck_assert_str_eq(v.text, "bob smith");
	/* other kinds: nothing more to refuse */
	ck_assert_int_eq(ctl_arg_lint(CTL_ARG_TARGET, "not an address", err, sizeof err), 0);
	ck_assert_str_eq(ctl_arg_what(CTL_ARG_TARGET), "an address or range (ADDR[/LEN])");
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("ctl_cmds");

	tcase_add_test(tc, every_row_is_found_by_its_name_at_its_id);
	tcase_add_test(tc, synopses_are_derived_from_the_rows);
	tcase_add_test(tc, only_status_list_history_and_report_leave_the_state_alone);
	tcase_add_test(tc, report_takes_since_and_html);
	tcase_add_test(tc, arguments_are_parsed_into_their_normal_form);
	tcase_add_test(tc, bad_requests_are_refused_saying_why);
	tcase_add_test(tc, the_command_line_alone_refuses_spaces_in_an_account);
	return ut_run("ctl_cmds", tc);
}
