// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dedup - one attempt, one count, however many log lines show it (see
 * dedup.h for the pairings). Two rings of fixed size, each with a hash
 * index: "sightings" (short-lived: an attempt or a connection seen by one
 * line, waiting to be paired) and "sessions" (Dovecot session ids with the
 * attempts their auth lines showed, until the login process's summary).
 * An index link names an entry by slot and sequence number, so a slot
 * reused by the ring is never mistaken for the entry it replaced.
 */
#include "dedup.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

enum {
	SAME_S = 1,             /* auth lines of one attempt: within a second */
	ATTEMPT_S = 15,         /* SASL: the auth line and the MTA's (smtpd waits 10 s) */
	HANDOFF_S = 30,         /* postscreen hands a client to smtpd within seconds */
	SUMMARY_S = 300,        /* a login session's attempts, before its summary */
	SESSION_S = 3600,       /* a login session's auth lines, until its summary */
	NSIGHT = 1 << 14,
	NSESS = 1 << 14,
};

enum cls { C_AUTH = 1, C_MTA, C_HANDOFF, C_SESSION, C_SESSADDR };

enum {
	F_MERGED = 1,           /* another auth line of the same attempt took its place */
	F_CLAIMED = 2,          /* the other side of a pairing took its place */
};

struct link {
	uint32_t slot;
	uint32_t seq;           /* 0: none; the low 32 bits of the entry's number,
				 * never 0 (a slot is reused after cap entries, so
				 * a stale link would need 2^32 entries to match) */
};

struct entry {
	uint64_t key;           /* class and address, or class and session id */
	int64_t t;
	uint64_t user;          /* hash of the user name (auth), of the service (handoff); 0 none */
	uint64_t sess;          /* hash of the Dovecot session id; 0 none */
	struct link next;       /* older entry of the same bucket */
	uint32_t seq;           /* 0: empty */
	uint32_t n;             /* sessions: attempts shown by auth lines, not yet summed up */
	struct ipaddr ip;       /* session addresses: the address the session's first line named */
	uint8_t flags;
};

struct ring {
	struct entry *e;
	struct link *bucket;
	uint32_t cap, nbucket;  /* powers of two */
	uint64_t seq;           /* entries added */
};

struct dedup {
	struct ring sight, sess, addr;
	uint64_t seed;
	bool auth_seen;         /* an auth process's line came: pairing is on */
	bool handoff_seen;      /* a handoff connect came: connects are paired */
	struct dedup_stats st;
};

static void ring_init(struct ring *r, uint32_t cap)
{
	r->cap = cap;
	r->nbucket = cap * 2;
	r->e = xcalloc(cap, sizeof *r->e);
	r->bucket = xcalloc(r->nbucket, sizeof *r->bucket);
	r->seq = 0;
}

static struct entry *ring_get(const struct ring *r, struct link l)
{
	struct entry *e = &r->e[l.slot];

	return l.seq && e->seq == l.seq ? e : NULL;
}

static struct entry *ring_add(struct ring *r, uint64_t key, int64_t t)
{
	uint32_t slot;
	struct link *b;
	struct entry *e;

	if (!r->e)
		ring_init(r, r->cap);   /* a ring costs memory only once used */
	slot = (uint32_t)(r->seq % r->cap);
	b = &r->bucket[key & (r->nbucket - 1)];
	e = &r->e[slot];

	memset(e, 0, sizeof *e);
	if ((uint32_t)++r->seq == 0)
		++r->seq;       /* 0 means none */
	e->seq = (uint32_t)r->seq;
	e->key = key;
	e->t = t;
	e->next = *b;
	b->slot = slot;
	b->seq = e->seq;
	return e;
}

/* The entries of key, newest first, while not older than since. */
static struct entry *ring_first(const struct ring *r, uint64_t key, int64_t since)
{
	struct entry *e;

	if (!r->e)
		return NULL;
	e = ring_get(r, r->bucket[key & (r->nbucket - 1)]);

	for (; e && e->t >= since; e = ring_get(r, e->next))
		if (e->key == key)
			return e;
	return NULL;
}

static struct entry *ring_next(const struct ring *r, struct entry *e, int64_t since)
{
	uint64_t key = e->key;

	for (e = ring_get(r, e->next); e && e->t >= since; e = ring_get(r, e->next))
		if (e->key == key)
			return e;
	return NULL;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Keyed with a per-process seed: user names are the attacker's text. */
static uint64_t hash_bytes(const struct dedup *d, unsigned cls, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL ^ d->seed;

	h = (h ^ cls) * 1099511628211ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	h = mix(h);
	return h ? h : 1;
}

static uint64_t ip_key(const struct dedup *d, unsigned cls, const struct ipaddr *ip)
{
	return hash_bytes(d, cls, ip->b, ip->family == AF_INET ? 4 : 16);
}

struct dedup *dedup_new(void)
{
	struct dedup *d = xcalloc(1, sizeof *d);

	if (getrandom(&d->seed, sizeof d->seed, GRND_NONBLOCK) != (ssize_t)sizeof d->seed)
		d->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)d;
	d->sight.cap = NSIGHT;
	d->sess.cap = NSESS;
	d->addr.cap = NSESS;
	return d;
}

static void ring_free(struct ring *r)
{
	free(r->e);
	free(r->bucket);
}

void dedup_free(struct dedup *d)
{
	if (!d)
		return;
	ring_free(&d->sight);
	ring_free(&d->sess);
	ring_free(&d->addr);
	free(d);
}

void dedup_stats(const struct dedup *d, struct dedup_stats *st)
{
	*st = d->st;
}

static bool is_auth_service(const struct event *ev)
{
	return ev->service && ev->servicelen == 4 && memcmp(ev->service, "auth", 4) == 0;
}

/* Take n of the event's count as counted before. */
static void take(struct event *ev, unsigned long n)
{
	if (n > ev->count)
		n = ev->count;
	ev->count -= n;
	ev->dup += n;
}

/* Let the event take the place of the newest unclaimed line without a
 * session under key since 'since' (an auth process's SASL line, or an
 * MTA's): one line for one. */
static bool claim_sessionless(struct dedup *d, struct event *ev, uint64_t key, int64_t since)
{
	for (struct entry *e = ring_first(&d->sight, key, since); e; e = ring_next(&d->sight, e, since)) {
		if ((e->flags & F_CLAIMED) || e->sess)
			continue;
		e->flags |= F_CLAIMED;
		d->st.sasl_pairs++;
		take(ev, 1);
		return true;
	}
	return false;
}

static void session_add(struct dedup *d, uint64_t sess, unsigned long n, int64_t t)
{
	struct entry *e = ring_first(&d->sess, sess, t - SESSION_S);

	if (!e)
		e = ring_add(&d->sess, sess, t);
	e->n = n > UINT32_MAX - e->n ? UINT32_MAX : e->n + (uint32_t)n;
}

/* An auth process's line: one attempt. */
static void auth_line(struct dedup *d, struct event *ev, uint64_t ipk, uint64_t user, uint64_t sess, int64_t t)
{
	struct entry *e;

	/* the same attempt, written again (another passdb, pam_unix beside
	 * Dovecot): same user, no other session, within a second */
	for (e = ring_first(&d->sight, ipk, t - SAME_S); e; e = ring_next(&d->sight, e, t - SAME_S)) {
		if (e->user && user && e->user != user)
			continue;
		/* one session asks for one attempt at a time: its lines within
		 * the second are that attempt, however many passdbs wrote one
		 * (and if they were two, its summary counts the second) */
		if (!(e->sess && e->sess == sess) && ((e->flags & F_MERGED) || (e->sess && sess)))
			continue;
		e->flags |= F_MERGED;
		d->st.same_attempt++;
		take(ev, 1);
		if (!e->sess && sess) {
			/* the attempt belongs to this session: its summary must know */
			e->sess = sess;
			session_add(d, sess, 1, t);
		}
		return;
	}
	/* a SASL client's request whose failure its MTA logged first */
	if (!sess && claim_sessionless(d, ev, ip_key(d, C_MTA, &ev->ip), t - ATTEMPT_S))
		return;
	e = ring_add(&d->sight, ipk, t);
	e->user = user;
	e->sess = sess;
	if (sess)
		session_add(d, sess, ev->count, t);
}

/* Another service's failure: a login summary, or an MTA's SASL line. */
static void service_line(struct dedup *d, struct event *ev, uint64_t ipk, uint64_t user, uint64_t sess, int64_t t)
{
	struct entry *e;

	if (sess && (e = ring_first(&d->sess, sess, t - SESSION_S)) && e->n) {
		unsigned long n = e->n < ev->count ? e->n : ev->count;
		e->n -= (uint32_t)n;
		d->st.session_seen += n;
		take(ev, n);
		return;
	}
	if (!ev->has_ip)
		return;
	/* the auth process's lines without a session: a SASL client's
	 * request (the MTA's line of the same attempt comes just after), or
	 * pam_unix's line of a login whose Dovecot line is not logged
	 * (auth_verbose = no): a summary of N attempts takes up to N of the
	 * session's time, whatever their user (it names the last one only) */
	{
		unsigned long want = ev->count, was = ev->count;
		int64_t since = t - (want > 1 ? SUMMARY_S : ATTEMPT_S);
		for (e = ring_first(&d->sight, ipk, since); e && want; e = ring_next(&d->sight, e, since)) {
			if ((e->flags & F_CLAIMED) || e->sess || (was == 1 && e->user && user && e->user != user))
				continue;
			e->flags |= F_CLAIMED;
			d->st.sasl_pairs++;
			take(ev, 1);
			want--;
		}
		if (want < was)
			return;         /* it followed auth lines: nothing to wait for */
	}
	if (ev->count)
		ring_add(&d->sight, ip_key(d, C_MTA, &ev->ip), t);
}

/* A follow-up failure of another service (only_if_counted: smtpd's
 * "Connection lost to authentication server"): smtpd stopped waiting for
 * the auth server's reply. When the auth process did check the password
 * (its line came within the wait) the reply only came too late, and that
 * line is this attempt; otherwise the attempt was never checked, and the
 * line stands alone. It never waits for a later auth line: the auth
 * process drops a request whose client went away. */
static void follow_up_line(struct dedup *d, struct event *ev, int64_t t)
{
	claim_sessionless(d, ev, ip_key(d, C_AUTH, &ev->ip), t - ATTEMPT_S);
}

static void connect_line(struct dedup *d, struct event *ev, int64_t t)
{
	uint64_t k, svc;
	struct entry *e;

	/* without postscreen (or another handoff filter) nothing pairs */
	if (!ev->handoff && !d->handoff_seen)
		return;
	d->handoff_seen = true;
	k = ip_key(d, C_HANDOFF, &ev->ip);
	svc = ev->service ? hash_bytes(d, C_HANDOFF, ev->service, ev->servicelen) : 0;
	if (ev->handoff) {
		e = ring_add(&d->sight, k, t);
		e->user = svc;
		return;
	}
	for (e = ring_first(&d->sight, k, t - HANDOFF_S); e; e = ring_next(&d->sight, e, t - HANDOFF_S)) {
		if ((e->flags & F_CLAIMED) || e->user != svc)
			continue;
		e->flags |= F_CLAIMED;
		d->st.handoffs++;
		take(ev, 1);
		return;
	}
}

/* session_address filters: a line that names the session's address
 * remembers it; a later one that does not takes it. */
static void session_address(struct dedup *d, struct event *ev, int64_t t)
{
	uint64_t k = hash_bytes(d, C_SESSADDR, ev->session, ev->sessionlen);
	struct entry *e = ring_first(&d->addr, k, t - SESSION_S);

	if (ev->has_ip) {
		if (!e)
			e = ring_add(&d->addr, k, t);
		e->ip = ev->ip;
	} else if (e) {
		ev->ip = e->ip;
		ev->has_ip = true;
		d->st.session_addresses++;
	}
}

void dedup_event(struct dedup *d, struct event *ev, int64_t now)
{
	int64_t t = ev->time ? ev->time : now;
	uint64_t ipk, user, sess;

	if (ev->session_address && ev->session && ev->sessionlen)
		session_address(d, ev, t);
	if (!ev->count)
		return;
	if (ev->kind == EV_CONNECT) {
		if (ev->has_ip)
			connect_line(d, ev, t);
		return;
	}
	if (ev->kind != EV_AUTH_FAIL)
		return;
	if (ev->only_if_counted) {
		if (d->auth_seen && ev->has_ip && !is_auth_service(ev))
			follow_up_line(d, ev, t);
		return;
	}
	if (is_auth_service(ev)) {
		d->auth_seen = true;
	} else if (!d->auth_seen) {
		/* no auth process logs here (auth_verbose = no, or no Dovecot):
		 * every other line counts whole, as it is */
		return;
	}
	ipk = ev->has_ip ? ip_key(d, C_AUTH, &ev->ip) : 0;
	user = ev->user && ev->userlen ? hash_bytes(d, C_AUTH, ev->user, ev->userlen) : 0;
	sess = ev->session && ev->sessionlen ? hash_bytes(d, C_SESSION, ev->session, ev->sessionlen) : 0;
	if (is_auth_service(ev)) {
		if (ev->has_ip)
			auth_line(d, ev, ipk, user, sess, t);
		else if (sess)
			session_add(d, sess, ev->count, t);
		return;
	}
	service_line(d, ev, ipk, user, sess, t);
}
