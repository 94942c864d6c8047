// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for jsonw.c and for the log's use of it: what counts as
 * printable text (no C0, DEL or C1 control, valid UTF-8 only), text
 * escaped for people (printable characters kept, every other byte \xNN,
 * cut at a character), JSON strings with C1 controls escaped, and the
 * log writing a message that carries control characters escaped, as one
 * line.
 */
#include "jsonw.h"
#include "log.h"

#include "unit.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(lit) lit, sizeof lit - 1

START_TEST(printable_is_utf8_without_control_characters)
{
	static const struct {
		const char *s;
		size_t n, bad;          /* bad == n: printable */
	} cases[] = {
		{ S("plain ascii ~!"), 14 },
		{ S("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x99\x82"), 14 },        /* é, em dash, emoji */
		{ S("no\xc2\xa0" "break"), 9 },                                 /* U+00A0: no control */
		{ S("a\nb"), 1 },
		{ S("\r"), 0 },
		{ S("tab\there"), 3 },
		{ S("esc\033[31m"), 3 },
		{ S("del\177"), 3 },
		{ S("nul\0after"), 3 },
		{ S("csi\xc2\x9b" "2J"), 3 },                                   /* U+009B */
		{ S("nel\xc2\x85"), 3 },                                        /* U+0085 */
		{ S("lone \x9b"), 5 },                                          /* C1 in Latin-1 */
		{ S("latin1 caf\xe9"), 10 },
		{ S("cut \xe2\x80"), 4 },
		{ S("overlong \xc0\xaf"), 9 },
		{ S("surrogate \xed\xa0\x80"), 10 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t bad = 99;
		bool ok = text_printable(cases[i].s, cases[i].n, &bad);
		ck_assert_msg(ok == (cases[i].bad == cases[i].n), "case %zu: printable %d", i, ok);
		if (!ok)
			ck_assert_msg(bad == cases[i].bad, "case %zu: first bad byte at %zu, not %zu", i, bad,
				      cases[i].bad);
	}
	ck_assert_uint_eq(text_char(S("\xc3\xa9")), 2);
	ck_assert_uint_eq(text_char(S("\xc2\x9f")), 0);
	ck_assert_uint_eq(text_char(S("\xc2\xa0")), 2);
	ck_assert_uint_eq(text_char("", 0), 0);
}
END_TEST

START_TEST(escape_keeps_printable_text_and_shows_other_bytes_as_hex)
{
	char out[128];

	text_escape(out, sizeof out, S("x\nmailscreen: unblock 192.0.2.1"));
	ck_assert_str_eq(out, "x\\x0amailscreen: unblock 192.0.2.1");
	text_escape(out, sizeof out, S("\033]0;title\007\033[2J\r\177"));
	ck_assert_str_eq(out, "\\x1b]0;title\\x07\\x1b[2J\\x0d\\x7f");
	text_escape(out, sizeof out, S("caf\xc3\xa9 \xc2\x9b" "31m caf\xe9 \xc2\xa0"));
	ck_assert_str_eq(out, "caf\xc3\xa9 \\xc2\\x9b" "31m caf\\xe9 \xc2\xa0");
	text_escape(out, sizeof out, S("nul\0tail"));
	ck_assert_str_eq(out, "nul\\x00tail");
	/* a backslash stays: escaping twice changes nothing */
	text_escape(out, sizeof out, S("already \\x0a escaped"));
	ck_assert_str_eq(out, "already \\x0a escaped");
	text_escape(out, sizeof out, "", 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(escape_cuts_at_a_character_with_dots)
{
	char out[12];

	/* fits exactly: 11 bytes and the NUL */
	text_escape(out, sizeof out, S("0123456789a"));
	ck_assert_str_eq(out, "0123456789a");
	text_escape(out, sizeof out, S("0123456789ab"));
	ck_assert_str_eq(out, "01234567...");
	/* never half an escape nor half a character */
	text_escape(out, sizeof out, S("012345\n789ab"));
	ck_assert_str_eq(out, "012345...");
	text_escape(out, sizeof out, S("0123456\xe2\x80\x94xyz"));
	ck_assert_str_eq(out, "0123456...");
	text_escape(out, 4, S("abcdef"));
	ck_assert_str_eq(out, "");
	text_escape(out, 1, S("abcdef"));
	ck_assert_str_eq(out, "");
}
END_TEST

static char *json(const char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	json_str(fp, s, n);
	fclose(fp);
	return buf;
}

START_TEST(json_strings_escape_every_control_character)
{
	char *j;

	j = json(S("a\nb\033[1m\177\"\\"));
	ck_assert_str_eq(j, "\"a\\u000ab\\u001b[1m\\u007f\\\"\\\\\"");
	free(j);
	j = json(S("csi\xc2\x9b" "2J nel\xc2\x85 caf\xc3\xa9 \xc2\xa0 \xe9"));
	ck_assert_str_eq(j, "\"csi\\u009b2J nel\\u0085 caf\xc3\xa9 \xc2\xa0 \\ufffd\"");
	free(j);
}
END_TEST

/* What the log writes for one message (made of text quoted from
 * outside), captured from stderr. */
static char *logged(const char *msg)
{
	char path[sizeof ut_dir + 16], *buf;
	FILE *fp;
	int saved, fd;
	long size;

	snprintf(path, sizeof path, "%s/stderr", ut_dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
	log_warnx("%s", msg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)size + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	return buf;
}

START_TEST(the_log_writes_a_message_with_control_characters_escaped_on_one_line)
{
	char *l;

	l = logged("cannot block account 'x\nmailscreen: unblock 192.0.2.1: manual (uid 0)'");
	ck_assert_str_eq(l, "test_jsonw: warning: cannot block account 'x\\x0amailscreen: unblock 192.0.2.1: manual "
			 "(uid 0)'\n");
	free(l);
	l = logged("file '\033[2J\xc2\x9b\xe9 caf\xc3\xa9'");
	ck_assert_str_eq(l, "test_jsonw: warning: file '\\x1b[2J\\xc2\\x9b\\xe9 caf\xc3\xa9'\n");
	free(l);
	l = logged("clean text");
	ck_assert_str_eq(l, "test_jsonw: warning: clean text\n");
	free(l);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("jsonw");

	log_init("test_jsonw", LOG_LVL_WARN);
	tcase_add_test(tc, printable_is_utf8_without_control_characters);
	tcase_add_test(tc, escape_keeps_printable_text_and_shows_other_bytes_as_hex);
	tcase_add_test(tc, escape_cuts_at_a_character_with_dots);
	tcase_add_test(tc, json_strings_escape_every_control_character);
	tcase_add_test(tc, the_log_writes_a_message_with_control_characters_escaped_on_one_line);
	return ut_run("jsonw", tc);
}
