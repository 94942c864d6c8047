// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for config.c and inifile.c: the option table, sources, the
 * allow list, strictness and file:line errors. */
#include "config.h"
#include "line.h"
#include "inifile.h"
#include "log.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


START_TEST(defaults_fill_every_option)
{
	struct config c;
	char err[512];

	ck_assert_int_eq(config_load(&c, ut_write("empty.conf", "# nothing\n"), true, err, sizeof err), 0);
	ck_assert_str_eq(c.table, "mailscreen");
	ck_assert_uint_eq(c.nports, 8);
	ck_assert(!c.all_ports);
	ck_assert_uint_eq(c.max_line, 16384);
	/* accounts and sessions have bounds of their own, far below max_keys */
	ck_assert_uint_eq(c.max_keys, 1000000);
	ck_assert_uint_eq(c.max_accounts, 20000);
	ck_assert_uint_eq(c.max_sessions, 50000);
	ck_assert_int_eq(c.dry_run, 0);
	ck_assert_uint_eq(c.nsources, 1);       /* the built-in mail source */
	ck_assert_str_eq(c.sources[0].name, "mail");
	ck_assert_uint_eq(c.sources[0].nfilters, 3);
	config_release(&c);
}
END_TEST

START_TEST(full_file_is_read)
{
	struct config c;
	char err[512];
	struct ipaddr a;

	ck_assert_msg(config_load(&c, ut_write("full.conf",
		"[daemon]\nstate_dir = /tmp/s\ndry_run = yes\nmax_line = 4096\nlog_level = debug\n"
		"max_accounts = 5000\nmax_sessions = 7000\n"
		"[nftables]\ntable = mstest\nports = all\n"
		"[source mail]\npath = /var/log/mail.log\nfilters = postfix dovecot\nformat = postlog\n"
		"[source j]\njournal = postfix@-.service SYSLOG_IDENTIFIER=dovecot\nfilters = dovecot\n"
		"[allow]\naddress = 192.0.2.10\naddress = 2001:db8:1::/48\n"), true, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.state_dir, "/tmp/s");
	ck_assert_int_eq(c.dry_run, 1);
	ck_assert_uint_eq(c.max_line, 4096);
	ck_assert_uint_eq(c.max_accounts, 5000);
	ck_assert_uint_eq(c.max_sessions, 7000);
	ck_assert_str_eq(c.table, "mstest");
	ck_assert(c.all_ports);
	ck_assert_uint_eq(c.nsources, 2);
	ck_assert_str_eq(c.sources[0].path, "/var/log/mail.log");
	ck_assert_int_eq(c.sources[0].format, LOGLINE_POSTLOG);
	ck_assert_int_eq(c.sources[1].format, LOGLINE_AUTO);
	ck_assert_str_eq(c.sources[1].journal[1], "SYSLOG_IDENTIFIER=dovecot");
	ck_assert_ptr_null(c.sources[1].journal[2]);
	ck_assert_uint_eq(c.allow.n, 2);
	ck_assert_int_eq(addr_parse("2001:db8:1:ff::1", 16, &a), 0);
	ck_assert(cidrlist_contains(&c.allow, &a));
	config_release(&c);
}
END_TEST

START_TEST(errors_name_file_line_and_fix)
{
	static const struct { const char *text, *expect; } cases[] = {
		{ "[daemon]\nfoo = 1\n", "bad.conf:2: unknown key 'foo' in [daemon]" },
		{ "[deamon]\nfilters = x\n", "bad.conf:2: unknown section [deamon]" },
		{ "[daemon]\ndry_run = maybe\n", "bad.conf:2: dry_run: 'maybe' is not yes or no" },
		{ "[daemon]\nmax_line = 10\n", "bad.conf:2: max_line: '10' is not a number from 256" },
		{ "\n[nftables]\nports = 25 smtp\n", "bad.conf:3: ports: 'smtp' is not a port number" },
		{ "[nftables]\nports = 70000\n", "bad.conf:2: ports: '70000'" },
		{ "[allow]\naddress = 198.51.100.1/24\n", "bad.conf:2: '198.51.100.1/24' has host bits set" },
		{ "[allow]\naddress = example.org\n", "bad.conf:2: 'example.org' is not an IP address" },
		{ "[source x]\npath = relative.log\n", "bad.conf:2: path 'relative.log' must be absolute" },
		{ "[source x]\npath = /var/log/a\n", "[source x] needs 'filters'" },
		{ "[source x]\nfilters = postfix\n", "[source x] needs 'path'" },
		{ "[source x]\npath = /a\njournal = a.service\nfilters = p\n", "has both 'path' and 'journal'" },
		{ "[source x]\ncolour = blue\n", "bad.conf:2: unknown key 'colour' in [source x]" },
		{ "[source x]\nformat = rfc3164\n", "bad.conf:2: format 'rfc3164': use auto, syslog, postlog, dovecot" },
		{ "[source x]\njournal = a\nformat = syslog\nfilters = p\n", "[source x]: format is a file's" },
		{ "[nftables]\ntable = Bad Name\n", "table name 'Bad Name'" },
		{ "[source a]\npath = /l\nfilters = p\n[source b]\npath = /l\nfilters = d\n", "reads '/l' like [source a]" },
		{ "just words\n", "bad.conf:1: syntax error" },
		{ "[allow]\n\naccount = *.example.org\n", "bad.conf:3: account: '*.example.org': the wildcard goes only" },
		{ "[allow]\naccount = bo*@example.org\n", "bad.conf:2: account: 'bo*@example.org': the wildcard" },
		{ "[allow]\naccount = *@\n", "bad.conf:2: account: '*@': the wildcard" },
		{ "[allow]\naccount = *@a@example.org\n", "bad.conf:2: account: '*@a@example.org'" },
		{ "[allow]\naccount = john smith\n", "bad.conf:2: account: no spaces or control characters" },
		{ "[allow]\naccount = a\x01b\n", "bad.conf:2: account: no spaces or control characters" },
		{ "[allow]\naccount =\n", "bad.conf:2: account: give an account name or *@DOMAIN" },
		{ "[allow]\nuser = bob\n", "bad.conf:2: unknown key 'user' in [allow] (known: address, account)" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config c;
		char err[512] = "";
		ck_assert_int_eq(config_load(&c, ut_write("bad.conf", cases[i].text), true, err, sizeof err), -1);
		ck_assert_msg(strstr(err, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err, cases[i].expect);
	}
}
END_TEST

START_TEST(allow_account_is_read_in_lower_case_and_overridden_whole)
{
	struct config c;
	char err[512], big[300], text[400];

	ut_write("xa.local", "[allow]\naccount = *@Staff.Example.NET\n");
	ck_assert_msg(config_load(&c, ut_write("xa.conf", "[allow]\naccount = Boss@Example.org\naddress = 192.0.2.1\n"),
				  true, err, sizeof err) == 0, "%s", err);
	/* as for address: the override's lines replace the file's */
	ck_assert_uint_eq(c.nexempt_accounts, 1);
	ck_assert_str_eq(c.exempt_accounts[0], "*@staff.example.net");
	ck_assert_uint_eq(c.allow.n, 1);
	config_release(&c);
	ut_write("xa.local", "[allow]\naccount = Boss@Example.org\naccount = *@Staff.Example.NET\n");
	ck_assert_msg(config_load(&c, ut_write("xa.conf", "[allow]\naccount = x@example.org\n"), true, err,
				  sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c.nexempt_accounts, 2);
	ck_assert_str_eq(c.exempt_accounts[0], "boss@example.org");
	ck_assert_str_eq(c.exempt_accounts[1], "*@staff.example.net");
	config_release(&c);
	/* 256 bytes at most */
	memset(big, 'a', 256);
	big[256] = '\0';
	snprintf(text, sizeof text, "[allow]\naccount = %s\n", big);
	ut_write("xa.local", "");
	ck_assert_msg(config_load(&c, ut_write("xa.conf", text), true, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c.nexempt_accounts, 1);
	config_release(&c);
	big[256] = 'a';
	big[257] = '\0';
	snprintf(text, sizeof text, "[allow]\naccount = %s\n", big);
	ck_assert_int_eq(config_load(&c, ut_write("xa.conf", text), true, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "/xa.conf:2: account: at most 256 bytes"), "%s", err);
	/* an error in an override names the override's line */
	ut_write("xa.local", "[allow]\naccount = x*\n");
	ck_assert_int_eq(config_load(&c, ut_write("xa.conf", "[allow]\n"), true, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "/xa.local:2: account: 'x*'"), "%s", err);
}
END_TEST

START_TEST(missing_explicit_file_is_an_error_default_is_not)
{
	struct config c;
	char err[512];

	ck_assert_int_eq(config_load(&c, "/nonexistent/ms.conf", true, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/ms.conf: cannot open"));
	ck_assert_int_eq(config_load(&c, "/nonexistent/ms.conf", false, err, sizeof err), 0);
	ck_assert_ptr_null(c.file);
	config_release(&c);
}
END_TEST

START_TEST(long_lines_and_semicolons_survive_in_values)
{
	struct config c;
	char err[512], *text = malloc(5000);

	/* a value longer than inih's default 200-byte line limit */
	strcpy(text, "[source x]\npath = /var/log/");
	memset(text + strlen(text), 'a', 3000);
	strcpy(text + 27 + 3000, ";b.log\nfilters = p\n");
	ck_assert_msg(config_load(&c, ut_write("long.conf", text), true, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(strlen(c.sources[0].path), 9 + 3000 + 6);
	ck_assert_ptr_nonnull(strstr(c.sources[0].path, ";b.log"));
	config_release(&c);
	free(text);
}
END_TEST

/* A ';' or '#' after white space starts a comment, as in rule and filter
 * files; one right after other text is part of the value. */
START_TEST(trailing_comments_are_not_values)
{
	struct config c;
	char err[512];

	ck_assert_msg(config_load(&c, ut_write("comment.conf",
					     "[daemon]\nstate_dir = /var/lib/ms  # the state\n"
					     "[source mail]\npath = /var/log/mail.log\t; postfix\n"
					     "filters = postfix dovecot # both\n"), true, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(c.state_dir, "/var/lib/ms");
	ck_assert_str_eq(c.sources[0].path, "/var/log/mail.log");
	ck_assert_uint_eq(c.sources[0].nfilters, 2);
	config_release(&c);
}
END_TEST

START_TEST(reference_lists_every_option)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	config_print_reference(fp, true);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(buf, "| `ports` | ports or all | `25 465 587 110 995 143 993 4190` |"));
	ck_assert_ptr_nonnull(strstr(buf, "| `max_line` | number, 256 to 1048576 | `16384` |"));
	ck_assert_ptr_nonnull(strstr(buf, "| `[source NAME]` key | type | default | meaning |"));
	ck_assert_ptr_nonnull(strstr(buf, "| `exempt` | ADDRESS[/LEN] DOMAIN | (none) |"));
	free(buf);
	fp = open_memstream(&buf, &len);
	config_print_reference(fp, false);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(buf, "\n[nat]\n  exempt (ADDRESS[/LEN] DOMAIN; default none): "));
	free(buf);
}
END_TEST

/* the control commands' way in after a bad edit: the [daemon] key is
 * found on its own line whatever else is wrong, the last one wins, a
 * comment is cut, another section's key of the same name is not it */
START_TEST(peek_finds_a_daemon_key_in_a_broken_file)
{
	char path[] = "/tmp/test_config_peek.XXXXXX", err[ERR_LEN], *v = NULL;
	int fd = mkstemp(path);
	const char *text = "this is no INI line\n[nftables]\ncontrol = /wrong\n[ daemon ]\n[daemon]\n"
			   "bogus = 1\ncontrol = /first\n  control=/run/x/ctl   # the new one\n[source a]\n"
			   "control = /wrong too\n";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_int_eq(config_peek_daemon_key(path, "control", &v, err, sizeof err), 1);
	ck_assert_str_eq(v, "/run/x/ctl");
	free(v);
	ck_assert_int_eq(config_peek_daemon_key(path, "blocklist", &v, err, sizeof err), 0);
	ck_assert_ptr_null(v);
	unlink(path);
	ck_assert_int_eq(config_peek_daemon_key(path, "control", &v, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot read"));
}
END_TEST

START_TEST(local_overrides_come_after_the_file_in_order)
{
	struct config c;
	char err[512], path[512];

	snprintf(path, sizeof path, "%s/ov.d", ut_dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ut_write("ov.d/10-a.conf", "[daemon]\nmax_line = 1000\nlog_level = debug\n");
	ut_write("ov.d/20-b.conf", "[daemon]\nmax_line = 2000\n[source extra]\npath = /var/log/x.log\nfilters = x\n");
	ut_write("ov.local", "[daemon]\nmax_line = 3000\n");
	ck_assert_msg(config_load(&c, ut_write("ov.conf", "[daemon]\nmax_line = 500\nstate_dir = /tmp/s\n"), true,
				  err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c.max_line, 3000);    /* .local has the last word */
	ck_assert_str_eq(c.log_level, "debug"); /* a drop-in's key */
	ck_assert_str_eq(c.state_dir, "/tmp/s"); /* the file's, untouched */
	ck_assert_uint_eq(c.nsources, 1);
	ck_assert_ptr_nonnull(strstr(c.sources[0].file, "/ov.d/20-b.conf"));
	config_release(&c);
	/* two [daemon] sections in the file: the override still has the last word */
	ut_write("ov.local", "[daemon]\nmax_line = 3000\n");
	ck_assert_msg(config_load(&c, ut_write("ov.conf", "[daemon]\nmax_line = 500\n[daemon]\nlog_level = info\n"
						 "[daemon]\nmax_line = 600\n"), true, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c.max_line, 3000);
	config_release(&c);
	/* a value checked after reading names the line it came from */
	ut_write("ov.local", "[nftables]\ntable = Bad.Name\n");
	ck_assert_int_eq(config_load(&c, ut_write("ov.conf", "[nftables]\ntable = good\n"), true, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "/ov.local:2: table name 'Bad.Name'"), "%s", err);
	/* an error in an override names the override's line */
	ut_write("ov.local", "[daemon]\n\nmax_line = 3\n");
	ck_assert_int_eq(config_load(&c, ut_write("ov.conf", "[daemon]\n"), true, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "/ov.local:3: max_line: '3' is not a number"), "%s", err);
	/* a source an override adds and leaves incomplete: the override's line */
	ut_write("ov.local", "[source half]\npath = /var/log/y.log\n");
	ck_assert_int_eq(config_load(&c, ut_write("ov.conf", "[daemon]\n"), true, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "/ov.local:2: [source half] needs 'filters'"), "%s", err);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, defaults_fill_every_option);
	tcase_add_test(tc, full_file_is_read);
	tcase_add_test(tc, errors_name_file_line_and_fix);
	tcase_add_test(tc, missing_explicit_file_is_an_error_default_is_not);
	tcase_add_test(tc, long_lines_and_semicolons_survive_in_values);
	tcase_add_test(tc, trailing_comments_are_not_values);
	tcase_add_test(tc, reference_lists_every_option);
	tcase_add_test(tc, local_overrides_come_after_the_file_in_order);
	tcase_add_test(tc, allow_account_is_read_in_lower_case_and_overridden_whole);
	tcase_add_test(tc, peek_finds_a_daemon_key_in_a_broken_file);
	return ut_run("config", tc);
}
