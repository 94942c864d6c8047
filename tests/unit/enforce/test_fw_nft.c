// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for fw_nft.c against the real kernel, inside a private network
 * namespace entered at the top of main(): the host's ruleset is never
 * touched. Results are read back with the nft program (the module itself
 * never runs it), or with fw_nft_list(). The monitor's reports are awaited
 * by running the loop until the expected one arrives, under a fail-safe
 * timer; a report that must not come is proved absent by a later one that
 * must, being the first. Exits 77 (skip) when namespaces are not allowed,
 * unless CI=true. MS_DEBUG=1 shows the module's debug log.
 */
#include "fw_nft.h"
#include "fw_nft_int.h"
#include "log.h"
#include "loop.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const uint16_t mail_ports[] = { 25, 465, 587, 110, 995, 143, 993, 4190 };

/* ---- helpers ----------------------------------------------------------- */

/* Output of a shell command (stdout and stderr), caller frees; *status
 * gets its exit status if status is not NULL. */
static char *run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *run(int *status, const char *fmt, ...)
{
	char cmd[512], cmd2[600], *out = NULL;
	size_t len = 0, n;
	char chunk[4096];
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	ck_assert_int_lt(snprintf(cmd2, sizeof cmd2, "{ %s; } 2>&1", cmd), (int)sizeof cmd2);
	p = popen(cmd2, "r");
	ck_assert_ptr_nonnull(p);
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
		out = realloc(out, len + n + 1);
		ck_assert_ptr_nonnull(out);
		memcpy(out + len, chunk, n);
		len += n;
	}
	if (!out)
		out = calloc(1, 1);
	out[len] = '\0';
	st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static struct fw_nft *open_setup(const char *table, const uint16_t *ports, size_t nports,
				 bool all)
{
	struct fw_nft_config cfg = { .table = table, .all_ports = all };
	char err[256] = "";
	struct fw_nft *f = fw_nft_open(err, sizeof err);

	ck_assert_msg(f, "open: %s", err);
	for (size_t i = 0; i < nports; i++)
		cfg.ports[i] = ports[i];
	cfg.nports = nports;
	ck_assert_msg(fw_nft_setup(f, &cfg, err, sizeof err) == 0, "setup: %s", err);
	return f;
}

static struct fw_nft *open_default(const char *table)
{
	return open_setup(table, mail_ports, sizeof mail_ports / sizeof mail_ports[0], false);
}

static void add(struct fw_nft *f, const char *s, uint64_t timeout_ms)
{
	struct cidr c;
	char err[128];

	ck_assert_msg(cidr_parse(s, &c, err, sizeof err) == 0, "%s", err);
	fw_nft_queue_add(f, &c, timeout_ms);
}

static void del(struct fw_nft *f, const char *s)
{
	struct cidr c;
	char err[128];

	ck_assert_msg(cidr_parse(s, &c, err, sizeof err) == 0, "%s", err);
	fw_nft_queue_del(f, &c);
}

static int commit(struct fw_nft *f)
{
	char err[256] = "";
	int r = fw_nft_commit(f, err, sizeof err);

	ck_assert_msg(r >= 0, "commit: %s", err);
	return r;
}

static char *list_set(const char *table, const char *set)
{
	return run(NULL, "nft list set inet %s %s", table, set);
}

/* The text of one element in `nft list set` output: from its key to the
 * next ',' or '}' (keys are followed by a space, a ',' or a newline). */
static char *element(const char *listing, const char *key)
{
	const char *p = listing, *e;
	size_t kl = strlen(key);

	while ((p = strstr(p, key))) {
		char after = p[kl];
		bool start = p == listing || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '{';

		if (start && (after == ' ' || after == ',' || after == '\n'))
			break;
		p += kl;
	}
	if (!p)
		return NULL;
	e = p + strcspn(p, ",}");
	return strndup(p, (size_t)(e - p));
}

/* "expires 1m59s996ms" -> milliseconds, -1 if absent */
static long long expires_ms(const char *elem)
{
	const char *p = elem ? strstr(elem, "expires ") : NULL;
	long long total = 0;

	if (!p)
		return -1;
	p += 8;
	while (*p >= '0' && *p <= '9') {
		char *end;
		long long v = strtoll(p, &end, 10);

		if (strncmp(end, "ms", 2) == 0) {
			total += v;
			end += 2;
		} else if (*end == 'd') {
			total += v * 86400000;
			end++;
		} else if (*end == 'h') {
			total += v * 3600000;
			end++;
		} else if (*end == 'm') {
			total += v * 60000;
			end++;
		} else if (*end == 's') {
			total += v * 1000;
			end++;
		} else {
			break;
		}
		p = end;
	}
	return total;
}

/* Capture what the module logs (stderr) while a test runs; tests run in
 * forked children, so changing fd 2 does not outlive the test. */
static FILE *capture;

static void capture_start(void)
{
	capture = tmpfile();
	ck_assert_ptr_nonnull(capture);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(capture), STDERR_FILENO), 0);
	log_set_level(LOG_LVL_DEBUG);
}

static char *capture_end(void)
{
	long n;
	char *s;

	fflush(stderr);
	n = ftell(capture);
	ck_assert_int_ge(n, 0);
	s = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	rewind(capture);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, capture), (size_t)n);
	fclose(capture);
	log_set_level(LOG_LVL_WARN);
	return s;
}

/* ---- tests ------------------------------------------------------------- */

/* fw_nft_widest_prefix against the plain search it replaced (every length
 * from 0), on aligned and unaligned ranges of both families, and the
 * edges: a single address, everything, an address of all zero bits. */
static void widest_by_search(const struct ipaddr *first, const struct ipaddr *last, struct cidr *out)
{
	for (int len = 0; len < addr_bits(first); len++) {
		struct ipaddr l;
		cidr_from_addr(out, first, len);
		cidr_last(out, &l);
		if (addr_equal(&out->addr, first) && addr_cmp(&l, last) <= 0)
			return;
	}
	cidr_from_addr(out, first, addr_bits(first));
}

START_TEST(widest_prefix_is_the_one_a_search_finds)
{
	unsigned seed = 7;

	for (int n = 0; n < 20000; n++) {
		struct ipaddr first = { .family = n % 2 ? AF_INET6 : AF_INET }, last;
		struct cidr got, want, span;
		int bits = addr_bits(&first), len;
		char a[CIDR_STRLEN], b[CIDR_STRLEN];

		for (int i = 0; i < bits / 8; i++)
			first.b[i] = (uint8_t)rand_r(&seed);
		/* a prefix's first address, then a last address inside or
		 * beyond its span: aligned and unaligned ranges */
		len = n % 7 == 0 ? bits : rand_r(&seed) % (bits + 1);
		cidr_from_addr(&span, &first, len);
		first = span.addr;
		if (n % 11 == 0)
			memset(first.b, 0, sizeof first.b);
		cidr_from_addr(&span, &first, rand_r(&seed) % (bits + 1));
		cidr_last(&span, &last);
		if (addr_cmp(&last, &first) < 0)
			last = first;
		fw_nft_widest_prefix(&first, &last, &got);
		widest_by_search(&first, &last, &want);
		cidr_format(&got, a);
		cidr_format(&want, b);
		ck_assert_msg(got.len == want.len && addr_equal(&got.addr, &want.addr), "case %d: %s, the search: %s",
			      n, a, b);
	}
}
END_TEST

START_TEST(setup_creates_table_sets_and_chain)
{
	struct fw_nft *f = open_default("ms_setup");
	char *out = run(NULL, "nft list table inet ms_setup");

	ck_assert_msg(strstr(out, "set block4 {"), "%s", out);
	ck_assert_msg(strstr(out, "set block6 {"), "%s", out);
	ck_assert_msg(strstr(out, "type ipv4_addr"), "%s", out);
	ck_assert_msg(strstr(out, "type ipv6_addr"), "%s", out);
	ck_assert_int_eq(count(out, "flags interval,timeout"), 4);
	ck_assert_msg(strstr(out, "set allow4 {") && strstr(out, "set allow6 {"), "%s", out);
	/* accepted before any drop: loopback, then the allow sets */
	ck_assert_msg(strstr(out, "iiftype loopback accept") && strstr(out, "ip saddr @allow4 accept") &&
		      strstr(out, "ip6 saddr @allow6 accept"), "%s", out);
	ck_assert_msg(strstr(out, "@allow6 accept") < strstr(out, "@block4"), "%s", out);
	ck_assert_msg(strstr(out, "chain input {"), "%s", out);
	ck_assert_msg(strstr(out, "type filter hook input priority"), "%s", out);
	ck_assert_msg(strstr(out, "policy accept;"), "%s", out);
	ck_assert_msg(strstr(out, "tcp dport { 25, 110, 143, 465, 587, 993, 995, 4190 } "
			     "ip saddr @block4"), "%s", out);
	ck_assert_msg(strstr(out, "tcp dport { 25, 110, 143, 465, 587, 993, 995, 4190 } "
			     "ip6 saddr @block6"), "%s", out);
	ck_assert_int_eq(count(out, " drop"), 2);
	free(out);
	fw_nft_close(f);
}
END_TEST

START_TEST(second_setup_keeps_elements_and_does_not_duplicate_rules)
{
	struct fw_nft *f = open_default("ms_again");
	struct fw_nft *g;
	char *out;

	add(f, "192.0.2.7", 600000);
	add(f, "2001:db8::7", 0);
	ck_assert_int_eq(commit(f), 0);
	fw_nft_close(f);

	g = open_default("ms_again");   /* as a restarted daemon would */
	out = run(NULL, "nft list table inet ms_again");
	ck_assert_msg(strstr(out, "192.0.2.7 "), "%s", out);
	ck_assert_msg(strstr(out, "2001:db8::7 "), "%s", out);
	ck_assert_int_eq(count(out, "saddr @block4"), 1);
	ck_assert_int_eq(count(out, "saddr @block6"), 1);
	free(out);
	fw_nft_close(g);
}
END_TEST

START_TEST(setup_adopts_existing_sets_and_refuses_wrong_ones)
{
	struct fw_nft_config cfg = { .table = "ms_old", .ports = { 25 }, .nports = 1 };
	char err[256] = "";
	struct fw_nft *f;
	char *out;
	int st;

	/* sets made elsewhere (an older version) without counters */
	out = run(&st, "nft add table inet ms_old && "
		  "nft add set inet ms_old block4 '{ type ipv4_addr; flags interval,timeout; }' && "
		  "nft add set inet ms_old block6 '{ type ipv6_addr; flags interval,timeout; }' && "
		  "nft add element inet ms_old block4 '{ 192.0.2.44 timeout 1h }'");
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	f = open_setup("ms_old", cfg.ports, 1, false);
	add(f, "192.0.2.45", 60000);
	ck_assert_int_eq(commit(f), 0);
	out = list_set("ms_old", "block4");
	ck_assert_msg(strstr(out, "192.0.2.44 ") && strstr(out, "192.0.2.45 "), "%s", out);
	free(out);

	/* a set of the wrong shape is reported, not worked around */
	out = run(&st, "nft add table inet ms_wrong && "
		  "nft add set inet ms_wrong block4 '{ type ipv4_addr; }'");
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	cfg.table = "ms_wrong";
	ck_assert_int_eq(fw_nft_setup(f, &cfg, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "block4") && strstr(err, "ms_wrong"), "%s", err);
	fw_nft_close(f);
}
END_TEST

START_TEST(added_address_appears_with_timeout)
{
	struct fw_nft *f = open_default("ms_add");
	char *out, *e;

	add(f, "192.0.2.7", 60000);
	ck_assert_uint_eq(fw_nft_pending(f), 1);
	ck_assert_int_eq(commit(f), 0);
	ck_assert_uint_eq(fw_nft_pending(f), 0);
	out = list_set("ms_add", "block4");
	e = element(out, "192.0.2.7");
	ck_assert_msg(e, "%s", out);
	ck_assert_msg(strstr(e, "timeout 1m"), "%s", e);
	ck_assert_int_gt(expires_ms(e), 50000);
	free(e);
	free(out);
	fw_nft_close(f);
}
END_TEST

START_TEST(cidr_ranges_appear_as_ranges)
{
	struct fw_nft *f = open_default("ms_range");
	char *out4, *out6;

	add(f, "198.51.100.0/24", 60000);
	add(f, "2001:db8:1::/64", 60000);
	add(f, "203.0.113.255", 60000);         /* the end element lands on .0 of the next /24 */
	ck_assert_int_eq(commit(f), 0);
	out4 = list_set("ms_range", "block4");
	out6 = list_set("ms_range", "block6");
	ck_assert_msg(strstr(out4, "198.51.100.0/24 "), "%s", out4);
	ck_assert_msg(strstr(out4, "203.0.113.255 "), "%s", out4);
	ck_assert_msg(strstr(out6, "2001:db8:1::/64 "), "%s", out6);
	free(out4);
	free(out6);
	fw_nft_close(f);
}
END_TEST

START_TEST(readding_an_element_extends_its_expiry)
{
	struct fw_nft *f = open_default("ms_extend");
	char *out, *e;
	long long before, after;

	add(f, "192.0.2.8", 60000);
	add(f, "198.51.100.0/24", 60000);
	ck_assert_int_eq(commit(f), 0);
	sleep(2);
	out = list_set("ms_extend", "block4");
	e = element(out, "192.0.2.8");
	before = expires_ms(e);
	free(e);
	free(out);
	ck_assert_int_le(before, 58500);

	add(f, "192.0.2.8", 60000);             /* same timeout: the clock restarts */
	add(f, "198.51.100.0/24", 60000);
	ck_assert_int_eq(commit(f), 0);
	out = list_set("ms_extend", "block4");
	e = element(out, "192.0.2.8");
	after = expires_ms(e);
	ck_assert_msg(after > before + 1000, "expires %lld -> %lld", before, after);
	free(e);
	e = element(out, "198.51.100.0/24");
	ck_assert_int_gt(expires_ms(e), 59000);
	free(e);
	free(out);
	fw_nft_close(f);
}
END_TEST

START_TEST(address_inside_blocked_range_is_covered_not_refused)
{
	struct fw_nft *f = open_default("ms_cover");
	char *out, *log;

	add(f, "198.51.100.0/24", 60000);
	add(f, "2001:db8:1::/48", 60000);
	ck_assert_int_eq(commit(f), 0);

	capture_start();
	add(f, "198.51.100.5", 60000);
	add(f, "2001:db8:1:2::9", 60000);
	add(f, "192.0.2.20", 60000);            /* an unrelated good one */
	ck_assert_int_eq(commit(f), 0);
	log = capture_end();
	ck_assert_msg(strstr(log, "198.51.100.5 already covered"), "%s", log);
	ck_assert_msg(strstr(log, "2001:db8:1:2::9 already covered"), "%s", log);
	ck_assert_msg(!strstr(log, "warning"), "%s", log);
	free(log);

	out = list_set("ms_cover", "block4");
	ck_assert_msg(strstr(out, "198.51.100.0/24 "), "%s", out);
	ck_assert_msg(!strstr(out, "198.51.100.5"), "%s", out);
	ck_assert_msg(strstr(out, "192.0.2.20 "), "%s", out);
	free(out);
	fw_nft_close(f);
}
END_TEST

START_TEST(wider_range_replaces_narrower_blocks)
{
	struct fw_nft *f = open_default("ms_wider");
	char *out;

	add(f, "192.0.2.7", 60000);
	add(f, "192.0.2.9", 0);
	ck_assert_int_eq(commit(f), 0);
	add(f, "192.0.2.0/24", 120000);
	add(f, "198.51.100.1", 60000);          /* and both within one batch */
	add(f, "198.51.100.0/23", 60000);
	ck_assert_int_eq(commit(f), 0);
	out = list_set("ms_wider", "block4");
	ck_assert_msg(strstr(out, "192.0.2.0/24 "), "%s", out);
	ck_assert_msg(strstr(out, "198.51.100.0/23 "), "%s", out);
	ck_assert_msg(!strstr(out, "192.0.2.7") && !strstr(out, "192.0.2.9"), "%s", out);
	ck_assert_msg(!strstr(out, "198.51.100.1 "), "%s", out);
	free(out);
	fw_nft_close(f);
}
END_TEST

START_TEST(bad_element_is_reported_and_others_still_apply)
{
	struct fw_nft *f = open_default("ms_bad");
	char *out, *log;

	capture_start();
	add(f, "192.0.2.10", 60000);
	add(f, "192.0.2.11", 100000000000000ULL); /* ~3000 years: beyond what the kernel takes */
	add(f, "2001:db8::12", 60000);
	del(f, "192.0.2.99");                   /* not in the set: not a failure */
	add(f, "192.0.2.13", 60000);
	ck_assert_int_eq(commit(f), 1);
	log = capture_end();
	ck_assert_msg(strstr(log, "refused to block 192.0.2.11"), "%s", log);
	ck_assert_msg(strstr(log, strerror(ERANGE)), "%s", log);
	ck_assert_int_eq(count(log, "warning"), 1);
	free(log);

	out = run(NULL, "nft list table inet ms_bad");
	ck_assert_msg(strstr(out, "192.0.2.10 "), "%s", out);
	ck_assert_msg(strstr(out, "192.0.2.13 "), "%s", out);
	ck_assert_msg(strstr(out, "2001:db8::12 "), "%s", out);
	ck_assert_msg(!strstr(out, "192.0.2.11"), "%s", out);
	free(out);
	fw_nft_close(f);
}
END_TEST

START_TEST(permanent_element_has_no_timeout)
{
	struct fw_nft *f = open_default("ms_perm");
	char *out, *e;

	add(f, "203.0.113.9", 0);
	add(f, "203.0.113.10", 60000);
	ck_assert_int_eq(commit(f), 0);
	out = list_set("ms_perm", "block4");
	e = element(out, "203.0.113.9");
	ck_assert_msg(e, "%s", out);
	ck_assert_msg(!strstr(e, "timeout") && !strstr(e, "expires"), "%s", e);
	free(e);
	e = element(out, "203.0.113.10");
	ck_assert_msg(e && strstr(e, "timeout"), "%s", out);
	free(e);
	free(out);
	fw_nft_close(f);
}
END_TEST

START_TEST(delete_removes_block_and_keeps_ranges_whole)
{
	struct fw_nft *f = open_default("ms_del");
	char *out;

	add(f, "192.0.2.7", 60000);
	add(f, "198.51.100.0/24", 60000);
	add(f, "2001:db8:5::/64", 60000);
	ck_assert_int_eq(commit(f), 0);
	del(f, "192.0.2.7");
	del(f, "198.51.100.0");                 /* shares its start with the /24: must not break it */
	del(f, "2001:db8:5::/64");
	ck_assert_int_eq(commit(f), 0);
	out = run(NULL, "nft list table inet ms_del");
	ck_assert_msg(!strstr(out, "192.0.2.7"), "%s", out);
	ck_assert_msg(strstr(out, "198.51.100.0/24 "), "%s", out);
	ck_assert_msg(!strstr(out, "2001:db8:5::"), "%s", out);
	free(out);
	fw_nft_close(f);
}
END_TEST

START_TEST(ports_change_with_second_setup)
{
	const uint16_t p1[] = { 25 }, p2[] = { 2525, 25, 25 };
	struct fw_nft *f = open_setup("ms_ports", p1, 1, false);
	struct fw_nft *g;
	char *out;

	add(f, "192.0.2.30", 60000);
	ck_assert_int_eq(commit(f), 0);
	out = run(NULL, "nft list chain inet ms_ports input");
	ck_assert_msg(strstr(out, "tcp dport { 25 } ip saddr @block4")
		      || strstr(out, "tcp dport 25 ip saddr @block4"), "%s", out);
	free(out);

	g = open_setup("ms_ports", p2, 3, false);
	out = run(NULL, "nft list table inet ms_ports");
	ck_assert_msg(strstr(out, "tcp dport { 25, 2525 } ip saddr @block4"), "%s", out);
	ck_assert_int_eq(count(out, "saddr @block4"), 1);
	ck_assert_msg(strstr(out, "192.0.2.30 "), "%s", out);
	free(out);
	fw_nft_close(g);

	g = open_setup("ms_ports", NULL, 0, true);
	out = run(NULL, "nft list chain inet ms_ports input");
	ck_assert_msg(!strstr(out, "dport"), "%s", out);
	ck_assert_int_eq(count(out, "saddr @block4"), 1);
	ck_assert_int_eq(count(out, "saddr @block6"), 1);
	free(out);
	fw_nft_close(g);
	fw_nft_close(f);
}
END_TEST

START_TEST(destroy_removes_the_table)
{
	struct fw_nft *f = open_default("ms_gone");
	char err[256] = "";
	char *out;
	int st;

	add(f, "192.0.2.7", 60000);
	ck_assert_int_eq(commit(f), 0);
	ck_assert_msg(fw_nft_destroy(f, "ms_gone", err, sizeof err) == 0, "%s", err);
	out = run(&st, "nft list table inet ms_gone");
	ck_assert_msg(st != 0, "%s", out);
	free(out);
	/* again: nothing to remove is not an error */
	ck_assert_msg(fw_nft_destroy(f, "ms_gone", err, sizeof err) == 0, "%s", err);
	/* and commits say the table is gone instead of failing element by element */
	add(f, "192.0.2.8", 60000);
	ck_assert_int_eq(fw_nft_commit(f, err, sizeof err), -1);
	fw_nft_close(f);
}
END_TEST

START_TEST(commit_sends_a_big_batch)
{
	struct fw_nft *f = open_default("ms_big");
	struct cidr c;
	char *out;

	memset(&c, 0, sizeof c);
	c.addr.family = AF_INET;
	c.len = 32;
	for (uint32_t i = 0; i < 40000; i++) {  /* more than one batch's worth */
		uint32_t a = htonl(0x0a000000u + i * 2);

		memcpy(c.addr.b, &a, 4);
		fw_nft_queue_add(f, &c, 600000);
	}
	ck_assert_int_eq(commit(f), 0);
	out = run(NULL, "nft list set inet ms_big block4 | grep -o '10\\.[01]\\.[0-9.]*' | wc -l");
	ck_assert_int_eq(atoi(out), 40000);
	free(out);
	fw_nft_close(f);
}
END_TEST

/* ---- a second namespace for the clients ----
 * The drop chain accepts everything that comes in over loopback (the host
 * talking to itself), so packets that must be dropped come from a peer
 * namespace joined to this one by a veth pair: ms0 here (192.0.2.1/24,
 * 198.18.0.1/24), ms1 there (the clients' addresses). */

static int peer_ns = -1;

static void peer_setup(void)
{
	int ready[2], hold[2], st;
	char c, *out;
	pid_t pid;

	if (peer_ns >= 0)
		return;
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* holds the namespace until the test process exits */
		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	out = run(&st, "ip link set lo up && ip link add ms0 type veth peer name ms1 netns %d && "
		  "ip link set ms0 up && ip addr add 192.0.2.1/24 dev ms0 && ip addr add 198.18.0.1/24 dev ms0 && "
		  "nsenter --net=/proc/%d/ns/net sh -c 'ip link set lo up && ip link set ms1 up && "
		  "for a in 192.0.2.66 192.0.2.67 198.18.0.66 198.18.0.68; do ip addr add $a/24 dev ms1; done'",
		  (int)pid, (int)pid);
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	{
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
		peer_ns = open(path, O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(peer_ns, 0);
	}
}

/* A TCP connect from src to dst:25 within one second, from this namespace? */
static bool connects(const char *src, const char *dst)
{
	struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET };
	struct pollfd p;
	int fd, e = 0;
	socklen_t el = sizeof e;
	bool ok;

	inet_pton(AF_INET, src, &s.sin_addr);
	inet_pton(AF_INET, dst, &d.sin_addr);
	d.sin_port = htons(25);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s, sizeof s) < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&d, sizeof d) == 0) {
		close(fd);
		return true;
	}
	if (errno != EINPROGRESS) {
		close(fd);
		return false;
	}
	p.fd = fd;
	p.events = POLLOUT;
	ok = poll(&p, 1, 1000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0;
	close(fd);
	return ok;
}

/* A TCP connect from src (in the peer namespace) to dst:25 within one
 * second? */
static bool peer_connects(const char *src, const char *dst)
{
	pid_t pid;
	int st;

	peer_setup();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(setns(peer_ns, CLONE_NEWNET) == 0 && connects(src, dst) ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}


START_TEST(blocked_source_cannot_connect_others_can)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(25) };
	struct fw_nft *f;
	char *out;
	int lfd, one = 1;

	peer_setup();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);

	f = open_default("ms_packet");
	ck_assert(peer_connects("192.0.2.66", "192.0.2.1"));
	add(f, "192.0.2.66", 60000);
	add(f, "192.0.2.1", 60000);     /* even the host's own address: loopback traffic is accepted first */
	ck_assert_int_eq(commit(f), 0);
	ck_assert(!peer_connects("192.0.2.66", "192.0.2.1"));
	ck_assert(peer_connects("192.0.2.67", "192.0.2.1"));
	ck_assert(connects("192.0.2.1", "192.0.2.1"));
	/* an allowed address is accepted before any drop */
	add(f, "192.0.2.64/27", 60000);
	ck_assert_int_eq(commit(f), 0);
	ck_assert(!peer_connects("192.0.2.67", "192.0.2.1"));
	{
		struct cidr c;
		ck_assert_int_eq(cidr_parse("192.0.2.67", &c, NULL, 0), 0);
		fw_nft_queue_set(f, FW_NFT_ALLOW, &c, 60000, false);
		ck_assert_int_eq(commit(f), 0);
	}
	ck_assert(peer_connects("192.0.2.67", "192.0.2.1"));
	ck_assert(!peer_connects("192.0.2.66", "192.0.2.1"));
	out = run(NULL, "nft list set inet ms_packet block4");
	ck_assert_msg(strstr(out, "192.0.2.64/27 counter packets ") &&
		      !strstr(out, "192.0.2.64/27 counter packets 0 "), "%s", out);
	free(out);
	del(f, "192.0.2.64/27");
	del(f, "192.0.2.1");
	ck_assert_int_eq(commit(f), 0);
	ck_assert(peer_connects("192.0.2.66", "192.0.2.1"));
	close(lfd);
	fw_nft_close(f);
}
END_TEST

/* ---- listing ----------------------------------------------------------- */

struct listed {
	struct fw_nft_elem v[16];
	char text[16][CIDR_STRLEN];
	size_t n;
};

static void collect(void *arg, const struct fw_nft_elem *e)
{
	struct listed *l = arg;

	ck_assert_uint_lt(l->n, 16);
	l->v[l->n] = *e;
	cidr_format(&e->target, l->text[l->n]);
	l->n++;
}

static void list(struct fw_nft *f, const char *table, struct listed *l)
{
	char err[256] = "";

	memset(l, 0, sizeof *l);
	ck_assert_msg(fw_nft_list(f, table, collect, l, err, sizeof err) == 0, "list: %s", err);
}

static const struct fw_nft_elem *listed_find(const struct listed *l, const char *text)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->text[i], text) == 0)
			return &l->v[i];
	ck_abort_msg("'%s' not listed", text);
	return NULL;
}

START_TEST(list_gives_back_addresses_and_ranges_with_their_timeouts)
{
	static const struct {
		const char *text;
		uint64_t timeout_ms;
	} want[] = {                    /* in the order listed: IPv4, then IPv6, by address */
		{ "192.0.2.7", 60000 },
		{ "198.51.100.0/24", 120000 },
		{ "203.0.113.9", 0 },
		{ "203.0.113.255", 90000 },
		{ "255.255.255.255", 60000 },   /* no end element: the top of the space */
		{ "2001:db8::9", 0 },
		{ "2001:db8:1::/64", 3600000 },
	};
	struct fw_nft *f = open_default("ms_list");
	struct listed l;

	for (size_t i = sizeof want / sizeof want[0]; i-- > 0;)
		add(f, want[i].text, want[i].timeout_ms);
	ck_assert_int_eq(commit(f), 0);
	list(f, "ms_list", &l);
	ck_assert_uint_eq(l.n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < l.n; i++) {
		const struct fw_nft_elem *e = &l.v[i];

		ck_assert_str_eq(l.text[i], want[i].text);
		ck_assert_msg(e->timeout_ms == want[i].timeout_ms, "%s: timeout %llu", l.text[i],
			      (unsigned long long)e->timeout_ms);
		if (want[i].timeout_ms == 0)
			ck_assert_uint_eq(e->expires_ms, 0);
		else
			ck_assert_msg(e->expires_ms <= want[i].timeout_ms &&
				      e->expires_ms + 10000 > want[i].timeout_ms,
				      "%s: expires %llu", l.text[i], (unsigned long long)e->expires_ms);
		ck_assert(e->has_counter);
		ck_assert_uint_eq(e->packets, 0);
		ck_assert_uint_eq(e->bytes, 0);
	}
	fw_nft_close(f);
}
END_TEST

START_TEST(list_splits_a_range_that_is_no_prefix)
{
	struct fw_nft *f = open_default("ms_listr");
	struct listed l;
	char *out;
	int st;

	/* as someone could add with nft: not something mailscreen makes */
	out = run(&st, "nft add element inet ms_listr block4 '{ 10.0.0.1-10.0.0.6 timeout 1h }'");
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	list(f, "ms_listr", &l);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_str_eq(l.text[0], "10.0.0.1");
	ck_assert_str_eq(l.text[1], "10.0.0.2/31");
	ck_assert_str_eq(l.text[2], "10.0.0.4/31");
	ck_assert_str_eq(l.text[3], "10.0.0.6");
	for (size_t i = 0; i < l.n; i++) {
		ck_assert_uint_eq(l.v[i].timeout_ms, 3600000);
		ck_assert(l.v[i].has_counter == (i == 0));      /* counted once */
	}
	fw_nft_close(f);
}
END_TEST

START_TEST(list_of_a_missing_table_fails_clearly)
{
	struct fw_nft *f = open_default("ms_listm");
	struct listed l = { .n = 0 };
	char err[256] = "";

	ck_assert_int_eq(fw_nft_list(f, "ms_nothere", collect, &l, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "ms_nothere") && strstr(err, "block4"), "%s", err);
	ck_assert_uint_eq(l.n, 0);
	/* an empty table lists nothing, successfully */
	list(f, "ms_listm", &l);
	ck_assert_uint_eq(l.n, 0);
	fw_nft_close(f);
}
END_TEST

START_TEST(list_counts_the_packets_each_block_dropped)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(25) };
	const struct fw_nft_elem *e;
	struct fw_nft *f;
	struct listed l;
	int lfd, one = 1;

	peer_setup();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	inet_pton(AF_INET, "198.18.0.1", &a.sin_addr);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);

	f = open_default("ms_listc");
	add(f, "198.18.0.66", 60000);
	add(f, "198.18.0.68", 60000);
	add(f, "2001:db8::66", 60000);
	ck_assert_int_eq(commit(f), 0);
	ck_assert(!peer_connects("198.18.0.66", "198.18.0.1"));
	ck_assert(connects("198.18.0.1", "198.18.0.1"));

	list(f, "ms_listc", &l);
	ck_assert_uint_eq(l.n, 3);
	e = listed_find(&l, "198.18.0.66");
	ck_assert(e->has_counter);
	ck_assert_uint_gt(e->packets, 0);
	ck_assert_uint_ge(e->bytes, e->packets * 40);   /* an IPv4 + TCP header at least */
	e = listed_find(&l, "198.18.0.68");
	ck_assert(e->has_counter);
	ck_assert_uint_eq(e->packets, 0);
	ck_assert_uint_eq(e->bytes, 0);
	e = listed_find(&l, "2001:db8::66");
	ck_assert_uint_eq(e->packets, 0);
	close(lfd);
	fw_nft_close(f);
}
END_TEST

/* ---- monitor ----------------------------------------------------------- */

/* What a monitor reported, awaited through the loop. */
struct seen {
	struct loop *l;
	char what[8][256];
	size_t n;
	const char *until;              /* stop the loop once a report holds this */
	bool timed_out;
};

static void on_lost(void *arg, const char *what)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->what[s->n], sizeof s->what[0], "%s", what);
	s->n++;
	if (s->until && strstr(what, s->until))
		loop_stop(s->l);
}

static void failsafe(struct loop *l, void *arg)
{
	struct seen *s = arg;

	s->timed_out = true;
	loop_stop(l);
}

/* Run the loop until a report holding `until` arrives; fail after 3 s. */
static void await(struct seen *s, const char *until)
{
	uint64_t t;

	s->until = until;
	s->timed_out = false;
	t = loop_add_timer(s->l, 3000, failsafe, s);
	ck_assert_int_eq(loop_run(s->l), 0);
	loop_cancel_timer(s->l, t);
	ck_assert_msg(!s->timed_out, "no report holding '%s' within 3 s (%zu reports, last: '%s')",
		      until, s->n, s->n ? s->what[(s->n - 1) % 8] : "");
}

static struct fw_nft_monitor *monitor(struct seen *s, const char *table)
{
	char err[256] = "";
	struct fw_nft_monitor *m;

	memset(s, 0, sizeof *s);
	s->l = loop_new();
	m = fw_nft_monitor_open(s->l, table, on_lost, s, err, sizeof err);
	ck_assert_msg(m, "monitor: %s", err);
	return m;
}

static void nft_ok(const char *cmd)
{
	int st;
	char *out = run(&st, "%s", cmd);

	ck_assert_msg(st == 0, "%s: %s", cmd, out);
	free(out);
}

START_TEST(monitor_reports_a_ruleset_flush_once)
{
	struct fw_nft *f = open_default("ms_mon");
	struct seen s;
	struct fw_nft_monitor *m = monitor(&s, "ms_mon");

	add(f, "192.0.2.7", 60000);
	add(f, "198.51.100.0/24", 60000);
	ck_assert_int_eq(commit(f), 0);
	nft_ok("nft flush ruleset");
	await(&s, "table inet ms_mon deleted");
	ck_assert_uint_eq(s.n, 1);      /* rules, sets, chain, table: one transaction */
	ck_assert_str_eq(s.what[0], "table inet ms_mon deleted");
	fw_nft_monitor_close(m);
	loop_free(s.l);
	fw_nft_close(f);
}
END_TEST

START_TEST(monitor_ignores_own_changes_and_other_tables)
{
	struct fw_nft *f;
	struct seen s;
	struct fw_nft_monitor *m = monitor(&s, "ms_mine");
	char err[256] = "";

	/* ours: setup, blocks, unblocks, even deleting and making the table */
	f = open_default("ms_mine");
	add(f, "192.0.2.7", 60000);
	add(f, "192.0.2.8", 60000);
	add(f, "2001:db8::8", 60000);
	ck_assert_int_eq(commit(f), 0);
	del(f, "192.0.2.7");
	del(f, "192.0.2.8");
	ck_assert_int_eq(commit(f), 0);
	add(f, "192.0.2.0/24", 60000);  /* replaces narrower blocks */
	ck_assert_int_eq(commit(f), 0);
	ck_assert_msg(fw_nft_destroy(f, "ms_mine", err, sizeof err) == 0, "%s", err);
	fw_nft_close(f);
	f = open_default("ms_mine");
	/* others', but not our table: another name, another family */
	nft_ok("nft add table inet other && nft add set inet other block4 '{ type ipv4_addr; }' && "
	       "nft add element inet other block4 '{ 192.0.2.9 }' && "
	       "nft add chain inet other input '{ type filter hook input priority 0; }' && "
	       "nft add rule inet other input ip saddr @block4 drop && nft flush set inet other block4 && "
	       "nft flush chain inet other input && nft delete table inet other");
	nft_ok("nft add table ip ms_mine && nft add chain ip ms_mine input && "
	       "nft add rule ip ms_mine input drop && nft delete table ip ms_mine");
	nft_ok("nft add table inet ms_mine");    /* exists: no change at all */
	/* the barrier: the first report must be this one */
	nft_ok("nft delete table inet ms_mine");
	await(&s, "deleted");
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.what[0], "table inet ms_mine deleted");
	fw_nft_monitor_close(m);
	loop_free(s.l);
	fw_nft_close(f);
}
END_TEST

START_TEST(monitor_reports_set_flushes_and_single_elements)
{
	struct fw_nft *f = open_default("ms_elem");
	struct seen s;
	struct fw_nft_monitor *m = monitor(&s, "ms_elem");

	add(f, "192.0.2.7", 60000);
	add(f, "192.0.2.8", 0);
	add(f, "198.51.100.0/24", 60000);
	add(f, "2001:db8::7", 60000);
	add(f, "2001:db8:1::/48", 60000);
	ck_assert_int_eq(commit(f), 0);

	nft_ok("nft flush set inet ms_elem block4");
	await(&s, "block4");
	ck_assert_str_eq(s.what[0], "set block4 flushed (3 elements deleted)");
	nft_ok("nft delete element inet ms_elem block6 '{ 2001:db8::7 }'");
	await(&s, "2001:db8::7");
	ck_assert_str_eq(s.what[1], "element 2001:db8::7 deleted from set block6");
	nft_ok("nft delete element inet ms_elem block6 '{ 2001:db8:1::/48 }'");
	await(&s, "2001:db8:1::/48");
	ck_assert_str_eq(s.what[2], "element 2001:db8:1::/48 deleted from set block6");
	ck_assert_uint_eq(s.n, 3);
	fw_nft_monitor_close(m);
	loop_free(s.l);
	fw_nft_close(f);
}
END_TEST

START_TEST(monitor_reports_chain_and_set_deletion_and_rule_changes)
{
	struct fw_nft *f = open_default("ms_chain");
	struct fw_nft_config cfg = { .table = "ms_chain", .ports = { 25 }, .nports = 1 };
	struct seen s;
	struct fw_nft_monitor *m = monitor(&s, "ms_chain");
	char err[256] = "";

	nft_ok("nft delete chain inet ms_chain input");
	await(&s, "chain");
	ck_assert_str_eq(s.what[0], "chain input deleted");

	ck_assert_msg(fw_nft_setup(f, &cfg, err, sizeof err) == 0, "%s", err);   /* ours */
	nft_ok("nft flush chain inet ms_chain input");
	await(&s, "rules");
	ck_assert_str_eq(s.what[1], "rules of chain input changed");

	ck_assert_msg(fw_nft_setup(f, &cfg, err, sizeof err) == 0, "%s", err);
	nft_ok("nft add rule inet ms_chain input counter");
	await(&s, "rules");
	ck_assert_str_eq(s.what[2], "rules of chain input changed");

	ck_assert_msg(fw_nft_setup(f, &cfg, err, sizeof err) == 0, "%s", err);
	nft_ok("nft 'flush chain inet ms_chain input; delete set inet ms_chain block6'");
	await(&s, "set");
	ck_assert_str_eq(s.what[3], "set block6 deleted, rules of chain input changed");
	ck_assert_uint_eq(s.n, 4);
	fw_nft_monitor_close(m);
	loop_free(s.l);
	fw_nft_close(f);
}
END_TEST

/* In a PID namespace the kernel names our process by another pid than
 * getpid(); a child process (another pid) sending through our handle
 * stands for that: only the handle's netlink port shows it is us. */
START_TEST(monitor_knows_own_changes_by_netlink_port)
{
	struct fw_nft *f = open_default("ms_port");
	struct seen s, s2;
	struct fw_nft_monitor *m = monitor(&s, "ms_port"), *m2;
	char err[256] = "";
	pid_t pid;
	int st;

	m2 = fw_nft_monitor_open(s.l, "ms_port", on_lost, &s2, err, sizeof err);
	ck_assert_msg(m2, "%s", err);
	memset(&s2, 0, sizeof s2);
	s2.l = s.l;
	ck_assert_int_eq(fw_nft_monitor_own(m, f), 0);
	ck_assert_int_eq(fw_nft_monitor_own(m, f), 0);          /* again: no change */
	ck_assert_int_eq(fw_nft_monitor_own(m2, f), -1);        /* one monitor per handle */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fw_nft_destroy(f, "ms_port", err, sizeof err) == 0 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fw_nft_close(f);                /* unties it from m */
	f = open_default("ms_port");
	nft_ok("nft delete table inet ms_port");
	await(&s, "deleted");
	ck_assert_uint_eq(s.n, 1);      /* the child's delete was ours */
	/* m2 was not tied to f: it took the child's delete for another's */
	ck_assert_uint_eq(s2.n, 2);
	ck_assert_str_eq(s2.what[0], "table inet ms_port deleted");
	fw_nft_monitor_close(m);
	fw_nft_monitor_close(m2);
	loop_free(s.l);
	fw_nft_close(f);
}
END_TEST

/* A flush of a set too big for the receive buffer is a loss, reported as
 * such; our own commit of as many elements is not, the tied handle drains
 * the monitor between batches. */
START_TEST(monitor_reports_lost_notifications_but_not_own_big_commits)
{
	struct fw_nft *f = open_default("ms_lost");
	struct seen s;
	struct fw_nft_monitor *m = monitor(&s, "ms_lost");
	struct cidr c;

	ck_assert_int_eq(fw_nft_monitor_own(m, f), 0);
	memset(&c, 0, sizeof c);
	c.addr.family = AF_INET;
	c.len = 32;
	for (uint32_t i = 0; i < 200000; i++) {
		uint32_t a = htonl(0x0a000000u + i * 2);

		memcpy(c.addr.b, &a, 4);
		fw_nft_queue_add(f, &c, 600000);
	}
	ck_assert_int_eq(commit(f), 0);
	nft_ok("nft flush set inet ms_lost block4");
	await(&s, "");
	ck_assert_str_eq(s.what[0], "notifications lost");
	fw_nft_monitor_close(m);
	loop_free(s.l);
	fw_nft_close(f);
}
END_TEST

/* Each test starts from an empty ruleset, so that one test's blocks do not
 * drop another's packets. This is the test's own network namespace. */
static void empty_ruleset(void)
{
	if (system("nft flush ruleset") != 0)
		ck_abort_msg("nft flush ruleset failed");
}

int main(void)
{
	Suite *s = suite_create("fw_nft");
	TCase *tc = tcase_create("fw_nft");
	const char *ci = getenv("CI");
	bool strict = ci && strcmp(ci, "true") == 0;
	SRunner *sr;
	int nf, st;

	/* Everything below happens in a private network namespace. */
	if (unshare(CLONE_NEWNET) < 0) {
		if (errno == EPERM && !strict) {
			fprintf(stderr, "test_fw_nft: skipped: cannot create a network namespace "
				"(needs root / CAP_SYS_ADMIN): %s\n", strerror(errno));
			return 77;
		}
		fprintf(stderr, "test_fw_nft: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	st = system("nft list ruleset >/dev/null 2>&1");
	if (st != 0) {
		fprintf(stderr, "test_fw_nft: %s: the nft program (package nftables) is needed to "
			"read results\n", strict ? "failed" : "skipped");
		return strict ? EXIT_FAILURE : 77;
	}
	log_init("test_fw_nft", getenv("MS_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN);

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, empty_ruleset, NULL);
	tcase_add_test(tc, widest_prefix_is_the_one_a_search_finds);
	tcase_add_test(tc, setup_creates_table_sets_and_chain);
	tcase_add_test(tc, second_setup_keeps_elements_and_does_not_duplicate_rules);
	tcase_add_test(tc, setup_adopts_existing_sets_and_refuses_wrong_ones);
	tcase_add_test(tc, added_address_appears_with_timeout);
	tcase_add_test(tc, cidr_ranges_appear_as_ranges);
	tcase_add_test(tc, readding_an_element_extends_its_expiry);
	tcase_add_test(tc, address_inside_blocked_range_is_covered_not_refused);
	tcase_add_test(tc, wider_range_replaces_narrower_blocks);
	tcase_add_test(tc, bad_element_is_reported_and_others_still_apply);
	tcase_add_test(tc, permanent_element_has_no_timeout);
	tcase_add_test(tc, delete_removes_block_and_keeps_ranges_whole);
	tcase_add_test(tc, ports_change_with_second_setup);
	tcase_add_test(tc, destroy_removes_the_table);
	tcase_add_test(tc, commit_sends_a_big_batch);
	tcase_add_test(tc, blocked_source_cannot_connect_others_can);
	tcase_add_test(tc, list_gives_back_addresses_and_ranges_with_their_timeouts);
	tcase_add_test(tc, list_splits_a_range_that_is_no_prefix);
	tcase_add_test(tc, list_of_a_missing_table_fails_clearly);
	tcase_add_test(tc, list_counts_the_packets_each_block_dropped);
	tcase_add_test(tc, monitor_reports_a_ruleset_flush_once);
	tcase_add_test(tc, monitor_ignores_own_changes_and_other_tables);
	tcase_add_test(tc, monitor_reports_set_flushes_and_single_elements);
	tcase_add_test(tc, monitor_reports_chain_and_set_deletion_and_rule_changes);
	tcase_add_test(tc, monitor_knows_own_changes_by_netlink_port);
	tcase_add_test(tc, monitor_reports_lost_notifications_but_not_own_big_commits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
