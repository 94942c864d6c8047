// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for geo.c (the country of an address from a MaxMind DB
 * country database) and for location rules at work in the screen. The
 * databases are built here by tests/tools/make-country-mmdb.pl (Debian's
 * MaxMind DB writer for Perl), never downloaded; run from the top of the
 * source tree, as make check does. */
#include "geo.h"
#include "log.h"
#include "rules.h"
#include "screen.h"

#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MKDB "perl tests/tools/make-country-mmdb.pl"

/* Build a database at NAME in the test's directory; its path. */
static const char *mkdb(const char *name, const char *ranges)
{
	static char path[sizeof ut_dir + 64];
	char cmd[1024];

	snprintf(path, sizeof path, "%s/%s", ut_dir, name);
	snprintf(cmd, sizeof cmd, MKDB " %s %s", path, ranges ? ranges : "");
	ck_assert_msg(system(cmd) == 0, "cannot build a test database: %s", cmd);
	return path;
}

static struct ipaddr ip(const char *s)
{
	struct ipaddr a;

	ck_assert_msg(addr_parse(s, strlen(s), &a) == 0, "bad address %s", s);
	return a;
}

static const char *cc(uint16_t code)
{
	static char buf[4][3];
	static int n;
	char *b = buf[n++ % 4];

	geo_code_text(code, b);
	return b;
}

START_TEST(countries_come_from_a_built_database)
{
	char err[512];
	struct geo *g = geo_new(mkdb("c.mmdb", NULL));

	ck_assert_msg(geo_load(g, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(geo_type(g), "Test-Country");
	ck_assert_str_eq(cc(geo_lookup(g, &(struct ipaddr){ 0 })), "--");
	{
		struct ipaddr a = ip("203.0.113.9");
		ck_assert_str_eq(cc(geo_lookup(g, &a)), "CN");
	}
	{
		struct ipaddr a = ip("198.51.100.200");
		ck_assert_str_eq(cc(geo_lookup(g, &a)), "DE");
	}
	{
		struct ipaddr a = ip("2001:db8:1::77");
		ck_assert_str_eq(cc(geo_lookup(g, &a)), "CN");
	}
	{
		struct ipaddr a = ip("2001:db8:2::1");
		ck_assert_str_eq(cc(geo_lookup(g, &a)), "DE");
	}
	/* only registered_country: the fallback */
	{
		struct ipaddr a = ip("192.0.2.3");
		ck_assert_str_eq(cc(geo_lookup(g, &a)), "US");
	}
	/* not in it */
	{
		struct ipaddr a = ip("192.0.2.200");
		ck_assert_uint_eq(geo_lookup(g, &a), GEO_UNKNOWN);
		a = ip("2001:db8:3::1");
		ck_assert_uint_eq(geo_lookup(g, &a), GEO_UNKNOWN);
	}
	geo_free(g);
}
END_TEST

/* ::ffff:203.0.113.9 as an IPv6 address (the parser makes it IPv4; a
 * caller may not): looked up as its IPv4 address */
START_TEST(ipv4_mapped_ipv6_is_looked_up_as_ipv4)
{
	char err[512];
	struct geo *g = geo_new(mkdb("m.mmdb", NULL));
	struct ipaddr a = { .family = AF_INET6 };

	ck_assert_msg(geo_load(g, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:203.0.113.9", a.b), 1);
	ck_assert_str_eq(cc(geo_lookup(g, &a)), "CN");
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:198.51.100.1", a.b), 1);
	ck_assert_str_eq(cc(geo_lookup(g, &a)), "DE");
	geo_free(g);
}
END_TEST

/* In a child: a system call filter that makes memfd_create fail with
 * ENOSYS, as a unit's SystemCallFilter without it would. 0, or why not. */
static const char *forbid_memfd(void)
{
#if defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_memfd_create, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return "cannot install the system call filter";
	errno = 0;
	if (memfd_create("x", 0) != -1 || errno != ENOSYS)
		return "memfd_create still works under the filter";
	return NULL;
#else
	return "this test knows only x86_64's system call numbers";
#endif
}

/* Without memfd_create (a system call filter, an old kernel) the file
 * itself is opened, as libmaxminddb maps it: the database still works.
 * The filter cannot be taken back: it is set in a child of its own (the
 * tests run unforked), which writes what went wrong to a pipe. */
START_TEST(without_a_memory_file_the_database_is_mapped_itself)
{
	const char *path = mkdb("nomemfd.mmdb", NULL);
	char why[600] = "";
	int p[2], st;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[512] = "";
		const char *e = forbid_memfd();
		struct geo *g = NULL;
		struct ipaddr a4 = ip("203.0.113.9"), a6 = ip("2001:db8:2::1");
		close(p[0]);
		if (!e) {
			g = geo_new(path);
			if (geo_load(g, err, sizeof err) != 0)
				e = err;
			else if (strcmp(cc(geo_lookup(g, &a4)), "CN") != 0)
				e = "203.0.113.9 is not CN";
			else if (strcmp(cc(geo_lookup(g, &a6)), "DE") != 0)
				e = "2001:db8:2::1 is not DE";
		}
		if (e && write(p[1], e, strlen(e)) < 0)
			_exit(2);
		_exit(e ? 1 : 0);
	}
	close(p[1]);
	n = read(p[0], why, sizeof why - 1);
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (n > 0)
		why[n] = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "without memfd_create: %s", *why ? why : "the child died");
}
END_TEST

START_TEST(a_missing_database_is_an_error_and_answers_nothing)
{
	char err[512], path[sizeof ut_dir + 32];
	struct geo *g;
	struct ipaddr a = ip("203.0.113.9");

	snprintf(path, sizeof path, "%s/none.mmdb", ut_dir);
	g = geo_new(path);
	ck_assert_int_eq(geo_load(g, err, sizeof err), -1);
	ck_assert_msg(strstr(err, path) && strstr(err, "No such file") && strstr(err, "geoipupdate"), "%s", err);
	ck_assert_uint_eq(geo_lookup(g, &a), GEO_NONE);
	ck_assert_ptr_null(geo_type(g));
	/* the file appears: read at the next look */
	mkdb("none.mmdb", NULL);
	ck_assert_int_eq(geo_refresh(g, 5000, err, sizeof err), 1);
	ck_assert_str_eq(cc(geo_lookup(g, &a)), "CN");
	geo_free(g);
}
END_TEST

START_TEST(a_garbage_database_is_an_error)
{
	char err[512];
	const char *p = ut_write("garbage.mmdb", "this is not a MaxMind DB file\n");
	struct geo *g = geo_new(p);
	struct ipaddr a = ip("203.0.113.9");

	ck_assert_int_eq(geo_load(g, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "garbage.mmdb") && strstr(err, "not a MaxMind DB file"), "%s", err);
	ck_assert_uint_eq(geo_lookup(g, &a), GEO_NONE);
	geo_free(g);
	g = geo_new(ut_dir);
	ck_assert_int_eq(geo_load(g, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "is not a file"), "%s", err);
	geo_free(g);
	g = geo_new(ut_write("empty.mmdb", ""));
	ck_assert_int_eq(geo_load(g, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "empty.mmdb' is empty (download it again"), "%s", err);
	geo_free(g);
}
END_TEST

/* geoipupdate renames a new file over the old one: read at the next look
 * (at most once a second); a broken replacement leaves the old one, and
 * is said once. */
START_TEST(a_replaced_database_is_read_again)
{
	char err[512], path[sizeof ut_dir + 32];
	struct geo *g;
	struct geo_stats st;
	struct ipaddr de = ip("198.51.100.7");

	snprintf(path, sizeof path, "%s", mkdb("r.mmdb", NULL));
	g = geo_new(path);
	ck_assert_msg(geo_load(g, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(geo_refresh(g, 1000, err, sizeof err), 0);
	ck_assert_str_eq(cc(geo_lookup(g, &de)), "DE");
	mkdb("r.mmdb", "198.51.100.0/24=CN");
	ck_assert_int_eq(geo_refresh(g, 1500, err, sizeof err), 0);     /* looked at within the second */
	ck_assert_str_eq(cc(geo_lookup(g, &de)), "DE");                 /* (the cached answer) */
	ck_assert_int_eq(geo_refresh(g, 2000, err, sizeof err), 1);
	ck_assert_str_eq(cc(geo_lookup(g, &de)), "CN");
	ut_write("r.mmdb.new", "broken");
	{
		char np[sizeof ut_dir + 32];
		snprintf(np, sizeof np, "%s/r.mmdb.new", ut_dir);
		ck_assert_int_eq(rename(np, path), 0);
	}
	ck_assert_int_eq(geo_refresh(g, 3000, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "not a MaxMind DB file"), "%s", err);
	ck_assert_int_eq(geo_refresh(g, 4000, err, sizeof err), 0);     /* said once */
	ck_assert_str_eq(cc(geo_lookup(g, &de)), "CN");                 /* the old one stays */
	geo_stats(g, &st);
	ck_assert_uint_eq(st.reopened, 1);
	ck_assert(st.loaded);
	geo_free(g);
}
END_TEST

/* cp writes over the file in place (geoipupdate renames): truncated and
 * rewritten under the daemon, the database in force still answers -- it
 * is the daemon's own copy -- until the new file is read. */
START_TEST(a_database_written_over_in_place_never_faults)
{
	char err[512], path[sizeof ut_dir + 32];
	struct geo *g;
	struct ipaddr a = ip("203.0.113.9"), b = ip("2001:db8:2::9");
	FILE *fp;

	snprintf(path, sizeof path, "%s", mkdb("p.mmdb", NULL));
	g = geo_new(path);
	ck_assert_msg(geo_load(g, err, sizeof err) == 0, "%s", err);
	fp = fopen(path, "w");          /* truncated, as cp does first */
	ck_assert_ptr_nonnull(fp);
	fputs("half", fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_str_eq(cc(geo_lookup(g, &a)), "CN");
	ck_assert_str_eq(cc(geo_lookup(g, &b)), "DE");
	ck_assert_int_eq(geo_refresh(g, 1000, err, sizeof err), -1);
	ck_assert_str_eq(cc(geo_lookup(g, &b)), "DE");
	geo_free(g);
}
END_TEST

START_TEST(answers_are_cached_per_address)
{
	char err[512];
	struct geo *g = geo_new(mkdb("k.mmdb", NULL));
	struct geo_stats st;
	struct ipaddr a = ip("203.0.113.9"), b = ip("192.0.2.200");

	ck_assert_msg(geo_load(g, err, sizeof err) == 0, "%s", err);
	for (int i = 0; i < 3; i++) {
		geo_lookup(g, &a);
		geo_lookup(g, &b);
	}
	geo_stats(g, &st);
	ck_assert_uint_eq(st.lookups, 6);
	ck_assert_uint_eq(st.cached, 4);
	ck_assert_uint_eq(st.unknown, 3);
	geo_free(g);
}
END_TEST

START_TEST(country_codes_parse_in_any_case)
{
	uint16_t c;
	const char *bad[] = { "", "C", "CNN", "XX", "ZZ", "1A", "c1", "none" };

	ck_assert_int_eq(geo_code_parse("cn", &c), 0);
	ck_assert_str_eq(cc(c), "CN");
	ck_assert_int_eq(geo_code_parse("De", &c), 0);
	ck_assert_str_eq(cc(c), "DE");
	ck_assert_int_eq(geo_code_parse("XK", &c), 0);
	ck_assert_int_eq(geo_code_parse("--", &c), 0);
	ck_assert_uint_eq(c, GEO_UNKNOWN);
	ck_assert_int_eq(geo_code_parse("Unknown", &c), 0);
	ck_assert_uint_eq(c, GEO_UNKNOWN);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(geo_code_parse(bad[i], &c) == -1, "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(location_blocks_name_country_and_rule)
{
	ck_assert_str_eq(cc(geo_block_country("location", "location CN: 1 connect within 1m (rule geo)")), "CN");
	ck_assert_uint_eq(geo_block_country("geo", "location CN: 1 connect within 1m (rule geo)"), GEO_NONE);
	ck_assert_uint_eq(geo_block_country("location", "location"), GEO_NONE);
	ck_assert_uint_eq(geo_block_country("location", "location ZZ: x"), GEO_NONE);
	ck_assert(geo_block_of_rule("location", "location CN: 1 connect within 1m (rule geo)", "geo"));
	ck_assert(!geo_block_of_rule("location", "location CN: 1 connect within 1m (rule geo)", "eo"));
	ck_assert(!geo_block_of_rule("manual", "location CN: 1 connect within 1m (rule geo)", "geo"));
}
END_TEST

START_TEST(rules_take_countries_and_not_countries)
{
	struct ruleset rs = { 0 };
	char err[512];
	const char *p = ut_write("loc.conf",
		"[geo]\nevents = connect auth-fail\ncountries = cn ru\nlimit = 1\nwindow = 1m\nblock = 1d\n\n"
		"[notde]\nevents = auth-fail\nnot_countries = DE --\nlimit = 3\nwindow = 1m\nblock = 1h\n\n"
		"[any]\nevents = auth-fail\nlimit = 3\nwindow = 1m\nblock = 1h\n");

	ck_assert_msg(ruleset_load(&rs, p, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert(rule_is_location(&rs.v[0]));
	ck_assert(rule_wants_country(&rs.v[0], geo_code('C', 'N')));
	ck_assert(rule_wants_country(&rs.v[0], geo_code('R', 'U')));
	ck_assert(!rule_wants_country(&rs.v[0], geo_code('D', 'E')));
	ck_assert(!rule_wants_country(&rs.v[0], GEO_UNKNOWN));
	ck_assert(rule_is_location(&rs.v[1]));
	ck_assert(!rule_wants_country(&rs.v[1], geo_code('D', 'E')));
	ck_assert(!rule_wants_country(&rs.v[1], GEO_UNKNOWN));
	ck_assert(rule_wants_country(&rs.v[1], geo_code('C', 'N')));
	ck_assert(!rule_is_location(&rs.v[2]));
	ruleset_release(&rs);
}
END_TEST

START_TEST(bad_country_keys_are_refused_with_a_reason)
{
	struct {
		const char *text, *want;
	} bad[] = {
		{ "countries = CN XX", "'XX' is not an ISO 3166 country code" },
		{ "countries = China", "'China' is not an ISO 3166" },
		{ "countries =", "name at least one country code" },
		{ "countries = CN\nnot_countries = DE", "a rule takes one of them" },
		{ "countries = CN\nper = account", "use per = ip or session" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ruleset rs = { 0 };
		char err[512] = "", text[512];
		const char *p;
		snprintf(text, sizeof text, "[geo]\nevents = connect\nlimit = 1\nwindow = 1m\nblock = 1d\n%s\n",
			 bad[i].text);
		p = ut_write("bad.conf", text);
		ck_assert_msg(ruleset_load(&rs, p, err, sizeof err) == -1, "accepted %s", bad[i].text);
		ck_assert_msg(strstr(err, bad[i].want) && strstr(err, "bad.conf:"), "%s: %s", bad[i].text, err);
		ruleset_release(&rs);
	}
}
END_TEST

struct seen {
	int n;
	uint16_t country;
	char rule[32];
};

static bool on_decision(void *arg, const struct decision *d, const struct event *ev, const struct logline *ll)
{
	struct seen *s = arg;

	(void)ev;
	(void)ll;
	s->n++;
	s->country = d->country;
	snprintf(s->rule, sizeof s->rule, "%s", d->rule->name);
	return true;
}

static int feed(struct screen *sc, const char *addr, struct seen *s)
{
	struct event ev = { .kind = EV_CONNECT, .count = 1, .has_ip = true, .service = "imap", .servicelen = 4 };
	struct logline ll = { .raw = "x", .rawlen = 1 };

	ev.ip = ip(addr);
	return screen_event(sc, &ev, &ll, 10000, on_decision, s);
}

/* A location rule counts only addresses of its countries, decides with
 * the country; without a database it counts nothing. */
START_TEST(location_rules_count_only_their_countries)
{
	struct ruleset rs = { 0 };
	char err[512];
	struct screen *sc = screen_new();
	struct geo *g = geo_new(mkdb("s.mmdb", NULL));
	struct seen s = { 0 };
	struct screen_stats st;
	const char *p = ut_write("s.conf",
		"[geo]\nevents = connect\ncountries = CN\nlimit = 1\nwindow = 1m\nblock = 1d\n\n"
		"[notcn]\nevents = connect\nnot_countries = CN\nlimit = 2\nwindow = 1m\nblock = 1d\n");

	ck_assert_msg(geo_load(g, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(ruleset_load(&rs, p, err, sizeof err) == 0, "%s", err);
	screen_configure(sc, &rs, NULL);
	/* no database yet: nothing counts */
	ck_assert_int_eq(feed(sc, "203.0.113.9", &s), 0);
	screen_set_geo(sc, g);
	ck_assert_int_eq(feed(sc, "203.0.113.9", &s), 1);
	ck_assert_str_eq(s.rule, "geo");
	ck_assert_str_eq(cc(s.country), "CN");
	ck_assert_int_eq(feed(sc, "2001:db8:1::5", &s), 1);
	ck_assert_str_eq(cc(s.country), "CN");
	/* DE and unknown: only not_countries counts them, to its limit */
	s.n = 0;
	ck_assert_int_eq(feed(sc, "198.51.100.7", &s), 0);
	ck_assert_int_eq(feed(sc, "198.51.100.7", &s), 1);
	ck_assert_str_eq(s.rule, "notcn");
	ck_assert_str_eq(cc(s.country), "DE");
	ck_assert_int_eq(feed(sc, "192.0.2.200", &s), 0);
	ck_assert_int_eq(feed(sc, "192.0.2.200", &s), 1);
	ck_assert_uint_eq(s.country, GEO_UNKNOWN);
	screen_stats(sc, &st);
	ck_assert_uint_eq(st.located, 6);
	ck_assert_uint_eq(st.unlocated, 2);     /* the first event, for both rules */
	screen_free(sc);
	geo_free(g);
}
END_TEST

/* Hits of location rules are logged, 20 lines a minute at most, then how
 * many were left out. */
START_TEST(location_hits_are_logged_at_a_bounded_rate)
{
	struct ruleset rs = { 0 };
	char err[512], path[sizeof ut_dir + 32], line[512];
	struct screen *sc = screen_new();
	struct geo *g = geo_new(mkdb("l.mmdb", NULL));
	struct seen s = { 0 };
	struct event ev = { .kind = EV_CONNECT, .count = 1, .has_ip = true, .service = "imap", .servicelen = 4 };
	struct logline ll = { .raw = "x", .rawlen = 1 };
	int saved = dup(2), fd, hits = 0, more = 0;
	FILE *fp;

	ck_assert_msg(geo_load(g, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(ruleset_load(&rs, ut_write("l.conf", "[geo]\nevents = connect\ncountries = CN\nlimit = 2\n"
						   "window = 1m\nblock = 1d\n"), err, sizeof err) == 0, "%s", err);
	screen_configure(sc, &rs, NULL);
	screen_set_geo(sc, g);
	snprintf(path, sizeof path, "%s/log", ut_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	log_init("test_geo", LOG_LVL_INFO);
	for (int i = 0; i < 25; i++) {
		snprintf(line, sizeof line, "203.0.113.%d", i + 1);
		ev.ip = ip(line);
		screen_event(sc, &ev, &ll, 100000 + (uint64_t)i, on_decision, &s);
	}
	ev.ip = ip("203.0.113.100");
	screen_event(sc, &ev, &ll, 100000 + 60000, on_decision, &s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	log_init("test_geo", LOG_LVL_WARN);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof line, fp)) {
		hits += strstr(line, "location CN: 203.0.113.") && strstr(line, " connect (imap) counted by rule geo, 1 of 2");
		more += strstr(line, "location: 5 more hits not logged in the last minute") != NULL;
	}
	fclose(fp);
	ck_assert_int_eq(hits, 21);     /* 20 in the first minute, 1 in the next */
	ck_assert_int_eq(more, 1);
	screen_free(sc);
	geo_free(g);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("geo");

	log_init("test_geo", LOG_LVL_WARN);
	tcase_add_test(tc, countries_come_from_a_built_database);
	tcase_add_test(tc, ipv4_mapped_ipv6_is_looked_up_as_ipv4);
	tcase_add_test(tc, without_a_memory_file_the_database_is_mapped_itself);
	tcase_add_test(tc, a_missing_database_is_an_error_and_answers_nothing);
	tcase_add_test(tc, a_garbage_database_is_an_error);
	tcase_add_test(tc, a_replaced_database_is_read_again);
	tcase_add_test(tc, a_database_written_over_in_place_never_faults);
	tcase_add_test(tc, answers_are_cached_per_address);
	tcase_add_test(tc, country_codes_parse_in_any_case);
	tcase_add_test(tc, location_blocks_name_country_and_rule);
	tcase_add_test(tc, rules_take_countries_and_not_countries);
	tcase_add_test(tc, bad_country_keys_are_refused_with_a_reason);
	tcase_add_test(tc, location_rules_count_only_their_countries);
	tcase_add_test(tc, location_hits_are_logged_at_a_bounded_rate);
	return ut_run("geo", tc);
}
