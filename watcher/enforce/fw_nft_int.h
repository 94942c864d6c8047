/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fw_nft_int - what the files of the fw_nft module share, and nothing
 * else: fw_nft.c (the handle, its batches, setup and teardown),
 * fw_nft_commit.c (queuing and committing changes), fw_nft_list.c
 * (reading the sets back) and fw_nft_monitor.c (others' changes). Private
 * to them: callers include fw_nft.h, the module's whole public surface.
 *
 * Owns: nothing; it declares the handle's layout, the names of our
 * objects in the table, and the helpers that build and send a batch.
 *
 * Must never: be included outside fw_nft*.c.
 */
#ifndef MS_FW_NFT_INT_H
#define MS_FW_NFT_INT_H

#include "fw_nft.h"
#include "addr.h"
#include "log.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>         /* before the linux/ headers */
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>

#define CHAIN_NAME      "input"
#define SET4_NAME       "block4"
#define SET6_NAME       "block6"
#define ALLOW4_NAME     "allow4"
#define ALLOW6_NAME     "allow6"

/* set_names[kind][v6]: kind 0 = blocks, 1 = allows (enum fw_nft_set) */
static const char *const set_names[2][2] = { { SET4_NAME, SET6_NAME }, { ALLOW4_NAME, ALLOW6_NAME } };

#define MSG_ROOM        8192            /* bytes reserved per message; far under 64 KiB */
#define RX_SIZE         65536

/* The kernel's answer to one message of a batch. */
struct reply {
	bool got;
	int error;                      /* 0 or a positive errno */
	char *ext;                      /* extended ack message, or NULL */
};

struct change;                          /* a queued change: fw_nft_commit.c */

struct fw_nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;                   /* next sequence number */
	uint32_t set_id;                /* ids for sets created in a batch */
	char *table;                    /* set by fw_nft_setup() */

	struct change *q;
	size_t nq, qalloc;

	char *buf;                      /* the batch being built */
	size_t len, alloc;
	char *rx;                       /* RX_SIZE bytes */
	int sndbuf, rcvbuf;             /* what we asked for so far */
	struct fw_nft_monitor *mon;     /* drained after each batch, see fw_nft_monitor_own() */
};

/* ---- batch building (fw_nft.c sends, in fw_nft_batch_send) ------------- */

static inline char *room(struct fw_nft *f)
{
	xgrow((void **)&f->buf, &f->alloc, f->len + MSG_ROOM, 1);
	return f->buf + f->len;
}

static inline void put_done(struct fw_nft *f, const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len > MSG_ROOM)
		log_panic("fw_nft: netlink message of %u bytes overran its room", nlh->nlmsg_len);
	f->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Start a batch; returns the sequence number its first message gets. */
static inline uint32_t batch_begin(struct fw_nft *f)
{
	f->len = 0;
	put_done(f, nftnl_batch_begin(room(f), f->seq++));
	return f->seq;
}

static inline void batch_end(struct fw_nft *f)
{
	put_done(f, nftnl_batch_end(room(f), f->seq++));
}

static inline struct nlmsghdr *msg_hdr(struct fw_nft *f, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(room(f), type, NFPROTO_INET, flags | NLM_F_ACK, f->seq++);
}

/* Throw away replies to earlier, abandoned requests. */
static inline void drain(struct fw_nft *f)
{
	while (recv(mnl_socket_get_fd(f->nl), f->rx, RX_SIZE, MSG_DONTWAIT) > 0)
		;
}

/* fw_nft.c */
void fw_nft_replies_release(struct reply *r, size_t n);
int fw_nft_batch_send(struct fw_nft *f, uint32_t first, size_t nmsg, struct reply *r,
		      char *err, size_t errlen);

/* ---- what is in a set (fw_nft_list.c) ---------------------------------- */

struct range {
	struct ipaddr first, last;
	size_t start;                   /* index of its start element in the keys */
};

struct ranges {
	bool loaded;
	struct range *v;
	size_t n, alloc;
};

int fw_nft_load_ranges(struct fw_nft *f, uint8_t kind, uint8_t family, struct ranges *out, char *err,
		       size_t errlen);
void fw_nft_widest_prefix(const struct ipaddr *first, const struct ipaddr *last, struct cidr *out);

static inline void addr_decrement(struct ipaddr *a)
{
	for (int i = addr_bits(a) / 8 - 1; i >= 0; i--)
		if (a->b[i]-- != 0)
			break;
}

/* ---- the monitor (fw_nft_monitor.c) ------------------------------------ */

/* Read and handle every notification there is (fn may be called). */
void fw_nft_mon_drain(struct fw_nft_monitor *m);
/* Untie f from m. */
void fw_nft_mon_forget(struct fw_nft_monitor *m, struct fw_nft *f);

#endif
