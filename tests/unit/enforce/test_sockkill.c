// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for sockkill.c against the real kernel, inside a private
 * network namespace entered at the top of main(): only the namespace's own
 * sockets exist there, all of them made by this test on lo (127.0.0.1 as
 * the server, 127.0.0.2-4 and 2001:db8::5 as clients). Every test uses its
 * own ports, so that sockets closing after one test never count in
 * another. On a kernel without CONFIG_INET_DIAG_DESTROY the tests check
 * the error message instead (and that nothing was touched). Exits 77
 * (skip) when namespaces are not allowed, unless CI=true.
 */
#include "log.h"
#include "sockkill.h"
#include "unit.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/socket.h>

#define NOT_SUPPORTED "the kernel does not allow destroying sockets (CONFIG_INET_DIAG_DESTROY)"

struct conn {
	int cli, srv;                   /* client side, server side (accepted) */
};

static void sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		*len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		*len = sizeof *s4;
	}
}

/* A listener on addr:port; dual_stack: an IPv6 socket that also takes
 * IPv4 clients (as ::ffff:a.b.c.d). */
static int listener(const char *addr, uint16_t port, bool dual_stack)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, v6only = dual_stack ? 0 : 1;

	sockaddr_of(addr, port, &ss, &len);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	if (ss.ss_family == AF_INET6)
		ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only), 0);
	ck_assert_msg(bind(fd, (struct sockaddr *)&ss, len) == 0, "bind %s:%u: %s", addr, port,
		      strerror(errno));
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/* An established connection from src to dst:port, accepted on lfd. */
static struct conn connect_from(const char *src, const char *dst, uint16_t port, int lfd)
{
	struct sockaddr_storage s, d;
	socklen_t sl, dl;
	struct conn c;

	sockaddr_of(src, 0, &s, &sl);
	sockaddr_of(dst, port, &d, &dl);
	c.cli = socket(s.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(c.cli, 0);
	ck_assert_msg(bind(c.cli, (struct sockaddr *)&s, sl) == 0, "bind %s: %s", src,
		      strerror(errno));
	ck_assert_msg(connect(c.cli, (struct sockaddr *)&d, dl) == 0, "connect %s -> %s:%u: %s",
		      src, dst, port, strerror(errno));
	c.srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(c.srv, 0);
	return c;
}

/* One byte from fd within two seconds: 1 if it came, 0 on EOF, -errno. */
static int read_one(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char ch;
	ssize_t n;

	ck_assert_msg(poll(&p, 1, 2000) == 1, "nothing to read on fd %d within 2 s", fd);
	n = read(fd, &ch, 1);
	if (n < 0)
		return -errno;
	return n == 1 ? 1 : 0;
}

static void assert_alive(const struct conn *c)
{
	ck_assert_int_eq(write(c->cli, "q", 1), 1);
	ck_assert_int_eq(read_one(c->srv), 1);
	ck_assert_int_eq(write(c->srv, "a", 1), 1);
	ck_assert_int_eq(read_one(c->cli), 1);
}

/* The server side was aborted (ECONNABORTED); the client got a reset or,
 * at least, an end of file. */
static void assert_killed(const struct conn *c)
{
	int r = read_one(c->srv);

	ck_assert_msg(r == -ECONNABORTED || r == -ECONNRESET || r == 0,
		      "server side still alive: %d", r);
	r = read_one(c->cli);
	ck_assert_msg(r == -ECONNRESET || r == -ECONNABORTED || r == 0,
		      "client side still alive: %d", r);
}

static void conn_close(struct conn *c)
{
	close(c->cli);
	close(c->srv);
}

/* sockkill on a range given as text. false: this kernel cannot destroy
 * sockets, and said so clearly (the caller then checks nothing changed). */
static bool kill_range(const char *range, const uint16_t *ports, size_t nports, unsigned *killed)
{
	struct cidr c;
	struct sockkill_result res;
	char err[256] = "";
	int r;

	ck_assert_msg(cidr_parse(range, &c, err, sizeof err) == 0, "%s", err);
	*killed = 12345;
	r = sockkill(&c, 1, ports, nports, NULL, &res, err, sizeof err);
	*killed = res.killed;
	if (r < 0 && strstr(err, "CONFIG_INET_DIAG_DESTROY")) {
		ck_assert_str_eq(err, NOT_SUPPORTED);
		ck_assert_uint_eq(*killed, 0);
		fprintf(stderr, "test_sockkill: this kernel cannot destroy sockets: checked "
			"the error message instead\n");
		return false;
	}
	ck_assert_msg(r == 0, "sockkill %s: %d: %s", range, r, err);
	return true;
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(attacker_sessions_on_the_port_are_destroyed_others_kept_ipv4)
{
	const uint16_t smtp[] = { 25 };
	int l25 = listener("127.0.0.1", 25, false), l2525 = listener("127.0.0.1", 2525, false);
	struct conn a1 = connect_from("127.0.0.2", "127.0.0.1", 25, l25);
	struct conn a2 = connect_from("127.0.0.2", "127.0.0.1", 25, l25);
	struct conn other = connect_from("127.0.0.3", "127.0.0.1", 25, l25);
	struct conn elsewhere = connect_from("127.0.0.2", "127.0.0.1", 2525, l2525);
	struct conn again;
	unsigned killed;

	if (kill_range("127.0.0.2", smtp, 1, &killed)) {
		/* the two server-side sockets; the clients' own sockets have
		 * 127.0.0.1 as their remote address, so they only get the reset */
		ck_assert_uint_eq(killed, 2);
		assert_killed(&a1);
		assert_killed(&a2);
	} else {
		assert_alive(&a1);
		assert_alive(&a2);
	}
	assert_alive(&other);
	assert_alive(&elsewhere);
	/* the listener is untouched: the attacker can still connect (the
	 * firewall, not sockkill, stops that) */
	again = connect_from("127.0.0.2", "127.0.0.1", 25, l25);
	assert_alive(&again);
	if (kill_range("127.0.0.2", smtp, 1, &killed)) {
		ck_assert_uint_eq(killed, 1);
		assert_killed(&again);
	}
	conn_close(&a1);
	conn_close(&a2);
	conn_close(&other);
	conn_close(&elsewhere);
	conn_close(&again);
	close(l25);
	close(l2525);
}
END_TEST

START_TEST(attacker_sessions_on_the_port_are_destroyed_others_kept_ipv6)
{
	const uint16_t smtp[] = { 25 };
	int l25 = listener("::", 25, false), l2525 = listener("::", 2525, false);
	struct conn a1 = connect_from("2001:db8::5", "::1", 25, l25);
	struct conn a2 = connect_from("2001:db8::5", "::1", 25, l25);
	struct conn other = connect_from("::1", "::1", 25, l25);
	struct conn elsewhere = connect_from("2001:db8::5", "::1", 2525, l2525);
	unsigned killed;

	if (kill_range("2001:db8::5", smtp, 1, &killed)) {
		ck_assert_uint_eq(killed, 2);
		assert_killed(&a1);
		assert_killed(&a2);
		assert_alive(&other);
		assert_alive(&elsewhere);
		/* a /64 around the attacker, any port: the 2525 session too,
		 * and nothing from ::1 */
		ck_assert(kill_range("2001:db8::/64", NULL, 0, &killed));
		ck_assert_uint_eq(killed, 1);
		assert_killed(&elsewhere);
		assert_alive(&other);
	} else {
		assert_alive(&a1);
		assert_alive(&other);
	}
	conn_close(&a1);
	conn_close(&a2);
	conn_close(&other);
	conn_close(&elsewhere);
	close(l25);
	close(l2525);
}
END_TEST

START_TEST(ipv4_clients_of_a_dual_stack_socket_are_matched)
{
	const uint16_t sub[] = { 587 };
	int l = listener("::", 587, true);
	struct conn a = connect_from("127.0.0.2", "127.0.0.1", 587, l);
	struct conn other = connect_from("127.0.0.3", "127.0.0.1", 587, l);
	struct conn v6 = connect_from("::1", "::1", 587, l);
	unsigned killed;

	if (kill_range("127.0.0.2/32", sub, 1, &killed)) {
		ck_assert_uint_eq(killed, 1);
		assert_killed(&a);
	}
	assert_alive(&other);
	assert_alive(&v6);
	conn_close(&a);
	conn_close(&other);
	conn_close(&v6);
	close(l);
}
END_TEST

START_TEST(no_ports_means_any_local_port)
{
	int l110 = listener("127.0.0.1", 110, false), l143 = listener("127.0.0.1", 143, false);
	struct conn a = connect_from("127.0.0.4", "127.0.0.1", 110, l110);
	struct conn b = connect_from("127.0.0.4", "127.0.0.1", 143, l143);
	struct conn other = connect_from("127.0.0.3", "127.0.0.1", 143, l143);
	unsigned killed;

	if (kill_range("127.0.0.4", NULL, 0, &killed)) {
		ck_assert_uint_eq(killed, 2);
		assert_killed(&a);
		assert_killed(&b);
	}
	assert_alive(&other);
	conn_close(&a);
	conn_close(&b);
	conn_close(&other);
	close(l110);
	close(l143);
}
END_TEST

START_TEST(listeners_survive_even_the_widest_range)
{
	const uint16_t imaps[] = { 993 };
	int l = listener("127.0.0.1", 993, false);
	struct conn a = connect_from("127.0.0.2", "127.0.0.1", 993, l);
	struct conn b = connect_from("127.0.0.3", "127.0.0.1", 993, l);
	struct conn after;
	unsigned killed;

	if (kill_range("0.0.0.0/0", imaps, 1, &killed)) {
		ck_assert_uint_eq(killed, 2);
		assert_killed(&a);
		assert_killed(&b);
	}
	after = connect_from("127.0.0.3", "127.0.0.1", 993, l);
	assert_alive(&after);
	conn_close(&a);
	conn_close(&b);
	conn_close(&after);
	close(l);
}
END_TEST

START_TEST(nothing_to_kill_is_not_an_error)
{
	const uint16_t smtp[] = { 25 };
	unsigned killed;

	if (kill_range("192.0.2.0/24", smtp, 1, &killed))
		ck_assert_uint_eq(killed, 0);
	if (kill_range("2001:db8:ffff::/48", NULL, 0, &killed))
		ck_assert_uint_eq(killed, 0);
}
END_TEST

/* The ranges of one call as text: "127.0.0.2 2001:db8::/64 ...". */
static size_t parse_ranges(const char *text, struct cidr *out, size_t max)
{
	char buf[512], *save = NULL, err[256] = "";
	size_t n = 0;

	snprintf(buf, sizeof buf, "%s", text);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		ck_assert(n < max);
		ck_assert_msg(cidr_parse(w, &out[n++], err, sizeof err) == 0, "%s", err);
	}
	return n;
}

START_TEST(several_ranges_of_both_families_are_closed_with_one_scan)
{
	const uint16_t smtp[] = { 26, 465 };
	int l4 = listener("127.0.0.1", 26, false), l6 = listener("::", 26, false);
	/* a host and a prefix of each family */
	struct conn h4 = connect_from("127.0.0.2", "127.0.0.1", 26, l4);
	struct conn p4a = connect_from("127.0.1.7", "127.0.0.1", 26, l4);
	struct conn p4b = connect_from("127.0.1.8", "127.0.0.1", 26, l4);
	struct conn h6 = connect_from("2001:db8::5", "::1", 26, l6);
	struct conn p6 = connect_from("2001:db8:1::7", "::1", 26, l6);
	/* bystanders: beside each range */
	struct conn b4 = connect_from("127.0.0.3", "127.0.0.1", 26, l4);
	struct conn b4n = connect_from("127.0.2.7", "127.0.0.1", 26, l4);
	struct conn b6 = connect_from("::1", "::1", 26, l6);
	struct conn b6n = connect_from("2001:db8:2::7", "::1", 26, l6);
	struct cidr t[4];
	unsigned per[4];
	struct sockkill_result res;
	char err[256] = "";
	size_t n = parse_ranges("127.0.0.2 127.0.1.0/24 2001:db8::5 2001:db8:1::/48", t, 4);
	int r = sockkill(t, n, smtp, 2, per, &res, err, sizeof err);

	if (r < 0 && strstr(err, "CONFIG_INET_DIAG_DESTROY")) {
		assert_alive(&h4);
		assert_alive(&h6);
	} else {
		ck_assert_msg(r == 0, "sockkill: %d: %s", r, err);
		ck_assert_uint_eq(res.dumps, 1);
		/* the kernel filtered: it sent the five sockets, nothing else */
		ck_assert(res.kernel_filtered);
		ck_assert_uint_eq(res.seen, 5);
		ck_assert_uint_eq(res.killed, 5);
		ck_assert_uint_eq(per[0], 1);
		ck_assert_uint_eq(per[1], 2);
		ck_assert_uint_eq(per[2], 1);
		ck_assert_uint_eq(per[3], 1);
		assert_killed(&h4);
		assert_killed(&p4a);
		assert_killed(&p4b);
		assert_killed(&h6);
		assert_killed(&p6);
	}
	assert_alive(&b4);
	assert_alive(&b4n);
	assert_alive(&b6);
	assert_alive(&b6n);
	conn_close(&h4);
	conn_close(&p4a);
	conn_close(&p4b);
	conn_close(&h6);
	conn_close(&p6);
	conn_close(&b4);
	conn_close(&b4n);
	conn_close(&b6);
	conn_close(&b6n);
	close(l4);
	close(l6);
}
END_TEST

/* n ranges of 2001:db8:ff00::/40 none of which holds a client, then the
 * ranges given: as many as a turn of a busy server might block */
static size_t many_ranges(struct cidr *t, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++) {
		char a[64], err[256] = "";

		snprintf(a, sizeof a, "2001:db8:ff%02zx:%zx::/64", i >> 8 & 0xff, i & 0xff);
		ck_assert_msg(cidr_parse(a, &t[i], err, sizeof err) == 0, "%s: %s", a, err);
	}
	return n + parse_ranges(extra, t + n, 8);
}

/* The longest filter the kernel is sent (SOCKKILL_FILTER_MAX IPv6 ranges,
 * 64 ports) passes its audit; one range more, and the ranges are matched
 * here instead; either way exactly the right sockets go. */
static void many(size_t filler, bool in_kernel, uint16_t port)
{
	uint16_t ports[64];
	int l = listener("127.0.0.1", port, false), l6 = listener("::", port, false);
	struct conn a = connect_from("127.0.0.5", "127.0.0.1", port, l);
	struct conn a6 = connect_from("2001:db8:1::9", "::1", port, l6);
	struct conn other = connect_from("127.0.0.6", "127.0.0.1", port, l);
	struct conn other6 = connect_from("2001:db8:2::9", "::1", port, l6);
	struct cidr *t = xcalloc(filler + 8, sizeof *t);
	unsigned *per = xcalloc(filler + 8, sizeof *per);
	struct sockkill_result res;
	char err[256] = "";
	size_t n;
	int r;

	for (size_t i = 0; i < 64; i++)
		ports[i] = (uint16_t)(i < 63 ? 30000 + i : port);
	n = many_ranges(t, filler, "127.0.0.5 2001:db8:1::9");
	r = sockkill(t, n, ports, 64, per, &res, err, sizeof err);
	if (r < 0 && strstr(err, "CONFIG_INET_DIAG_DESTROY")) {
		assert_alive(&a);
	} else {
		ck_assert_msg(r == 0, "sockkill of %zu ranges: %d: %s", n, r, err);
		ck_assert_uint_eq(res.dumps, 1);
		ck_assert(res.kernel_filtered == in_kernel);
		/* in the kernel: the two sockets; else every socket on the ports */
		ck_assert_uint_eq(res.seen, in_kernel ? 2 : 4);
		ck_assert_uint_eq(res.killed, 2);
		ck_assert_uint_eq(per[n - 2], 1);
		ck_assert_uint_eq(per[n - 1], 1);
		assert_killed(&a);
		assert_killed(&a6);
	}
	assert_alive(&other);
	assert_alive(&other6);
	free(t);
	free(per);
	conn_close(&a);
	conn_close(&a6);
	conn_close(&other);
	conn_close(&other6);
	close(l);
	close(l6);
}

START_TEST(the_longest_kernel_filter_is_accepted)
{
	many(SOCKKILL_FILTER_MAX - 2, true, 27);
}
END_TEST

START_TEST(beyond_the_filter_bound_ranges_are_matched_here)
{
	many(3000, false, 28);
}
END_TEST

START_TEST(no_ranges_ask_nothing)
{
	struct sockkill_result res;
	char err[64] = "";

	ck_assert_int_eq(sockkill(NULL, 0, NULL, 0, NULL, &res, err, sizeof err), 0);
	ck_assert_uint_eq(res.dumps, 0);
	ck_assert_uint_eq(res.killed, 0);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("sockkill");
	const char *ci = getenv("CI");
	bool strict = ci && strcmp(ci, "true") == 0;

	/* Everything below happens in a private network namespace. */
	if (unshare(CLONE_NEWNET) < 0) {
		if (errno == EPERM && !strict) {
			fprintf(stderr, "test_sockkill: skipped: cannot create a network namespace "
				"(needs root / CAP_SYS_ADMIN): %s\n", strerror(errno));
			return 77;
		}
		fprintf(stderr, "test_sockkill: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	if (system("ip link set lo up && for a in 2001:db8::5 2001:db8:1::7 2001:db8:2::7 2001:db8:1::9 "
		   "2001:db8:2::9; do ip addr add $a/128 dev lo nodad || exit 1; done") != 0) {
		fprintf(stderr, "test_sockkill: %s: cannot set up lo with the ip program "
			"(package iproute2)\n", strict ? "failed" : "skipped");
		return strict ? EXIT_FAILURE : 77;
	}
	log_init("test_sockkill", LOG_LVL_WARN);

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, attacker_sessions_on_the_port_are_destroyed_others_kept_ipv4);
	tcase_add_test(tc, attacker_sessions_on_the_port_are_destroyed_others_kept_ipv6);
	tcase_add_test(tc, ipv4_clients_of_a_dual_stack_socket_are_matched);
	tcase_add_test(tc, no_ports_means_any_local_port);
	tcase_add_test(tc, listeners_survive_even_the_widest_range);
	tcase_add_test(tc, nothing_to_kill_is_not_an_error);
	tcase_add_test(tc, several_ranges_of_both_families_are_closed_with_one_scan);
	tcase_add_test(tc, the_longest_kernel_filter_is_accepted);
	tcase_add_test(tc, beyond_the_filter_bound_ranges_are_matched_here);
	tcase_add_test(tc, no_ranges_ask_nothing);
	return ut_run("sockkill", tc);
}
