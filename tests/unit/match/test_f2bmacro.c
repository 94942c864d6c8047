// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for f2bmacro.c: which fail2ban macros a regex holds, and
 * which look-alikes are none. */
#include "f2bmacro.h"

#include "unit.h"

#include <check.h>
#include <string.h>

static const char *hint(const char *pattern)
{
	static char buf[512];

	return f2bmacro_hint(pattern, buf, sizeof buf) ? buf : NULL;
}

START_TEST(macros_are_found_with_what_to_write_instead)
{
	ck_assert_str_eq(hint("^fail from <HOST>$"), "regex contains fail2ban's <HOST>, which PCRE2 reads as literal "
			 "text that never matches: capture the address with (?<ip>...) where the server writes it, "
			 "e.g. \\[(?<ip>[0-9A-Fa-f.:]+)\\]");
	ck_assert_ptr_nonnull(strstr(hint("rip=<ADDR>,"), "fail2ban's <ADDR>,"));
	ck_assert_ptr_nonnull(strstr(hint("<IP4>|<IP6>"), "fail2ban's <IP4>,"));
	ck_assert_ptr_nonnull(strstr(hint("user=<F-USER>\\S+</F-USER>"), "fail2ban's <F-USER>, which"));
	ck_assert_ptr_nonnull(strstr(hint("user=<F-USER>\\S+</F-USER>"), "(?<user>...)"));
	/* another <F-...> tag is named whole */
	ck_assert_ptr_nonnull(strstr(hint("<F-MLFID>x</F-MLFID>"), "fail2ban's <F-MLFID>, which"));
	ck_assert_ptr_nonnull(strstr(hint("^%(__prefix_line)sfail"), "fail2ban's %(__prefix_line)s, which"));
	ck_assert_ptr_nonnull(strstr(hint("^%(_daemon)s\\[\\d+\\]"), "fail2ban's %(_daemon)s, which"));
	/* the first one is named */
	ck_assert_ptr_nonnull(strstr(hint("%(__prefix_line)s <HOST>"), "%(__prefix_line)s"));
}
END_TEST

START_TEST(look_alikes_are_none)
{
	ck_assert_ptr_null(hint("^fail from (?<ip>\\S+)$"));
	ck_assert_ptr_null(hint("(?<F-USER>x)"));       /* a named group */
	ck_assert_ptr_null(hint("\\<HOST>"));           /* an escaped '<' */
	ck_assert_ptr_null(hint("<host> <Host>"));      /* macros are upper case */
	ck_assert_ptr_null(hint("100%(done)"));         /* "%(" without ")s" */
	ck_assert_ptr_null(hint("%()s"));               /* no name */
	ck_assert_ptr_null(hint("user=<(?<user>[^>]*)>"));
	ck_assert_ptr_null(hint(""));
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("f2bmacro");

	tcase_add_test(tc, macros_are_found_with_what_to_write_instead);
	tcase_add_test(tc, look_alikes_are_none);
	return ut_run("f2bmacro", tc);
}
