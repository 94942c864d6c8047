// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fw_nft - the daemon's nftables table, spoken to over netlink with
 * libnftnl + libmnl (see fw_nft.h for the contract): the handle, the
 * sending of its batches, and setting the table up and tearing it down.
 * Queuing and committing changes is fw_nft_commit.c, reading the sets back
 * fw_nft_list.c, the change monitor fw_nft_monitor.c; what they share is
 * in fw_nft_int.h.
 *
 * Owns: one NETLINK_NETFILTER socket, the table "inet <name>" with its sets
 * block4/block6 and allow4/allow6, the base chain "input" and its two
 * rules (plus the anonymous port sets those rules use).
 *
 * Must never: run the nft program, touch any other table, or delete or
 * recreate the table outside fw_nft_destroy() (that would drop every
 * block).
 *
 * How replies are read: every message in a batch carries NLM_F_ACK and
 * its own sequence number. The kernel processes a whole batch even after
 * an error and answers each message, then aborts the batch if any failed;
 * fw_nft_batch_send() collects one answer per message. Replies are capped
 * (NETLINK_CAP_ACK) and carry the kernel's extended ack text
 * (NETLINK_EXT_ACK) when there is one.
 */
#include "fw_nft_int.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#define CHAIN_PRIO      (-10)           /* "filter - 10" */
#define ARPHRD_LOOPBACK_ 772            /* <linux/if_arp.h> ARPHRD_LOOPBACK */

/* nftables' datatype ids (nftables include/datatype.h), stored in the set
 * so that `nft list` prints keys as addresses and ports. */
#define TYPE_IPADDR        7
#define TYPE_IP6ADDR       8
#define TYPE_INET_SERVICE 13

#define REPLY_WAIT_MS   5000

/* ---- talking ----------------------------------------------------------- */

static int grow_sockbuf(struct fw_nft *f, int opt, int optforce, int *cur, size_t want)
{
	int fd = mnl_socket_get_fd(f->nl);
	int v;

	if (want > INT_MAX / 2)
		want = INT_MAX / 2;
	v = (int)want;
	if (v <= *cur)
		return 0;
	/* FORCE needs CAP_NET_ADMIN, which we need for nftables anyway;
	 * the plain option is capped by net.core.[rw]mem_max. */
	if (setsockopt(fd, SOL_SOCKET, optforce, &v, sizeof v) < 0 &&
	    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) < 0)
		return -1;
	*cur = v;
	return 0;
}

static char *extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off = sizeof *e;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + off >= nlh->nlmsg_len)
		return NULL;
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			return xstrdup(mnl_attr_get_str(a));
	}
	return NULL;
}

void fw_nft_replies_release(struct reply *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].ext);
		r[i].ext = NULL;
	}
}

/* Send the batch in f->buf, whose nmsg messages carry the sequence numbers
 * first..first+nmsg-1, and collect one reply per message in r[]. Returns -1
 * (message in err) if the batch was not sent, refused as a whole, or its
 * replies were lost; r[] then holds nothing to release. */
int fw_nft_batch_send(struct fw_nft *f, uint32_t first, size_t nmsg, struct reply *r,
		      char *err, size_t errlen)
{
	int fd = mnl_socket_get_fd(f->nl);
	uint32_t begin = first - 1, end = first + (uint32_t)nmsg;
	size_t got = 0;
	ssize_t n;
	int left;

	memset(r, 0, nmsg * sizeof *r);
	drain(f);
	if (grow_sockbuf(f, SO_SNDBUF, SO_SNDBUFFORCE, &f->sndbuf, f->len + 4096) < 0 ||
	    grow_sockbuf(f, SO_RCVBUF, SO_RCVBUFFORCE, &f->rcvbuf, nmsg * 1024 + 262144) < 0)
		log_warn("netlink: cannot raise socket buffers for a batch of %zu messages", nmsg);
	n = mnl_socket_sendto(f->nl, f->buf, f->len);
	if (n < 0)
		return errf(err, errlen, "netlink: cannot send batch of %zu bytes: %s", f->len,
			    strerror(errno));
	if ((size_t)n != f->len)
		return errf(err, errlen, "netlink: short send (%zd of %zu bytes)", n, f->len);

	/* The kernel handles a batch inside sendmsg(), so every reply is
	 * already queued; the poll timeout only guards against a bug. */
	while (got < nmsg) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		const struct nlmsghdr *nlh;
		int pr = poll(&p, 1, REPLY_WAIT_MS);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			fw_nft_replies_release(r, nmsg);
			return errf(err, errlen, "netlink: %zu of %zu replies missing", nmsg - got, nmsg);
		}
		n = recv(fd, f->rx, RX_SIZE, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			int e = errno;

			fw_nft_replies_release(r, nmsg);
			if (e == ENOBUFS)
				return errf(err, errlen, "netlink: replies lost (receive buffer overrun)");
			return errf(err, errlen, "netlink: receive: %s", strerror(e));
		}
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)f->rx; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;
			uint32_t seq = nlh->nlmsg_seq;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof *e)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (seq - first < nmsg) {      /* unsigned: survives wrap-around */
				struct reply *x = &r[seq - first];

				if (x->got)
					continue;
				x->got = true;
				x->error = -e->error;
				if (e->error)
					x->ext = extack_msg(nlh);
				got++;
			} else if ((seq == begin || seq == end) && e->error) {
				char *ext = extack_msg(nlh);

				errf(err, errlen, "netlink: batch refused: %s%s%s%s", strerror(-e->error),
				     ext ? " (" : "", ext ? ext : "", ext ? ")" : "");
				free(ext);
				fw_nft_replies_release(r, nmsg);
				return -1;
			}
			/* anything else answers an older request: ignore */
		}
	}
	return 0;
}

/* ---- open / close ------------------------------------------------------ */

struct fw_nft *fw_nft_open(char *err, size_t errlen)
{
	struct fw_nft *f;
	struct mnl_socket *nl;
	int one = 1;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		errf(err, errlen, "cannot open netfilter netlink socket: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		errf(err, errlen, "cannot bind netfilter netlink socket: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	/* Without these, replies would be larger (a copy of each message)
	 * and carry no explanation; neither is fatal. */
	if (mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one) < 0)
		log_debug("netlink: NETLINK_CAP_ACK: %s", strerror(errno));
	if (mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one) < 0)
		log_debug("netlink: NETLINK_EXT_ACK: %s", strerror(errno));

	f = xcalloc(1, sizeof *f);
	f->nl = nl;
	f->portid = mnl_socket_get_portid(nl);
	f->seq = (uint32_t)time(NULL);
	f->rx = xmalloc(RX_SIZE);
	return f;
}

void fw_nft_close(struct fw_nft *f)
{
	if (!f)
		return;
	if (f->mon) {
		/* what f sent is known as ours only while f is */
		fw_nft_mon_drain(f->mon);
		fw_nft_mon_forget(f->mon, f);
	}
	mnl_socket_close(f->nl);
	free(f->table);
	free(f->q);
	free(f->buf);
	free(f->rx);
	free(f);
}

/* ---- setup ------------------------------------------------------------- */

struct set_query {
	bool found;
	uint32_t flags, key_len;
};

static int set_query_cb(const struct nlmsghdr *nlh, void *data)
{
	struct set_query *q = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		fatalx("out of memory");
	if (nftnl_set_nlmsg_parse(nlh, s) == 0) {
		q->found = true;
		q->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
		q->key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* 1 if set `name` exists with the shape we need, 0 if it (or the table)
 * does not exist, -1 if it cannot be asked or has the wrong shape. */
static int set_exists(struct fw_nft *f, const char *table, const char *name, uint32_t key_len,
		      char *err, size_t errlen)
{
	const uint32_t need = NFT_SET_TIMEOUT | NFT_SET_INTERVAL;
	struct set_query q = { 0 };
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint32_t seq;
	ssize_t n;
	int ret;

	drain(f);
	f->len = 0;
	seq = f->seq;
	nlh = msg_hdr(f, NFT_MSG_GETSET, 0);
	s = nftnl_set_alloc();
	if (!s)
		fatalx("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	put_done(f, nlh);
	if (mnl_socket_sendto(f->nl, f->buf, f->len) < 0)
		return errf(err, errlen, "netlink: cannot ask for set '%s': %s", name, strerror(errno));
	do {
		n = mnl_socket_recvfrom(f->nl, f->rx, RX_SIZE);
		if (n < 0)
			return errf(err, errlen, "netlink: receive: %s", strerror(errno));
		ret = mnl_cb_run(f->rx, (size_t)n, seq, f->portid, set_query_cb, &q);
	} while (ret > 0);
	if (ret < 0) {
		if (errno == ENOENT)
			return 0;
		return errf(err, errlen, "cannot look up set '%s' in table inet %s: %s", name, table,
			    strerror(errno));
	}
	if (!q.found)
		return 0;
	if ((q.flags & need) != need || q.key_len != key_len)
		return errf(err, errlen, "set '%s' in table inet %s lacks the timeout/interval flags "
			    "or has the wrong key type (remove the table and set up again)", name, table);
	return 1;
}

static struct nftnl_expr *expr_new(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		fatalx("out of memory (nftables expression '%s')", name);
	return e;
}

static void rule_meta_cmp(struct nftnl_rule *r, uint32_t key, const void *val, uint32_t len)
{
	struct nftnl_expr *e = expr_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	e = expr_new("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, val, len);
	nftnl_rule_add_expr(r, e);
}

static void rule_meta_eq(struct nftnl_rule *r, uint32_t key, uint8_t val)
{
	rule_meta_cmp(r, key, &val, sizeof val);
}

static void rule_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = expr_new("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_rule *rule_new(const struct fw_nft_config *cfg)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		fatalx("out of memory");
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, cfg->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, CHAIN_NAME);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static void rule_send(struct fw_nft *f, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = msg_hdr(f, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	put_done(f, nlh);
	nftnl_rule_free(r);
}

static void rule_payload_lookup(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
				const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = expr_new("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	e = expr_new("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (set_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	nftnl_rule_add_expr(r, e);
}

/* Before any drop: "meta iiftype loopback accept" (the host talking to
 * itself, whatever address it uses), and "ip saddr @allow4 accept" /
 * "ip6 saddr @allow6 accept" (the allow list, kept in step by the
 * daemon). So no block, however wide, can cut those off. */
static void put_accept_rules(struct fw_nft *f, const struct fw_nft_config *cfg)
{
	uint16_t lo = ARPHRD_LOOPBACK_;
	struct nftnl_rule *r = rule_new(cfg);

	rule_meta_cmp(r, NFT_META_IIFTYPE, &lo, sizeof lo);
	rule_verdict(r, NF_ACCEPT);
	rule_send(f, r);
	for (int v6 = 0; v6 <= 1; v6++) {
		r = rule_new(cfg);
		rule_meta_eq(r, NFT_META_NFPROTO, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		if (v6)
			rule_payload_lookup(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, ALLOW6_NAME, 0);
		else
			rule_payload_lookup(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, ALLOW4_NAME, 0);
		rule_verdict(r, NF_ACCEPT);
		rule_send(f, r);
	}
}

/* An anonymous constant set of TCP ports, created in this batch for one
 * rule; the kernel names it (__setN) and deletes it with the rule. */
static uint32_t put_port_set(struct fw_nft *f, const char *table, const uint16_t *ports, size_t n)
{
	uint32_t id = ++f->set_id;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		fatalx("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "__set%d");
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint16_t));
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nlh = msg_hdr(f, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	put_done(f, nlh);

	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint16_t be = htons(ports[i]);

		if (!e)
			fatalx("out of memory");
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &be, sizeof be);
		nftnl_set_elem_add(s, e);
	}
	nlh = msg_hdr(f, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	put_done(f, nlh);
	nftnl_set_free(s);
	return id;
}

static void put_rule(struct fw_nft *f, const struct fw_nft_config *cfg, const uint16_t *ports,
		     size_t nports, bool v6)
{
	struct nftnl_rule *r;
	uint32_t port_set = 0;

	if (!cfg->all_ports)
		port_set = put_port_set(f, cfg->table, ports, nports);
	r = rule_new(cfg);
	/* meta nfproto ipv4|ipv6 */
	rule_meta_eq(r, NFT_META_NFPROTO, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	/* meta l4proto tcp th dport { ports } */
	if (!cfg->all_ports) {
		rule_meta_eq(r, NFT_META_L4PROTO, IPPROTO_TCP);
		rule_payload_lookup(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, "__set%d", port_set);
	}
	/* ip saddr @block4 | ip6 saddr @block6 */
	if (v6)
		rule_payload_lookup(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, SET6_NAME, 0);
	else
		rule_payload_lookup(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, SET4_NAME, 0);
	nftnl_rule_add_expr(r, expr_new("counter"));
	rule_verdict(r, NF_DROP);
	rule_send(f, r);
}

static void put_block_set(struct fw_nft *f, const char *table, const char *name, bool v6,
			  bool counters)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		fatalx("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_INTERVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v6 ? TYPE_IP6ADDR : TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? 16 : 4);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++f->set_id);
	/* Per-element packet/byte counters: every element gets a copy of
	 * the set's expressions when it is added. */
	if (counters)
		nftnl_set_add_expr(s, expr_new("counter"));
	nlh = msg_hdr(f, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	put_done(f, nlh);
	nftnl_set_free(s);
}

static size_t sorted_ports(const struct fw_nft_config *cfg, uint16_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nports && i < sizeof cfg->ports / sizeof cfg->ports[0]; i++) {
		size_t j = n;

		if (cfg->ports[i] == 0)
			continue;
		while (j > 0 && out[j - 1] > cfg->ports[i])
			j--;
		if (j > 0 && out[j - 1] == cfg->ports[i])
			continue;
		memmove(out + j + 1, out + j, (n - j) * sizeof *out);
		out[j] = cfg->ports[i];
		n++;
	}
	return n;
}

#define SETUP_MSGS_MAX 20

int fw_nft_setup(struct fw_nft *f, const struct fw_nft_config *cfg, char *err, size_t errlen)
{
	uint16_t ports[sizeof cfg->ports / sizeof cfg->ports[0]];
	const char *what[SETUP_MSGS_MAX];
	struct reply r[SETUP_MSGS_MAX];
	size_t nports = 0, nmsg;
	int have4, have6, havea4, havea6;

	if (!cfg->table || !*cfg->table || strlen(cfg->table) >= NFT_NAME_MAXLEN)
		return errf(err, errlen, "invalid nftables table name '%s'",
			    cfg->table ? cfg->table : "");
	if (!cfg->all_ports) {
		nports = sorted_ports(cfg, ports);
		if (nports == 0)
			return errf(err, errlen, "no ports to protect (give ports, or 'all')");
	}
	have4 = set_exists(f, cfg->table, SET4_NAME, 4, err, errlen);
	if (have4 < 0)
		return -1;
	have6 = set_exists(f, cfg->table, SET6_NAME, 16, err, errlen);
	if (have6 < 0)
		return -1;
	/* a table made by an older version has no allow sets yet */
	if ((havea4 = set_exists(f, cfg->table, ALLOW4_NAME, 4, err, errlen)) < 0 ||
	    (havea6 = set_exists(f, cfg->table, ALLOW6_NAME, 16, err, errlen)) < 0)
		return -1;

	/* First try with per-element counters; a kernel that refuses set
	 * expressions gets plain sets. Existing sets are never re-sent:
	 * NEWSET for an existing set with other properties fails. */
	for (int counters = 1; counters >= 0; counters--) {
		struct nftnl_table *t = nftnl_table_alloc();
		struct nftnl_chain *c = nftnl_chain_alloc();
		struct nftnl_rule *flush = nftnl_rule_alloc();
		struct nlmsghdr *nlh;
		uint32_t first = batch_begin(f), seq;
		size_t bad = SIZE_MAX;

		if (!t || !c || !flush)
			fatalx("out of memory");
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, cfg->table);
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
		nlh = msg_hdr(f, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		nftnl_table_nlmsg_build_payload(nlh, t);
		put_done(f, nlh);
		nftnl_table_free(t);
		what[0] = "table";
		nmsg = 1;

		if (!have4) {
			put_block_set(f, cfg->table, SET4_NAME, false, counters);
			what[nmsg++] = "set " SET4_NAME;
		}
		if (!have6) {
			put_block_set(f, cfg->table, SET6_NAME, true, counters);
			what[nmsg++] = "set " SET6_NAME;
		}
		if (!havea4) {
			put_block_set(f, cfg->table, ALLOW4_NAME, false, counters);
			what[nmsg++] = "set " ALLOW4_NAME;
		}
		if (!havea6) {
			put_block_set(f, cfg->table, ALLOW6_NAME, true, counters);
			what[nmsg++] = "set " ALLOW6_NAME;
		}

		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, cfg->table);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, CHAIN_NAME);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, CHAIN_PRIO);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		nlh = msg_hdr(f, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
		nftnl_chain_nlmsg_build_payload(nlh, c);
		put_done(f, nlh);
		nftnl_chain_free(c);
		what[nmsg++] = "chain " CHAIN_NAME;

		/* Flush the chain and add the rules again, in the same batch:
		 * never a duplicate rule, never a moment without one. */
		nftnl_rule_set_str(flush, NFTNL_RULE_TABLE, cfg->table);
		nftnl_rule_set_str(flush, NFTNL_RULE_CHAIN, CHAIN_NAME);
		nlh = msg_hdr(f, NFT_MSG_DELRULE, 0);
		nftnl_rule_nlmsg_build_payload(nlh, flush);
		put_done(f, nlh);
		nftnl_rule_free(flush);
		what[nmsg++] = "chain flush";

		put_accept_rules(f, cfg);
		what[nmsg++] = "loopback rule";
		what[nmsg++] = "ipv4 allow rule";
		what[nmsg++] = "ipv6 allow rule";
		for (int v6 = 0; v6 <= 1; v6++) {
			if (!cfg->all_ports) {
				what[nmsg++] = "port set";
				what[nmsg++] = "port set elements";
			}
			put_rule(f, cfg, ports, nports, v6);
			what[nmsg++] = v6 ? "ipv6 rule" : "ipv4 rule";
		}
		batch_end(f);
		seq = f->seq;
		if (seq - first - 1 != nmsg)
			log_panic("fw_nft: setup batch has %u messages, expected %zu", seq - first - 1, nmsg);

		if (fw_nft_batch_send(f, first, nmsg, r, err, errlen) < 0)
			return -1;
		for (size_t i = 0; i < nmsg && bad == SIZE_MAX; i++)
			if (r[i].error)
				bad = i;
		if (bad == SIZE_MAX) {
			fw_nft_replies_release(r, nmsg);
			break;
		}
		if (counters && strncmp(what[bad], "set ", 4) == 0 &&
		    (r[bad].error == EOPNOTSUPP || r[bad].error == EINVAL)) {
			log_info("nftables: sets without per-element counters (%s)",
				 strerror(r[bad].error));
			fw_nft_replies_release(r, nmsg);
			continue;
		}
		errf(err, errlen, "cannot set up table inet %s: %s: %s%s%s%s", cfg->table, what[bad],
		     strerror(r[bad].error), r[bad].ext ? " (" : "", r[bad].ext ? r[bad].ext : "",
		     r[bad].ext ? ")" : "");
		fw_nft_replies_release(r, nmsg);
		return -1;
	}

	if (!f->table || strcmp(f->table, cfg->table) != 0) {
		free(f->table);
		f->table = xstrdup(cfg->table);
	}
	return 0;
}

/* ---- teardown ---------------------------------------------------------- */

int fw_nft_destroy(struct fw_nft *f, const char *table, char *err, size_t errlen)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	struct reply r;
	uint32_t first;

	if (!t)
		fatalx("out of memory");
	first = batch_begin(f);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = msg_hdr(f, NFT_MSG_DELTABLE, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	put_done(f, nlh);
	nftnl_table_free(t);
	batch_end(f);
	if (fw_nft_batch_send(f, first, 1, &r, err, errlen) < 0)
		return -1;
	if (r.error && r.error != ENOENT) {
		errf(err, errlen, "cannot delete table inet %s: %s%s%s%s", table, strerror(r.error),
		     r.ext ? " (" : "", r.ext ? r.ext : "", r.ext ? ")" : "");
		free(r.ext);
		return -1;
	}
	free(r.ext);
	if (f->table && strcmp(f->table, table) == 0) {
		free(f->table);
		f->table = NULL;
	}
	return 0;
}
