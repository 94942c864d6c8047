// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NAME
 *	gen - deterministic Postfix + Dovecot mail log corpus for `make bench`
 *
 * SYNOPSIS
 *	gen [-n LINES] [-s SEED] [-r LINES_PER_SEC] [-a ATTACK_PERCENT] [-i]
 *	    [-t START] [-o FILE]
 *
 * DESCRIPTION
 *	Writes LINES (default 1000000) lines of a mail server's syslog, shaped
 *	like what Postfix 3.7 and Dovecot 2.3 write on Debian 12 (RFC 3164
 *	timestamps, or RFC 3339 with -i; host "mx"; Dovecot through journald,
 *	hence "dovecot[PID]:"). Sessions overlap and interleave as in a real log;
 *	timestamps only move forward, about LINES_PER_SEC (default 12) a second,
 *	from START (Unix seconds, UTC; default 2026-11-22 00:00:00). A daemon
 *	reads lines stamped more than a minute in the past in log time (as it
 *	catches up), so a corpus meant for its live path is generated with -t
 *	set to the current time.
 *
 *	Most lines are ordinary traffic: inbound mail (connect, TLS, client=,
 *	cleanup, qmgr, LMTP delivery into Dovecot, disconnect summaries),
 *	submission by local users with outbound smtp delivery, cron mail through
 *	pickup and local(8), IMAP and POP3 logins and logouts, anvil statistics,
 *	and the odd user typing a wrong password or a wrong recipient.
 *	ATTACK_PERCENT (default 12) of the lines come from attacks: fast SASL and
 *	IMAP/POP3 password guessing, slow distributed guessing that stays under
 *	any sensible limit, an IPv6 guesser rotating through addresses of one
 *	/64, recipient harvesting, RSET abuse and port probes.
 *
 *	Addresses come only from documentation ranges: 192.0.2.0/24 and
 *	2001:db8:1::/48, 2001:db8:2::/48 for legitimate peers and users;
 *	198.51.100.0/24, 203.0.113.0/24 and other parts of 2001:db8::/32 for
 *	attackers. Domains are example.org (ours), example.com, example.net.
 *
 *	Same arguments, same bytes: the generator has its own PRNG (splitmix64),
 *	uses integer arithmetic only, and reads no clock, locale or time zone.
 *	Never draw two random numbers in one expression or argument list: C
 *	leaves their order to the compiler, and GCC and Clang differ.
 *
 * DIAGNOSTICS
 *	At the end, stderr gets the count of lines of each kind and the ground
 *	truth a screener should reproduce: an auth failure attempt is one
 *	Postfix "SASL ... authentication failed" line or one Dovecot
 *	"pam(...): pam_authenticate() failed" line (the imap-login
 *	"auth failed, N attempts" line that follows summarises the same
 *	attempts); "blocked" means 5 attempts from one address within 600 s of
 *	log time. Fast attackers make their attempts seconds apart, and every
 *	other address (users' typos, slow guessers) is kept to at most one
 *	attempt in any 660 s, so the count does not depend on whether a filter
 *	also counts the summary or disconnect lines. The last stderr line,
 *	"expect: key=value ...", is for scripts.
 *	Exit status 0, or 2 on bad usage, 1 on a write error.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WINDOW_S	600		/* the rule the ground truth is for */
#define LIMIT		5
#define GATE_MS		660000		/* spacing kept by non-fast addresses */

#define SERVER4		"192.0.2.1"
#define SERVER6		"2001:db8::25"

/* ------------------------------------------------------------------ */
/* Line kinds: what the stderr table counts                            */

enum kind {
	K_CONNECT, K_TLS, K_CLIENT, K_DISCONNECT, K_CLEANUP, K_QMGR,
	K_DELIVER, K_SMTP_TLS, K_PICKUP, K_BOUNCE, K_ANVIL,
	K_IMAP_LOGIN, K_IMAP_LOGOUT, K_POP_LOGIN, K_POP_LOGOUT, K_LMTP,
	K_TYPO_AUTH, K_TYPO_RCPT,
	A_SESSION, A_SASL, A_LOGIN_FAIL, A_PAM, A_HARVEST, A_TOOMANY,
	A_RSET, A_PROBE,
	K_COUNT
};

static const struct {
	const char *name;
	int attack;
} kinds[K_COUNT] = {
	[K_CONNECT]	= { "postfix smtpd connect", 0 },
	[K_TLS]		= { "postfix smtpd TLS established", 0 },
	[K_CLIENT]	= { "postfix smtpd client= (message accepted)", 0 },
	[K_DISCONNECT]	= { "postfix smtpd disconnect summary", 0 },
	[K_CLEANUP]	= { "postfix cleanup message-id", 0 },
	[K_QMGR]	= { "postfix qmgr from= / removed", 0 },
	[K_DELIVER]	= { "postfix lmtp/smtp/local delivery status=", 0 },
	[K_SMTP_TLS]	= { "postfix smtp outbound TLS", 0 },
	[K_PICKUP]	= { "postfix pickup", 0 },
	[K_BOUNCE]	= { "postfix bounce notification", 0 },
	[K_ANVIL]	= { "postfix anvil statistics", 0 },
	[K_IMAP_LOGIN]	= { "dovecot imap-login Login", 0 },
	[K_IMAP_LOGOUT]	= { "dovecot imap Disconnected (logout)", 0 },
	[K_POP_LOGIN]	= { "dovecot pop3-login Login", 0 },
	[K_POP_LOGOUT]	= { "dovecot pop3 Disconnected (logout)", 0 },
	[K_LMTP]	= { "dovecot lmtp connect/saved/disconnect", 0 },
	[K_TYPO_AUTH]	= { "user typo: one failed SASL/PAM auth", 0 },
	[K_TYPO_RCPT]	= { "sender typo: one RCPT User unknown", 0 },
	[A_SESSION]	= { "attack sessions: connect/disconnect/lost/TLS", 1 },
	[A_SASL]	= { "postfix SASL authentication failed", 1 },
	[A_LOGIN_FAIL]	= { "dovecot *-login Disconnected (auth failed)", 1 },
	[A_PAM]		= { "dovecot auth-worker pam_authenticate failed", 1 },
	[A_HARVEST]	= { "postfix RCPT reject User unknown (harvest)", 1 },
	[A_TOOMANY]	= { "postfix too many errors after RCPT", 1 },
	[A_RSET]	= { "postfix RSET abuse disconnect/pipelining", 1 },
	[A_PROBE]	= { "probes: lost after CONNECT, no auth attempts", 1 },
};

/* Who made a tracked line: the ground truth is reported per role. */
enum role { R_LEGIT, R_FAST, R_SLOW, R_ROTATE, R_HARVEST, R_COUNT };

static const char *const role_names[R_COUNT] = {
	"legitimate users", "fast guessers", "slow guessers",
	"rotating IPv6 guesser", "harvesters",
};

enum track { T_NONE, T_AUTH, T_RCPT };

/* ------------------------------------------------------------------ */
/* State                                                               */

struct line {
	uint64_t t;			/* ms since the corpus start */
	uint64_t seq;			/* keeps insertion order on ties */
	uint8_t kind, track, role;
	char ip[40], pfx[40];		/* only for tracked lines */
	char text[];
};

/* Per-address (or per-/64) sliding-window tracker, open addressing. */
struct tent {
	char key[48];			/* "A ip", "R ip", "P prefix/64"; "" = free */
	uint32_t ring[LIMIT];		/* last LIMIT times, seconds */
	uint8_t n, head, maxwin, role;
	uint32_t total;
	uint64_t gate;			/* earliest ms the next attempt may be scheduled */
};

/* A pool of processes of one Postfix service: realistic, reused pids. */
#define POOL_MAX 100
struct pool {
	int pid[POOL_MAX];
	uint64_t busy[POOL_MAX];	/* ms until which the process serves a session */
	unsigned uses[POOL_MAX];
	int n;
	unsigned max_use;
};

struct peer {
	char name[64];
	char ip[40];
	char pfx[40];			/* /64 of an IPv6 address, "" for IPv4 */
	int v6;
};

struct gen {
	uint64_t rng;
	uint64_t seq;
	int next_pid;

	struct line **heap;
	size_t hlen, hcap;

	struct tent *tab;
	size_t tcap, tlen;

	struct pool smtpd, submission, smtps, cleanup, lmtp, smtp, local, bounce;
	int qmgr_pid, pickup_pid, anvil_pid, dovecot_pid;
	int auth_worker[2];

	uint64_t count[K_COUNT];
	uint64_t emitted;
	int stream;			/* which stream the running scenario belongs to */
	uint64_t sched_lines[2], sched_scen[2];

	char last_client[40];

	int iso;
	uint64_t start_s;		/* Unix time of t = 0 */
	uint64_t stamp_sec;
	char stamp[40];
	size_t stamp_len;
	FILE *out;
};

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64, our own, so that output never depends on libc      */

static uint64_t rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n < 2^32. */
static unsigned pick(struct gen *g, unsigned n)
{
	return (unsigned)(((rnd(g) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static unsigned range(struct gen *g, unsigned lo, unsigned hi)
{
	return lo + pick(g, hi - lo + 1);
}

static int chance(struct gen *g, unsigned permille)
{
	return pick(g, 1000) < permille;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "gen: out of memory\n");
		exit(1);
	}
	return p;
}

static int new_pid(struct gen *g)
{
	g->next_pid += (int)range(g, 1, 23);
	if (g->next_pid > 4000000)
		g->next_pid = 2000;
	return g->next_pid;
}

/* ------------------------------------------------------------------ */
/* Calendar: UTC, from Unix time                                      */

#define DEFAULT_START	1795305600	/* 2026-11-22 00:00:00 UTC */

static const char *const mon_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return d[m] + (m == 1 && leap(y));
}

/* days since 1970-01-01 -> year, month (0-11), day of month. Called once
 * per second of log time at most: a plain walk is fast enough. */
static void civil(uint64_t days, int *y, int *m, int *d)
{
	int yy = 1970, mm = 0;

	while (days >= (uint64_t)(365 + leap(yy)))
		days -= (uint64_t)(365 + leap(yy++));
	while (days >= (uint64_t)mdays(yy, mm))
		days -= (uint64_t)mdays(yy, mm++);
	*y = yy;
	*m = mm;
	*d = (int)days + 1;
}

/* "Nov 22 10:00:01" (as anvil prints its "at" times, and RFC 3164) for
 * t_ms after the corpus start */
static void fmt_3164(const struct gen *g, char *buf, size_t len, uint64_t t_ms)
{
	uint64_t s = g->start_s + t_ms / 1000;
	int y, m, d;

	civil(s / 86400, &y, &m, &d);
	snprintf(buf, len, "%s %2d %02u:%02u:%02u", mon_names[m], d,
		 (unsigned)(s % 86400 / 3600), (unsigned)(s % 3600 / 60),
		 (unsigned)(s % 60));
}

static void update_stamp(struct gen *g, uint64_t t_ms, uint64_t seq)
{
	uint64_t s = g->start_s + t_ms / 1000;

	if (g->iso) {
		int y, m, d;

		/* microseconds change every line: no caching. They come from
		 * the line's sequence number, not the PRNG, so that -i changes
		 * only the timestamps. */
		civil(s / 86400, &y, &m, &d);
		g->stamp_len = (size_t)snprintf(g->stamp, sizeof(g->stamp),
			"%04d-%02d-%02dT%02u:%02u:%02u.%03u%03u+00:00",
			y, m + 1, d, (unsigned)(s % 86400 / 3600),
			(unsigned)(s % 3600 / 60), (unsigned)(s % 60),
			(unsigned)(t_ms % 1000),
			(unsigned)((seq * 2654435761ULL >> 16) % 1000));
		return;
	}
	if (s == g->stamp_sec && g->stamp_len)
		return;
	g->stamp_sec = s;
	fmt_3164(g, g->stamp, sizeof(g->stamp), t_ms);
	g->stamp_len = strlen(g->stamp);
}

/* ------------------------------------------------------------------ */
/* Ground-truth tracker                                                */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct tent *tr_get(struct gen *g, const char *tag, const char *addr)
{
	char key[48];
	size_t i;

	snprintf(key, sizeof(key), "%s %s", tag, addr);
	if (2 * (g->tlen + 1) > g->tcap) {
		struct tent *old = g->tab;
		size_t ocap = g->tcap;

		g->tcap = ocap ? 2 * ocap : 4096;
		g->tab = xmalloc(g->tcap * sizeof(*g->tab));
		memset(g->tab, 0, g->tcap * sizeof(*g->tab));
		for (i = 0; i < ocap; i++) {
			size_t j;

			if (!old[i].key[0])
				continue;
			j = hash_str(old[i].key) & (g->tcap - 1);
			while (g->tab[j].key[0])
				j = (j + 1) & (g->tcap - 1);
			g->tab[j] = old[i];
		}
		free(old);
	}
	i = hash_str(key) & (g->tcap - 1);
	while (g->tab[i].key[0]) {
		if (strcmp(g->tab[i].key, key) == 0)
			return &g->tab[i];
		i = (i + 1) & (g->tcap - 1);
	}
	memcpy(g->tab[i].key, key, sizeof(key));
	g->tlen++;
	return &g->tab[i];
}

static void tr_record(struct tent *e, uint64_t t_ms, int role)
{
	uint32_t t = (uint32_t)(t_ms / 1000);
	unsigned i, in = 0;

	e->role = (uint8_t)role;
	e->total++;
	e->ring[e->head] = t;
	e->head = (uint8_t)((e->head + 1) % LIMIT);
	if (e->n < LIMIT)
		e->n++;
	for (i = 0; i < e->n; i++)
		if (t - e->ring[i] < WINDOW_S)
			in++;
	if (in > e->maxwin)
		e->maxwin = (uint8_t)in;
}

/*
 * Scheduling gate for addresses that must stay under the limit: true (and
 * the gate moves on) if an attempt may be scheduled at t.
 */
static int gate_ok(struct gen *g, const char *tag, const char *addr, uint64_t t)
{
	struct tent *e = tr_get(g, tag, addr);

	if (e->gate > t)
		return 0;
	e->gate = t + GATE_MS + pick(g, 1800000);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Pending lines: a min-heap on (t, seq)                               */

static int line_before(const struct line *a, const struct line *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct gen *g, struct line *l)
{
	size_t i;

	if (g->hlen == g->hcap) {
		g->hcap = g->hcap ? 2 * g->hcap : 4096;
		g->heap = realloc(g->heap, g->hcap * sizeof(*g->heap));
		if (!g->heap) {
			fprintf(stderr, "gen: out of memory\n");
			exit(1);
		}
	}
	i = g->hlen++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!line_before(l, g->heap[p]))
			break;
		g->heap[i] = g->heap[p];
		i = p;
	}
	g->heap[i] = l;
}

static struct line *heap_pop(struct gen *g)
{
	struct line *top = g->heap[0], *last = g->heap[--g->hlen];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= g->hlen)
			break;
		if (c + 1 < g->hlen && line_before(g->heap[c + 1], g->heap[c]))
			c++;
		if (!line_before(g->heap[c], last))
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (g->hlen)
		g->heap[i] = last;
	return top;
}

__attribute__((format(printf, 8, 0)))
static void vput(struct gen *g, uint64_t t, int kind, int track, int role,
		 const char *ip, const char *pfx, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	struct line *l;

	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	l = xmalloc(sizeof(*l) + (size_t)n + 1);
	l->t = t;
	l->seq = g->seq++;
	l->kind = (uint8_t)kind;
	l->track = (uint8_t)track;
	l->role = (uint8_t)role;
	l->ip[0] = l->pfx[0] = '\0';
	if (track != T_NONE) {
		snprintf(l->ip, sizeof(l->ip), "%s", ip);
		snprintf(l->pfx, sizeof(l->pfx), "%s", pfx ? pfx : "");
	}
	memcpy(l->text, buf, (size_t)n + 1);
	heap_push(g, l);
	g->sched_lines[g->stream]++;
}

__attribute__((format(printf, 4, 5)))
static void put(struct gen *g, uint64_t t, int kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(g, t, kind, T_NONE, R_LEGIT, NULL, NULL, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 7, 8)))
static void put_tr(struct gen *g, uint64_t t, int kind, int track, int role,
		   const struct peer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(g, t, kind, track, role, p->ip, p->pfx, fmt, ap);
	va_end(ap);
}

static void emit(struct gen *g, struct line *l)
{
	FILE *f = g->out;

	update_stamp(g, l->t, l->seq);
	fwrite(g->stamp, 1, g->stamp_len, f);
	fputs(" mx ", f);
	fputs(l->text, f);
	fputc('\n', f);
	g->count[l->kind]++;
	g->emitted++;
	if (l->track == T_AUTH) {
		tr_record(tr_get(g, "A", l->ip), l->t, l->role);
		if (l->pfx[0])
			tr_record(tr_get(g, "P", l->pfx), l->t, l->role);
	} else if (l->track == T_RCPT) {
		tr_record(tr_get(g, "R", l->ip), l->t, l->role);
	}
	free(l);
}

/* ------------------------------------------------------------------ */
/* Process pools                                                       */

static void pool_init(struct gen *g, struct pool *p, int n, unsigned max_use)
{
	int i;

	p->n = n;
	p->max_use = max_use;
	for (i = 0; i < n; i++) {
		p->pid[i] = new_pid(g);
		p->busy[i] = 0;
		p->uses[i] = 0;
	}
}

/*
 * A process free at `start`, marked busy until `end`. Processes retire
 * after max_use sessions or 100 s idle (Postfix max_use / max_idle), and
 * the pool grows up to the process limit.
 */
static int pool_get(struct gen *g, struct pool *p, uint64_t start, uint64_t end)
{
	int i = 0, k, off = (int)pick(g, (unsigned)p->n);

	for (k = 0; k < p->n; k++) {
		i = (off + k) % p->n;
		if (p->busy[i] <= start)
			break;
	}
	if (k == p->n) {
		if (p->n < POOL_MAX) {
			i = p->n++;
			p->pid[i] = new_pid(g);
			p->uses[i] = 0;
		} else {
			i = off;
		}
	} else if (p->uses[i] >= p->max_use || start - p->busy[i] > 100000) {
		p->pid[i] = new_pid(g);
		p->uses[i] = 0;
	}
	p->uses[i]++;
	if (end > p->busy[i])
		p->busy[i] = end;
	return p->pid[i];
}

/* Keep the process `pid` busy until `until` (a campaign's connections). */
static void pool_hold(struct pool *p, int pid, uint64_t until)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->pid[i] == pid && p->busy[i] < until)
			p->busy[i] = until;
}

/* ------------------------------------------------------------------ */
/* Names, ids, addresses                                               */

static const char *const first_names[40] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "karl", "laura", "mallory", "nina", "oscar", "peggy",
	"quentin", "rupert", "sybil", "trent", "ursula", "victor", "walter",
	"wendy", "xavier", "yvonne", "zoe", "anna", "bruno", "clara", "dmitri",
	"elena", "felix", "gina", "hugo", "irene", "jonas", "kim", "lena", "marc",
};

#define NUSERS 400

static void user_name(unsigned u, char *buf, size_t len)
{
	if (u < 40)
		snprintf(buf, len, "%s", first_names[u]);
	else
		snprintf(buf, len, "%s%u", first_names[u % 40], u / 40);
}

/* Names attackers try. */
static const char *const guess_names[] = {
	"admin", "info", "test", "support", "sales", "office", "contact",
	"postmaster", "webmaster", "user", "root", "mail", "marketing", "hr",
	"billing", "noreply", "guest", "backup", "scanner", "alice", "bob",
	"info@example.org", "admin@example.org", "sales@example.org",
	"test1", "service", "reception", "accounts", "shop", "newsletter",
};
#define NGUESS (sizeof(guess_names) / sizeof(guess_names[0]))

static const char hexd[] = "0123456789ABCDEF";
static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Postfix short queue id: 10 or 11 upper-case hex digits. */
static void queue_id(struct gen *g, char *buf)
{
	unsigned n = 10 + (unsigned)chance(g, 300), i;

	for (i = 0; i < n; i++)
		buf[i] = hexd[pick(g, 16)];
	buf[n] = '\0';
}

/* Dovecot session id (16 base64 chars) or LMTP session (22). */
static void session_id(struct gen *g, char *buf, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		buf[i] = b64[pick(g, 64)];
	buf[n] = '\0';
}

static void message_id(struct gen *g, char *buf, size_t len, const char *domain)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char a[25];
	unsigned i, n = range(g, 12, 24);

	for (i = 0; i < n; i++)
		a[i] = alnum[pick(g, 36)];
	a[n] = '\0';
	snprintf(buf, len, "%s@%s", a, domain);
}

static void random_word(struct gen *g, char *buf, unsigned lo, unsigned hi)
{
	unsigned i, n = range(g, lo, hi);

	for (i = 0; i < n; i++)
		buf[i] = (char)('a' + pick(g, 26));
	buf[n] = '\0';
}

/* Postfix delay: 2 significant digits, as in "delay=0.41" or "delay=12". */
static void fmt_delay(char *buf, size_t len, unsigned ms)
{
	if (ms >= 10000)
		snprintf(buf, len, "%u", ms / 1000);
	else if (ms >= 1000)
		snprintf(buf, len, "%u.%u", ms / 1000, ms % 1000 / 100);
	else if (ms >= 100)
		snprintf(buf, len, "0.%u", ms / 10 % 10 ? ms / 10 : ms / 100);
	else if (ms >= 10)
		snprintf(buf, len, "0.0%u", ms / 10);
	else
		snprintf(buf, len, "0");
}

/* "delay=T, delays=a/b/c/d" for a delivery that took `total` ms */
static void fmt_delays(struct gen *g, char *buf, size_t len, unsigned total)
{
	char a[24], b[24], c[24], d[24], t[24];
	unsigned pa = total * range(g, 20, 50) / 100;
	unsigned pb = total * range(g, 0, 10) / 100;
	unsigned pc = total * range(g, 0, 20) / 100;
	unsigned pd = total - pa - pb - pc;

	fmt_delay(t, sizeof(t), total);
	fmt_delay(a, sizeof(a), pa);
	fmt_delay(b, sizeof(b), pb);
	fmt_delay(c, sizeof(c), pc);
	fmt_delay(d, sizeof(d), pd);
	snprintf(buf, len, "delay=%s, delays=%s/%s/%s/%s", t, a, b, c, d);
}

/* Legitimate MTAs that send us mail: 150 of them, every fifth on IPv6. */
static void peer_mta(struct gen *g, struct peer *p)
{
	unsigned i = pick(g, 150);

	switch (i % 4) {
	case 0: snprintf(p->name, sizeof(p->name), "mail%u.example.com", i); break;
	case 1: snprintf(p->name, sizeof(p->name), "mta%u.example.net", i); break;
	case 2: snprintf(p->name, sizeof(p->name), "smtp-out%u.mailer.example", i); break;
	default: snprintf(p->name, sizeof(p->name), "bounce%u.lists.example.com", i); break;
	}
	p->v6 = i % 5 == 0;
	if (p->v6) {
		snprintf(p->ip, sizeof(p->ip), "2001:db8:1:%x::25", i);
		snprintf(p->pfx, sizeof(p->pfx), "2001:db8:1:%x::/64", i);
	} else {
		snprintf(p->ip, sizeof(p->ip), "192.0.2.%u", 10 + i % 120);
		p->pfx[0] = '\0';
	}
}

/* Where user u connects from: home (v4 or v6), sometimes elsewhere. */
static void peer_user(struct gen *g, unsigned u, struct peer *p)
{
	unsigned h = chance(g, 150) ? pick(g, NUSERS) : u;

	p->v6 = h % 4 == 3;
	if (p->v6) {
		snprintf(p->ip, sizeof(p->ip), "2001:db8:2:%x::%x", h / 4 % 64, 0x100 + h);
		snprintf(p->pfx, sizeof(p->pfx), "2001:db8:2:%x::/64", h / 4 % 64);
		snprintf(p->name, sizeof(p->name), "unknown");
	} else {
		unsigned o = 130 + h % 125;

		snprintf(p->ip, sizeof(p->ip), "192.0.2.%u", o);
		p->pfx[0] = '\0';
		if (h % 3)
			snprintf(p->name, sizeof(p->name), "host-192-0-2-%u.isp.example.net", o);
		else
			snprintf(p->name, sizeof(p->name), "unknown");
	}
}

/*
 * Attacker addresses. IPv4 index space 0..507 covers 198.51.100.1-254 and
 * 203.0.113.1-254, split by role so roles never share an address.
 */
enum { V4_FAST = 0, V4_SLOW = 150, V4_HARVEST = 400, V4_RSET = 460,
       V4_PROBE = 490, V4_END = 508 };

static void peer_v4(struct peer *p, unsigned idx)
{
	if (idx < 254)
		snprintf(p->ip, sizeof(p->ip), "198.51.100.%u", idx + 1);
	else
		snprintf(p->ip, sizeof(p->ip), "203.0.113.%u", idx - 254 + 1);
	p->pfx[0] = '\0';
	p->v6 = 0;
	snprintf(p->name, sizeof(p->name), "unknown");
}

static void peer_v6(struct peer *p, const char *net, unsigned sub, unsigned host)
{
	snprintf(p->ip, sizeof(p->ip), "2001:db8:%s:%x::%x", net, sub, host);
	snprintf(p->pfx, sizeof(p->pfx), "2001:db8:%s:%x::/64", net, sub);
	p->v6 = 1;
	snprintf(p->name, sizeof(p->name), "unknown");
}

/* A fast guesser: 150 IPv4 addresses and 40 fixed IPv6 addresses. */
static void peer_fast(struct gen *g, struct peer *p)
{
	if (chance(g, 200))
		peer_v6(p, "dead", pick(g, 40), 2);
	else
		peer_v4(p, V4_FAST + pick(g, V4_SLOW - V4_FAST));
}

/* Postfix writes "unknown[ip]" and, when the PTR name does not resolve back,
 * a warning first; the attacker's name decides it, stable per address. */
static int rdns_warning(const struct peer *p)
{
	return !p->v6 && hash_str(p->ip) % 5 == 0;
}

static void dyn_name(const struct peer *p, char *buf, size_t len)
{
	char tmp[40];
	size_t i;

	snprintf(tmp, sizeof(tmp), "%s", p->ip);
	for (i = 0; tmp[i]; i++)
		if (tmp[i] == '.')
			tmp[i] = '-';
	snprintf(buf, len, "%s.dyn.example.net", tmp);
}

static const char *lip(const struct peer *p)
{
	return p->v6 ? SERVER6 : SERVER4;
}

static const char *tls_desc(struct gen *g)
{
	switch (pick(g, 5)) {
	case 0:
		return "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)";
	case 1:
		return "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) "
		       "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
		       "server-digest SHA256";
	default:
		return "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
		       "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
		       "server-digest SHA256";
	}
}

/* Summary field: "name=ok" or "name=ok/total" as Postfix writes it. */
static size_t cmd_field(char *buf, size_t len, const char *name,
			unsigned ok, unsigned total)
{
	int n;

	if (total == 0)
		return 0;
	if (ok == total)
		n = snprintf(buf, len, " %s=%u", name, ok);
	else
		n = snprintf(buf, len, " %s=%u/%u", name, ok, total);
	return n < 0 ? 0 : (size_t)n;
}

struct cmds {
	unsigned helo, ehlo, starttls, auth_ok, auth, mail, rcpt_ok, rcpt,
		 data, rset, noop, quit, unknown;
};

/* " ehlo=2 starttls=1 ... commands=N[/M]" */
static void fmt_cmds(char *buf, size_t len, const struct cmds *c)
{
	size_t o = 0;
	unsigned ok = c->helo + c->ehlo + c->starttls + c->auth_ok + c->mail +
		      c->rcpt_ok + c->data + c->rset + c->noop + c->quit;
	unsigned all = c->helo + c->ehlo + c->starttls + c->auth + c->mail +
		       c->rcpt + c->data + c->rset + c->noop + c->quit + c->unknown;

	buf[0] = '\0';
	o += cmd_field(buf + o, len - o, "helo", c->helo, c->helo);
	o += cmd_field(buf + o, len - o, "ehlo", c->ehlo, c->ehlo);
	o += cmd_field(buf + o, len - o, "starttls", c->starttls, c->starttls);
	o += cmd_field(buf + o, len - o, "auth", c->auth_ok, c->auth);
	o += cmd_field(buf + o, len - o, "mail", c->mail, c->mail);
	o += cmd_field(buf + o, len - o, "rcpt", c->rcpt_ok, c->rcpt);
	o += cmd_field(buf + o, len - o, "data", c->data, c->data);
	o += cmd_field(buf + o, len - o, "rset", c->rset, c->rset);
	o += cmd_field(buf + o, len - o, "noop", c->noop, c->noop);
	o += cmd_field(buf + o, len - o, "quit", c->quit, c->quit);
	o += cmd_field(buf + o, len - o, "unknown", 0, c->unknown);
	if (ok == all)
		snprintf(buf + o, len - o, " commands=%u", ok);
	else
		snprintf(buf + o, len - o, " commands=%u/%u", ok, all);
}

/* ------------------------------------------------------------------ */
/* Ordinary traffic                                                    */

/* Deliver one queued message to local users over LMTP into Dovecot;
 * returns when the last delivery was logged. */
static uint64_t deliver_lmtp(struct gen *g, uint64_t t, const char *qid,
			     const char *msgid, const unsigned *rcpt, unsigned n)
{
	int ppid = pool_get(g, &g->lmtp, t, t + 2000);
	int dpid = new_pid(g);
	char user[32], sid[24], dl[160];
	unsigned i;

	t += range(g, 5, 60);
	put(g, t, K_LMTP, "dovecot[%d]: lmtp(%d): Connect from local",
	    g->dovecot_pid, dpid);
	for (i = 0; i < n; i++) {
		unsigned took = range(g, 40, 900);

		user_name(rcpt[i], user, sizeof(user));
		session_id(g, sid, 22);
		t += took;
		put(g, t, K_LMTP, "dovecot[%d]: lmtp(%s)<%d><%s>: msgid=<%s>: "
		    "saved mail to INBOX", g->dovecot_pid, user, dpid, sid, msgid);
		fmt_delays(g, dl, sizeof(dl), took + range(g, 100, 900));
		t += range(g, 1, 20);
		put(g, t, K_DELIVER, "postfix/lmtp[%d]: %s: to=<%s@example.org>, "
		    "relay=mx.example.org[private/dovecot-lmtp], %s, dsn=2.0.0, "
		    "status=sent (250 2.0.0 <%s@example.org> %s Saved)",
		    ppid, qid, user, dl, user, sid);
	}
	t += range(g, 1, 30);
	put(g, t, K_LMTP, "dovecot[%d]: lmtp(%d): Disconnect from local: "
	    "Logged out (state=READY)", g->dovecot_pid, dpid);
	return t;
}

static void sc_inbound(struct gen *g, uint64_t t)
{
	struct peer p;
	struct cmds c = { 0 };
	char qid[16], msgid[96], from[96], word[16], cmdbuf[160];
	unsigned rcpt[4], nrcpt, i, typo;
	uint64_t end = t + range(g, 800, 6000);
	int pid, cpid;

	peer_mta(g, &p);
	pid = pool_get(g, &g->smtpd, t, end);
	snprintf(g->last_client, sizeof(g->last_client), "%s", p.ip);
	put(g, t, K_CONNECT, "postfix/smtpd[%d]: connect from %s[%s]", pid, p.name, p.ip);
	c.ehlo = 1;
	if (chance(g, 700)) {
		t += range(g, 40, 400);
		put(g, t, K_TLS, "postfix/smtpd[%d]: Anonymous TLS connection "
		    "established from %s[%s]: %s", pid, p.name, p.ip, tls_desc(g));
		c.ehlo = 2;
		c.starttls = 1;
	}
	c.quit = 1;
	if (chance(g, 40)) {	/* a check or a callout: no mail */
		fmt_cmds(cmdbuf, sizeof(cmdbuf), &c);
		put(g, t + range(g, 50, 500), K_DISCONNECT,
		    "postfix/smtpd[%d]: disconnect from %s[%s]%s", pid, p.name, p.ip, cmdbuf);
		return;
	}
	nrcpt = chance(g, 800) ? 1 : range(g, 2, 4);
	for (i = 0; i < nrcpt; i++)
		rcpt[i] = pick(g, NUSERS);
	random_word(g, word, 4, 10);
	snprintf(from, sizeof(from), "%s@%s", word,
		 strchr(p.name, '.') ? strchr(p.name, '.') + 1 : "example.com");
	queue_id(g, qid);
	c.mail = 1;
	c.rcpt = c.rcpt_ok = nrcpt;
	c.data = 1;
	t += range(g, 100, 1500);
	typo = chance(g, 8) && gate_ok(g, "R", p.ip, t);
	if (typo) {
		char bad[32];

		random_word(g, bad, 3, 9);
		put_tr(g, t, K_TYPO_RCPT, T_RCPT, R_LEGIT, &p,
		       "postfix/smtpd[%d]: NOQUEUE: reject: RCPT from %s[%s]: 550 5.1.1 "
		       "<%s@example.org>: Recipient address rejected: User unknown in "
		       "local recipient table; from=<%s> to=<%s@example.org> "
		       "proto=ESMTP helo=<%s>", pid, p.name, p.ip, bad, from, bad, p.name);
		c.rcpt++;
		t += range(g, 50, 300);
	}
	put(g, t, K_CLIENT, "postfix/smtpd[%d]: %s: client=%s[%s]", pid, qid, p.name, p.ip);
	message_id(g, msgid, sizeof(msgid), strchr(p.name, '.') + 1);
	t += range(g, 100, 2000);
	cpid = pool_get(g, &g->cleanup, t, t + 50);
	put(g, t, K_CLEANUP, "postfix/cleanup[%d]: %s: message-id=<%s>", cpid, qid, msgid);
	t += range(g, 5, 80);
	put(g, t, K_QMGR, "postfix/qmgr[%d]: %s: from=<%s>, size=%u, nrcpt=%u "
	    "(queue active)", g->qmgr_pid, qid, from, range(g, 1500, 90000), nrcpt);
	fmt_cmds(cmdbuf, sizeof(cmdbuf), &c);
	put(g, t + range(g, 10, 300), K_DISCONNECT,
	    "postfix/smtpd[%d]: disconnect from %s[%s]%s", pid, p.name, p.ip, cmdbuf);
	t = deliver_lmtp(g, t, qid, msgid, rcpt, nrcpt);
	put(g, t + range(g, 1, 10), K_QMGR, "postfix/qmgr[%d]: %s: removed", g->qmgr_pid, qid);
}

static void sc_submission(struct gen *g, uint64_t t)
{
	struct peer p, mx;
	struct cmds c = { 0 };
	char user[32], qid[16], msgid[96], rcpt[96], word[16], dl[160], cmdbuf[160];
	unsigned u = pick(g, NUSERS), took;
	int pid, cpid, spid;

	user_name(u, user, sizeof(user));
	peer_user(g, u, &p);
	pid = pool_get(g, &g->submission, t, t + 8000);
	put(g, t, K_CONNECT, "postfix/submission/smtpd[%d]: connect from %s[%s]",
	    pid, p.name, p.ip);
	t += range(g, 30, 300);
	put(g, t, K_TLS, "postfix/submission/smtpd[%d]: Anonymous TLS connection "
	    "established from %s[%s]: %s", pid, p.name, p.ip, tls_desc(g));
	c.ehlo = 2;
	c.starttls = 1;
	c.auth = c.auth_ok = 1;
	if (chance(g, 25) && gate_ok(g, "A", p.ip, t)) {
		t += range(g, 2000, 4000);
		put_tr(g, t, K_TYPO_AUTH, T_AUTH, R_LEGIT, &p,
		       "postfix/submission/smtpd[%d]: warning: %s[%s]: SASL PLAIN "
		       "authentication failed: authentication failure", pid, p.name, p.ip);
		c.auth++;
	}
	c.mail = 1;
	c.rcpt = c.rcpt_ok = 1;
	c.data = 1;
	c.quit = 1;
	queue_id(g, qid);
	t += range(g, 300, 2000);
	put(g, t, K_CLIENT, "postfix/submission/smtpd[%d]: %s: client=%s[%s], "
	    "sasl_method=PLAIN, sasl_username=%s", pid, qid, p.name, p.ip, user);
	message_id(g, msgid, sizeof(msgid), "example.org");
	t += range(g, 100, 3000);
	cpid = pool_get(g, &g->cleanup, t, t + 50);
	put(g, t, K_CLEANUP, "postfix/cleanup[%d]: %s: message-id=<%s>", cpid, qid, msgid);
	t += range(g, 5, 80);
	put(g, t, K_QMGR, "postfix/qmgr[%d]: %s: from=<%s@example.org>, size=%u, "
	    "nrcpt=1 (queue active)", g->qmgr_pid, qid, user, range(g, 800, 400000));
	fmt_cmds(cmdbuf, sizeof(cmdbuf), &c);
	put(g, t + range(g, 10, 200), K_DISCONNECT,
	    "postfix/submission/smtpd[%d]: disconnect from %s[%s]%s",
	    pid, p.name, p.ip, cmdbuf);

	/* outbound */
	peer_mta(g, &mx);
	random_word(g, word, 3, 9);
	snprintf(rcpt, sizeof(rcpt), "%s@%s", word, strchr(mx.name, '.') + 1);
	spid = pool_get(g, &g->smtp, t, t + 3000);
	took = range(g, 300, 4000);
	t += range(g, 100, 900);
	if (chance(g, 30)) {
		fmt_delays(g, dl, sizeof(dl), 30000 + took);
		put(g, t + 30000, K_DELIVER, "postfix/smtp[%d]: %s: to=<%s>, "
		    "relay=none, %s, dsn=4.4.1, status=deferred (connect to "
		    "%s[%s]:25: Connection timed out)", spid, qid, rcpt, dl, mx.name, mx.ip);
		return;
	}
	put(g, t, K_SMTP_TLS, "postfix/smtp[%d]: Trusted TLS connection established "
	    "to %s[%s]:25: %s", spid, mx.name, mx.ip, tls_desc(g));
	t += took;
	fmt_delays(g, dl, sizeof(dl), took + range(g, 100, 3000));
	if (chance(g, 15)) {
		char bqid[16];

		put(g, t, K_DELIVER, "postfix/smtp[%d]: %s: to=<%s>, relay=%s[%s]:25, "
		    "%s, dsn=5.1.1, status=bounced (host %s[%s] said: 550 5.1.1 <%s>: "
		    "Recipient address rejected: User unknown (in reply to RCPT TO "
		    "command))", spid, qid, rcpt, mx.name, mx.ip, dl, mx.name, mx.ip, rcpt);
		queue_id(g, bqid);
		t += range(g, 5, 50);
		put(g, t, K_BOUNCE, "postfix/bounce[%d]: %s: sender non-delivery "
		    "notification: %s", pool_get(g, &g->bounce, t, t + 20), qid, bqid);
	} else {
		char rqid[16];

		queue_id(g, rqid);
		put(g, t, K_DELIVER, "postfix/smtp[%d]: %s: to=<%s>, relay=%s[%s]:25, "
		    "%s, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)",
		    spid, qid, rcpt, mx.name, mx.ip, dl, rqid);
	}
	put(g, t + range(g, 1, 10), K_QMGR, "postfix/qmgr[%d]: %s: removed", g->qmgr_pid, qid);
}

static void sc_pickup(struct gen *g, uint64_t t)
{
	static const char *const who[3] = { "root", "www-data", "backup" };
	static const unsigned uid[3] = { 0, 33, 34 };
	char qid[16], msgid[96], dl[160];
	unsigned w = pick(g, 3), took = range(g, 10, 300);
	int cpid, lpid;

	queue_id(g, qid);
	put(g, t, K_PICKUP, "postfix/pickup[%d]: %s: uid=%u from=<%s>",
	    g->pickup_pid, qid, uid[w], who[w]);
	t += range(g, 1, 30);
	snprintf(msgid, sizeof(msgid), "20261122%06u.%s@mx.example.org",
		 pick(g, 1000000), qid);
	cpid = pool_get(g, &g->cleanup, t, t + 50);
	put(g, t, K_CLEANUP, "postfix/cleanup[%d]: %s: message-id=<%s>", cpid, qid, msgid);
	t += range(g, 2, 40);
	put(g, t, K_QMGR, "postfix/qmgr[%d]: %s: from=<%s@mx.example.org>, size=%u, "
	    "nrcpt=1 (queue active)", g->qmgr_pid, qid, who[w], range(g, 400, 9000));
	lpid = pool_get(g, &g->local, t, t + 100);
	t += took;
	fmt_delays(g, dl, sizeof(dl), took + range(g, 5, 80));
	put(g, t, K_DELIVER, "postfix/local[%d]: %s: to=<root@mx.example.org>, "
	    "orig_to=<%s>, relay=local, %s, dsn=2.0.0, status=sent (delivered to "
	    "mailbox)", lpid, qid, who[w], dl);
	put(g, t + range(g, 1, 5), K_QMGR, "postfix/qmgr[%d]: %s: removed", g->qmgr_pid, qid);
}

/* IMAP or POP3 session of a user; sometimes a wrong password first. */
static void sc_mailbox(struct gen *g, uint64_t t, int pop)
{
	struct peer p;
	char user[32], sid[20];
	unsigned u = pick(g, NUSERS);
	int mpid = new_pid(g);
	const char *proto = pop ? "pop3" : "imap";

	user_name(u, user, sizeof(user));
	peer_user(g, u, &p);
	session_id(g, sid, 16);
	if (chance(g, 12) && gate_ok(g, "A", p.ip, t)) {
		put_tr(g, t, K_TYPO_AUTH, T_AUTH, R_LEGIT, &p,
		       "dovecot[%d]: auth-worker(%d): pam(%s,%s,<%s>): "
		       "pam_authenticate() failed: Authentication failure "
		       "(Password mismatch?)", g->dovecot_pid,
		       g->auth_worker[pick(g, 2)], user, p.ip, sid);
		t += range(g, 2000, 9000);
	}
	put(g, t, pop ? K_POP_LOGIN : K_IMAP_LOGIN, "dovecot[%d]: %s-login: Login: "
	    "user=<%s>, method=PLAIN, rip=%s, lip=%s, mpid=%d, TLS, session=<%s>",
	    g->dovecot_pid, proto, user, p.ip, lip(&p), mpid, sid);
	if (pop) {
		unsigned n = pick(g, 6), size = n * range(g, 2000, 60000);
		unsigned kept = pick(g, 30);

		t += range(g, 300, 8000);
		put(g, t, K_POP_LOGOUT, "dovecot[%d]: "
		    "pop3(%s)<%d><%s>: Disconnected: Logged out top=0/0, retr=%u/%u, "
		    "del=%u/%u, size=%u", g->dovecot_pid, user, mpid, sid, n,
		    size + 80 * n, n, n + kept, size);
		return;
	}
	{
		unsigned in = range(g, 40, 4000), out = range(g, 400, 900000);
		unsigned dur = chance(g, 600) ? range(g, 2000, 120000)
					      : range(g, 120000, 1800000);
		unsigned body = pick(g, 6);

		switch (pick(g, 10)) {
		case 0:
			put(g, t + dur, K_IMAP_LOGOUT, "dovecot[%d]: imap(%s)<%d><%s>: "
			    "Disconnected: Connection closed (IDLE finished %u.%03u "
			    "secs ago) in=%u out=%u deleted=0 expunged=0 trashed=0 "
			    "hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
			    g->dovecot_pid, user, mpid, sid, dur / 1000, dur % 1000, in, out);
			break;
		case 1:
			put(g, t + dur, K_IMAP_LOGOUT, "dovecot[%d]: imap(%s)<%d><%s>: "
			    "Disconnected: Inactivity - no input for 1800 secs in=%u "
			    "out=%u deleted=0 expunged=0 trashed=0 hdr_count=0 "
			    "hdr_bytes=0 body_count=0 body_bytes=0",
			    g->dovecot_pid, user, mpid, sid, in, out);
			break;
		default:
			put(g, t + dur, K_IMAP_LOGOUT, "dovecot[%d]: imap(%s)<%d><%s>: "
			    "Disconnected: Logged out in=%u out=%u deleted=%u expunged=%u "
			    "trashed=%u hdr_count=%u hdr_bytes=%u body_count=%u "
			    "body_bytes=%u", g->dovecot_pid, user, mpid, sid, in, out,
			    body / 3, body / 3, body / 4, body * 3, body * 3 * 812,
			    body, body * range(g, 3000, 40000));
			break;
		}
	}
}

static void anvil_stats(struct gen *g, uint64_t t)
{
	char at[32];

	if (!g->last_client[0])
		return;
	if (chance(g, 300))
		g->anvil_pid = new_pid(g);
	fmt_3164(g, at, sizeof(at), t - range(g, 1000, 300000));
	put(g, t, K_ANVIL, "postfix/anvil[%d]: statistics: max connection rate "
	    "%u/60s for (smtp:%s) at %s", g->anvil_pid, range(g, 1, 12),
	    g->last_client, at);
	put(g, t, K_ANVIL, "postfix/anvil[%d]: statistics: max connection count "
	    "%u for (smtp:%s) at %s", g->anvil_pid, range(g, 1, 3),
	    g->last_client, at);
	put(g, t, K_ANVIL, "postfix/anvil[%d]: statistics: max cache size %u at %s",
	    g->anvil_pid, range(g, 2, 40), at);
}

/* ------------------------------------------------------------------ */
/* Attacks                                                             */

enum svc { SVC_SMTP, SVC_SUBMISSION, SVC_SMTPS };

static const char *const svc_tag[3] = {
	"postfix/smtpd", "postfix/submission/smtpd", "postfix/smtps/smtpd",
};

static struct pool *svc_pool(struct gen *g, int svc)
{
	return svc == SVC_SMTP ? &g->smtpd : svc == SVC_SUBMISSION ? &g->submission
								   : &g->smtps;
}

/*
 * One SMTP connection with k failed AUTH attempts. reason: 0 LOGIN with
 * the last challenge ("Password:"), 1 LOGIN "authentication failure",
 * 2 PLAIN "authentication failure". Returns the end time.
 */
static uint64_t conn_sasl(struct gen *g, uint64_t t, const struct peer *p,
			  int role, int svc, int pid, unsigned k, int reason)
{
	const char *tag = svc_tag[svc];
	struct cmds c = { 0 };
	char cmdbuf[160];
	unsigned i;

	if (rdns_warning(p)) {
		char dyn[64];

		dyn_name(p, dyn, sizeof(dyn));
		put(g, t, A_SESSION, "%s[%d]: warning: hostname %s does not resolve "
		    "to address %s: Name or service not known", tag, pid, dyn, p->ip);
	}
	put(g, t, A_SESSION, "%s[%d]: connect from unknown[%s]", tag, pid, p->ip);
	snprintf(g->last_client, sizeof(g->last_client), "%s", p->ip);
	c.ehlo = 1;
	if (svc == SVC_SUBMISSION && chance(g, 500)) {
		t += range(g, 100, 800);
		put(g, t, A_SESSION, "%s[%d]: Anonymous TLS connection established "
		    "from unknown[%s]: %s", tag, pid, p->ip, tls_desc(g));
		c.ehlo = 2;
		c.starttls = 1;
	}
	for (i = 0; i < k; i++) {
		t += range(g, 1500, 4500);
		put_tr(g, t, A_SASL, T_AUTH, role, p,
		       "%s[%d]: warning: unknown[%s]: SASL %s authentication failed: %s",
		       tag, pid, p->ip, reason == 2 ? "PLAIN" : "LOGIN",
		       reason == 0 ? "UGFzc3dvcmQ6" : "authentication failure");
	}
	c.auth = k;
	t += range(g, 5, 400);
	if (chance(g, 500)) {
		put(g, t, A_SESSION, "%s[%d]: lost connection after AUTH from unknown[%s]",
		    tag, pid, p->ip);
	} else {
		c.quit = 1;
	}
	fmt_cmds(cmdbuf, sizeof(cmdbuf), &c);
	put(g, t, A_SESSION, "%s[%d]: disconnect from unknown[%s]%s", tag, pid, p->ip, cmdbuf);
	return t;
}

/* One IMAP/POP3 connection with k failed logins: k PAM lines, then the
 * login process's disconnect line. */
static uint64_t conn_dovecot(struct gen *g, uint64_t t, const struct peer *p,
			     int role, int pop, unsigned k)
{
	char sid[20];
	const char *user = "admin";
	uint64_t t0 = t;
	unsigned i;

	session_id(g, sid, 16);
	for (i = 0; i < k; i++) {
		t += range(g, 800, 4000);
		user = guess_names[pick(g, NGUESS)];
		if (chance(g, 250))
			put_tr(g, t, A_PAM, T_AUTH, role, p,
			       "dovecot[%d]: auth-worker(%d): pam(%s,%s,<%s>): "
			       "pam_authenticate() failed: User not known to the "
			       "underlying authentication module", g->dovecot_pid,
			       g->auth_worker[pick(g, 2)], user, p->ip, sid);
		else
			put_tr(g, t, A_PAM, T_AUTH, role, p,
			       "dovecot[%d]: auth-worker(%d): pam(%s,%s,<%s>): "
			       "pam_authenticate() failed: Authentication failure "
			       "(Password mismatch?)", g->dovecot_pid,
			       g->auth_worker[pick(g, 2)], user, p->ip, sid);
		t += 2000;	/* auth_failure_delay */
	}
	t += range(g, 10, 1500);
	switch (pick(g, 6)) {
	case 0:
		put(g, t, A_LOGIN_FAIL, "dovecot[%d]: %s-login: Disconnected: Aborted "
		    "login by logging out (auth failed, %u attempts in %u secs): "
		    "user=<%s>, method=PLAIN, rip=%s, lip=%s, TLS, session=<%s>",
		    g->dovecot_pid, pop ? "pop3" : "imap", k, (unsigned)((t - t0) / 1000),
		    user, p->ip, lip(p), sid);
		break;
	case 1:
		put(g, t, A_LOGIN_FAIL, "dovecot[%d]: %s-login: Disconnected: "
		    "Inactivity (auth failed, %u attempts in %u secs): user=<%s>, "
		    "method=PLAIN, rip=%s, lip=%s, session=<%s>",
		    g->dovecot_pid, pop ? "pop3" : "imap", k, (unsigned)((t - t0) / 1000),
		    user, p->ip, lip(p), sid);
		break;
	default:
		put(g, t, A_LOGIN_FAIL, "dovecot[%d]: %s-login: Disconnected: "
		    "Connection closed (auth failed, %u attempts in %u secs): "
		    "user=<%s>, method=PLAIN, rip=%s, lip=%s, TLS, session=<%s>",
		    g->dovecot_pid, pop ? "pop3" : "imap", k, (unsigned)((t - t0) / 1000),
		    user, p->ip, lip(p), sid);
		break;
	}
	return t;
}

/* Number of attempts in a fast campaign: mostly tens, some hundreds. */
static unsigned campaign_size(struct gen *g)
{
	unsigned n = range(g, 10, 70);

	if (chance(g, 250))
		n += pick(g, 250);
	return n;
}

static void sc_sasl_fast(struct gen *g, uint64_t t)
{
	struct peer p;
	int svc = chance(g, 500) ? SVC_SMTP : chance(g, 700) ? SVC_SUBMISSION : SVC_SMTPS;
	int reason = (int)pick(g, 3);
	unsigned left = campaign_size(g), gap = range(g, 1000, 25000);
	struct pool *pl = svc_pool(g, svc);
	int pid;

	peer_fast(g, &p);
	pid = pool_get(g, pl, t, t + 1);
	while (left) {
		unsigned k = chance(g, 750) ? 1 : range(g, 2, 3);
		uint64_t end;

		if (k > left)
			k = left;
		end = conn_sasl(g, t, &p, R_FAST, svc, pid, k, reason);
		left -= k;
		t = end + range(g, 200, gap);
	}
	/* the process served the whole campaign */
	pool_hold(pl, pid, t);
}

static void sc_dovecot_fast(struct gen *g, uint64_t t)
{
	struct peer p;
	int pop = chance(g, 300);
	unsigned left = campaign_size(g), gap = range(g, 1000, 25000);

	peer_fast(g, &p);
	while (left) {
		unsigned k = chance(g, 700) ? 1 : range(g, 2, 3);

		if (k > left)
			k = left;
		t = conn_dovecot(g, t, &p, R_FAST, pop, k);
		t += range(g, 200, gap);
		left -= k;
	}
}

/* Distributed guessing: one attempt from one address, never two within
 * GATE_MS from the same address. */
static void sc_slow(struct gen *g, uint64_t t)
{
	struct peer p;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		peer_v4(&p, V4_SLOW + pick(g, V4_HARVEST - V4_SLOW));
		if (gate_ok(g, "A", p.ip, t))
			break;
	}
	if (tries == 8)
		return;
	if (chance(g, 550)) {
		int svc = chance(g, 500) ? SVC_SUBMISSION : SVC_SMTP;
		int reason = (int)pick(g, 3);
		int pid = pool_get(g, svc_pool(g, svc), t, t + 6000);

		conn_sasl(g, t, &p, R_SLOW, svc, pid, 1, reason);
	} else {
		conn_dovecot(g, t, &p, R_SLOW, chance(g, 300), 1);
	}
}

/* IPv6 guesser with a fresh address of its /64 for every attempt. */
static void sc_rotate(struct gen *g, uint64_t t)
{
	unsigned net = pick(g, 4), left = range(g, 20, 120);
	int dove = chance(g, 500);
	struct peer p;

	p.v6 = 1;
	snprintf(p.name, sizeof(p.name), "unknown");
	snprintf(p.pfx, sizeof(p.pfx), "2001:db8:f00d:%x::/64", net);
	while (left--) {
		unsigned h1 = range(g, 1, 0xffff), h2 = pick(g, 0x10000);
		unsigned h3 = pick(g, 0x10000), h4 = range(g, 1, 0xffff);

		snprintf(p.ip, sizeof(p.ip), "2001:db8:f00d:%x:%x:%x:%x:%x", net,
			 h1, h2, h3, h4);
		if (dove)
			t = conn_dovecot(g, t, &p, R_ROTATE, 0, 1);
		else
			t = conn_sasl(g, t, &p, R_ROTATE, SVC_SUBMISSION,
				      pool_get(g, &g->submission, t, t + 6000), 1, 0);
		t += range(g, 2000, 40000);
	}
}

static void sc_harvest(struct gen *g, uint64_t t)
{
	struct peer p;
	unsigned sessions = range(g, 2, 8), s;
	char helo[64], from[96], word[16];

	if (chance(g, 150))
		peer_v6(&p, "beef", 0, range(g, 1, 8));
	else
		peer_v4(&p, V4_HARVEST + pick(g, V4_RSET - V4_HARVEST));
	switch (pick(g, 3)) {
	case 0:
		random_word(g, word, 6, 10);
		snprintf(helo, sizeof(helo), "WIN-%s", word);
		break;
	case 1:
		snprintf(helo, sizeof(helo), "[%s]", p.ip);
		break;
	default:
		random_word(g, word, 4, 8);
		snprintf(helo, sizeof(helo), "%s.example.net", word);
		break;
	}
	for (s = 0; s < sessions; s++) {
		struct cmds c = { 0 };
		char cmdbuf[160];
		unsigned r = range(g, 5, 30), i, cut = r > 20;
		uint64_t end = t + 1000ULL * r + 5000;
		int pid = pool_get(g, &g->smtpd, t, end);

		if (cut)
			r = 20;
		if (chance(g, 300))
			snprintf(from, sizeof(from), "%s", "");
		else {
			random_word(g, word, 4, 9);
			snprintf(from, sizeof(from), "%s@example.net", word);
		}
		put(g, t, A_SESSION, "postfix/smtpd[%d]: connect from unknown[%s]", pid, p.ip);
		snprintf(g->last_client, sizeof(g->last_client), "%s", p.ip);
		for (i = 0; i < r; i++) {
			char local[40];

			if (chance(g, 400))
				snprintf(local, sizeof(local), "%s", guess_names[pick(g, NGUESS)]);
			else {
				random_word(g, word, 3, 7);
				snprintf(local, sizeof(local), "%c.%s", 'a' + (int)pick(g, 26), word);
			}
			if (strchr(local, '@'))
				*strchr(local, '@') = '\0';
			t += range(g, 200, 1500);
			put_tr(g, t, A_HARVEST, T_RCPT, R_HARVEST, &p,
			       "postfix/smtpd[%d]: NOQUEUE: reject: RCPT from unknown[%s]: "
			       "550 5.1.1 <%s@example.org>: Recipient address rejected: "
			       "User unknown in local recipient table; from=<%s> "
			       "to=<%s@example.org> proto=ESMTP helo=<%s>",
			       pid, p.ip, local, from, local, helo);
		}
		c.ehlo = 1;
		c.mail = 1;
		c.rcpt = r;
		t += range(g, 10, 800);
		if (cut) {
			put(g, t, A_TOOMANY, "postfix/smtpd[%d]: too many errors after "
			    "RCPT from unknown[%s]", pid, p.ip);
		} else {
			c.quit = 1;
			if (chance(g, 300))
				c.rset = 1;
		}
		fmt_cmds(cmdbuf, sizeof(cmdbuf), &c);
		put(g, t, A_SESSION, "postfix/smtpd[%d]: disconnect from unknown[%s]%s",
		    pid, p.ip, cmdbuf);
		t += range(g, 3000, 90000);
	}
}

static void sc_rset(struct gen *g, uint64_t t)
{
	struct peer p;
	unsigned sessions = range(g, 5, 25), s;

	peer_v4(&p, V4_RSET + pick(g, V4_PROBE - V4_RSET));
	for (s = 0; s < sessions; s++) {
		struct cmds c = { 0 };
		char cmdbuf[160];
		int pid = pool_get(g, &g->smtpd, t, t + 20000);

		put(g, t, A_SESSION, "postfix/smtpd[%d]: connect from unknown[%s]", pid, p.ip);
		c.ehlo = 1;
		c.rset = range(g, 5, 50);
		if (chance(g, 500)) {
			c.mail = range(g, 1, 4);
			c.rcpt = c.mail;
			c.rcpt_ok = 0;
		}
		if (chance(g, 300))
			c.noop = range(g, 1, 10);
		t += range(g, 2000, 15000);
		if (chance(g, 200))
			put(g, t - 100, A_RSET, "postfix/smtpd[%d]: improper command "
			    "pipelining after RSET from unknown[%s]: RSET", pid, p.ip);
		c.quit = 1;
		fmt_cmds(cmdbuf, sizeof(cmdbuf), &c);
		put(g, t, A_RSET, "postfix/smtpd[%d]: disconnect from unknown[%s]%s",
		    pid, p.ip, cmdbuf);
		t += range(g, 5000, 60000);
	}
}

static void sc_probe(struct gen *g, uint64_t t)
{
	struct peer p;
	unsigned n = range(g, 1, 5), i;

	peer_v4(&p, V4_PROBE + pick(g, V4_END - V4_PROBE));
	for (i = 0; i < n; i++) {
		char sid[20];
		int pid;

		switch (pick(g, 4)) {
		case 0:
			pid = pool_get(g, &g->smtpd, t, t + 2000);
			put(g, t, A_PROBE, "postfix/smtpd[%d]: connect from unknown[%s]", pid, p.ip);
			t += range(g, 100, 1500);
			put(g, t, A_PROBE, "postfix/smtpd[%d]: lost connection after "
			    "CONNECT from unknown[%s]", pid, p.ip);
			put(g, t, A_PROBE, "postfix/smtpd[%d]: disconnect from unknown[%s] "
			    "commands=0/0", pid, p.ip);
			break;
		case 1:
			pid = pool_get(g, &g->smtpd, t, t + 2000);
			put(g, t, A_PROBE, "postfix/smtpd[%d]: connect from unknown[%s]", pid, p.ip);
			t += range(g, 100, 1500);
			put(g, t, A_PROBE, "postfix/smtpd[%d]: warning: non-SMTP command "
			    "from unknown[%s]: GET / HTTP/1.1", pid, p.ip);
			put(g, t, A_PROBE, "postfix/smtpd[%d]: disconnect from unknown[%s] "
			    "unknown=0/1 commands=0/1", pid, p.ip);
			break;
		case 2:
			session_id(g, sid, 16);
			put(g, t, A_PROBE, "dovecot[%d]: imap-login: Disconnected: "
			    "Connection closed (no auth attempts in 0 secs): user=<>, "
			    "rip=%s, lip=%s, session=<%s>", g->dovecot_pid, p.ip, lip(&p), sid);
			break;
		default:
			session_id(g, sid, 16);
			put(g, t, A_PROBE, "dovecot[%d]: pop3-login: Disconnected: "
			    "Connection closed: SSL_accept() failed: error:0A00010B:SSL "
			    "routines::wrong version number (no auth attempts in 0 secs): "
			    "user=<>, rip=%s, lip=%s, TLS handshaking: SSL_accept() failed: "
			    "error:0A00010B:SSL routines::wrong version number, session=<%s>",
			    g->dovecot_pid, p.ip, lip(&p), sid);
			break;
		}
		t += range(g, 500, 20000);
	}
}

/* ------------------------------------------------------------------ */
/* Streams                                                             */

typedef void scenario_fn(struct gen *, uint64_t);

struct scen {
	scenario_fn *fn;
	unsigned share;		/* per mille of the stream's lines */
	unsigned mean_lines;	/* rough lines per run, to turn shares into weights */
	unsigned weight;
};

static void sc_imap(struct gen *g, uint64_t t) { sc_mailbox(g, t, 0); }
static void sc_pop(struct gen *g, uint64_t t) { sc_mailbox(g, t, 1); }

static struct scen ordinary[] = {
	{ sc_inbound,	 440, 12, 0 },
	{ sc_submission, 140, 10, 0 },
	{ sc_pickup,	  40,  5, 0 },
	{ sc_imap,	 300,  2, 0 },
	{ sc_pop,	  80,  2, 0 },
};

static struct scen attacks[] = {
	{ sc_sasl_fast,	   330, 280, 0 },
	{ sc_dovecot_fast, 250, 130, 0 },
	{ sc_slow,	   100,   4, 0 },
	{ sc_rotate,	    50, 230, 0 },
	{ sc_harvest,	   150,  90, 0 },
	{ sc_rset,	    60,  33, 0 },
	{ sc_probe,	    60,   7, 0 },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void weigh(struct scen *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		s[i].weight = s[i].share * 1000 / s[i].mean_lines;
}

static void run_one(struct gen *g, struct scen *s, size_t n, uint64_t t)
{
	unsigned total = 0, r;
	size_t i;

	for (i = 0; i < n; i++)
		total += s[i].weight;
	r = pick(g, total);
	for (i = 0; i < n; i++) {
		if (r < s[i].weight)
			break;
		r -= s[i].weight;
	}
	s[i < n ? i : n - 1].fn(g, t);
}

/*
 * Next start on a stream: uniform gap with the mean that makes the stream
 * produce its target lines per second, learnt from the lines its
 * scenarios have scheduled so far.
 */
static uint64_t next_gap(struct gen *g, int stream, uint64_t milli_lps)
{
	uint64_t mean_ms;

	if (milli_lps == 0)
		return UINT64_MAX / 4;
	mean_ms = (g->sched_lines[stream] * 1000000ULL) /
		  (g->sched_scen[stream] * milli_lps);
	if (mean_ms < 1)
		mean_ms = 1;
	if (mean_ms > 1000000000ULL)
		mean_ms = 1000000000ULL;
	return pick(g, (unsigned)(2 * mean_ms)) + 1;
}

/* ------------------------------------------------------------------ */
/* Report                                                              */

static void pct(char *buf, size_t len, uint64_t part, uint64_t whole)
{
	uint64_t p = whole ? (part * 1000 + whole / 2) / whole : 0;

	snprintf(buf, len, "%" PRIu64 ".%" PRIu64, p / 10, p % 10);
}

static void report(struct gen *g, uint64_t n, uint64_t seed, uint64_t last_t)
{
	uint64_t ord = 0, att = 0, auth_lines = 0;
	unsigned blocked[2] = { 0, 0 }, by_win[LIMIT + 1] = { 0 };
	unsigned role_addr[R_COUNT] = { 0 }, role_block[R_COUNT] = { 0 };
	unsigned pfx_block = 0, pfx_rot = 0, rcpt_block = 0, rcpt_addr = 0;
	unsigned rcpt_legit_block = 0;
	char a[32], b[32], first[32], last[32];
	size_t i;
	int k;

	for (k = 0; k < K_COUNT; k++) {
		if (kinds[k].attack)
			att += g->count[k];
		else
			ord += g->count[k];
	}
	auth_lines = g->count[A_SASL] + g->count[A_PAM] + g->count[K_TYPO_AUTH];
	for (i = 0; i < g->tcap; i++) {
		const struct tent *e = &g->tab[i];

		if (!e->key[0] || !e->total)
			continue;
		if (e->key[0] == 'A') {
			int v6 = strchr(e->key, ':') != NULL;

			by_win[e->maxwin]++;
			role_addr[e->role]++;
			if (e->maxwin >= LIMIT) {
				blocked[v6]++;
				role_block[e->role]++;
			}
		} else if (e->key[0] == 'P') {
			if (e->maxwin >= LIMIT) {
				pfx_block++;
				pfx_rot += e->role == R_ROTATE;
			}
		} else if (e->key[0] == 'R') {
			rcpt_addr++;
			if (e->maxwin >= LIMIT) {
				rcpt_block++;
				rcpt_legit_block += e->role == R_LEGIT;
			}
		}
	}

	fmt_3164(g, first, sizeof(first), 0);
	fmt_3164(g, last, sizeof(last), last_t);
	fprintf(stderr, "gen: %" PRIu64 " lines, seed %" PRIu64 ", %s .. %s "
		"(%" PRIu64 " s of log)\n", n, seed, first, last, last_t / 1000);
	fprintf(stderr, "  %-48s %9s %6s\n", "kind", "lines", "%");
	for (int pass = 0; pass < 2; pass++) {
		pct(a, sizeof(a), pass ? att : ord, g->emitted);
		fprintf(stderr, "  %-48s %9" PRIu64 " %6s\n",
			pass ? "attack traffic" : "ordinary traffic",
			pass ? att : ord, a);
		for (k = 0; k < K_COUNT; k++) {
			if (kinds[k].attack != pass)
				continue;
			pct(b, sizeof(b), g->count[k], g->emitted);
			fprintf(stderr, "    %-46s %9" PRIu64 " %6s\n", kinds[k].name,
				g->count[k], b);
		}
	}
	fprintf(stderr, "auth failures: %" PRIu64 " attempts (SASL failed + PAM failed "
		"lines) from %u addresses\n", auth_lines,
		by_win[1] + by_win[2] + by_win[3] + by_win[4] + by_win[5]);
	for (i = 0; i < R_COUNT; i++)
		if (role_addr[i] && i != R_HARVEST)
			fprintf(stderr, "  %-24s %6u addresses, %5u reach %d in %d s\n",
				role_names[i], role_addr[i], role_block[i], LIMIT, WINDOW_S);
	fprintf(stderr, "  should be blocked at %d auth failures in %d s: %u "
		"addresses (IPv4 %u, IPv6 %u)\n", LIMIT, WINDOW_S,
		blocked[0] + blocked[1], blocked[0], blocked[1]);
	fprintf(stderr, "  most in any %d s, per address: 1: %u, 2: %u, 3: %u, 4: %u, "
		">=5: %u (2-4 only from fast campaigns cut by -n)\n", WINDOW_S,
		by_win[1], by_win[2], by_win[3], by_win[4], by_win[5]);
	fprintf(stderr, "  IPv6 /64 prefixes reaching %d in %d s: %u (%u only by "
		"rotating addresses: a prefix rule catches them, an address rule cannot)\n",
		LIMIT, WINDOW_S, pfx_block, pfx_rot);
	fprintf(stderr, "recipient rejects: %" PRIu64 " harvest + %" PRIu64 " typo "
		"lines from %u addresses; %u reach %d in %d s (%u of them legitimate)\n",
		g->count[A_HARVEST], g->count[K_TYPO_RCPT], rcpt_addr, rcpt_block,
		LIMIT, WINDOW_S, rcpt_legit_block);
	fprintf(stderr, "expect: lines=%" PRIu64 " attack_lines=%" PRIu64
		" auth_attempts=%" PRIu64 " auth_block=%u auth_block4=%u"
		" auth_block6=%u prefix_block=%u rcpt_block=%u\n",
		g->emitted, att, auth_lines, blocked[0] + blocked[1], blocked[0],
		blocked[1], pfx_block, rcpt_block);
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f, "usage: gen [-n LINES] [-s SEED] [-r LINES_PER_SEC] "
		"[-a ATTACK_PERCENT] [-i] [-t START] [-o FILE]\n"
		"  -n  lines to write (default 1000000)\n"
		"  -s  PRNG seed (default 1); same arguments, same bytes\n"
		"  -r  mean log lines per second of log time (default 12)\n"
		"  -a  percent of lines from attacks (default 12)\n"
		"  -i  RFC 3339 timestamps instead of RFC 3164\n"
		"  -t  Unix time of the first line (default 1795305600: "
		"2026-11-22 00:00:00 UTC)\n"
		"  -o  output file (default stdout)\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*v = x;
	return 0;
}

int main(int argc, char **argv)
{
	static struct gen gen;
	struct gen *g = &gen;
	uint64_t n = 1000000, seed = 1, rate = 12, attack_pct = 12;
	uint64_t next[2], ord_mlps, att_mlps, next_anvil, last_t = 0;
	const char *outpath = NULL;
	static char obuf[1 << 20];
	int c;

	g->start_s = DEFAULT_START;
	while ((c = getopt(argc, argv, "n:s:r:a:it:o:h")) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, &n) < 0)
				goto bad;
			break;
		case 's':
			if (parse_u64(optarg, &seed) < 0)
				goto bad;
			break;
		case 'r':
			if (parse_u64(optarg, &rate) < 0 || rate == 0 || rate > 1000000)
				goto bad;
			break;
		case 'a':
			if (parse_u64(optarg, &attack_pct) < 0 || attack_pct > 100)
				goto bad;
			break;
		case 'i':
			g->iso = 1;
			break;
		case 't':
			/* up to year 9999, so that stamps keep their width */
			if (parse_u64(optarg, &g->start_s) < 0 || g->start_s > 253402300799ULL)
				goto bad;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;

	g->out = stdout;
	if (outpath && !(g->out = fopen(outpath, "w"))) {
		fprintf(stderr, "gen: cannot open '%s': %s\n", outpath, strerror(errno));
		return 1;
	}
	setvbuf(g->out, obuf, _IOFBF, sizeof(obuf));

	g->rng = seed;
	g->next_pid = 800;
	g->dovecot_pid = new_pid(g);
	g->auth_worker[0] = new_pid(g);
	g->auth_worker[1] = new_pid(g);
	g->next_pid = 1200;
	g->qmgr_pid = new_pid(g);
	g->pickup_pid = new_pid(g);
	g->anvil_pid = new_pid(g);
	pool_init(g, &g->smtpd, 6, 100);
	pool_init(g, &g->submission, 2, 100);
	pool_init(g, &g->smtps, 1, 100);
	pool_init(g, &g->cleanup, 3, 100);
	pool_init(g, &g->lmtp, 2, 100);
	pool_init(g, &g->smtp, 3, 100);
	pool_init(g, &g->local, 1, 100);
	pool_init(g, &g->bounce, 1, 100);
	weigh(ordinary, NELEM(ordinary));
	weigh(attacks, NELEM(attacks));

	/* priors for the adaptive gaps: lines per scenario */
	g->sched_lines[0] = 6 * 10;
	g->sched_scen[0] = 10;
	g->sched_lines[1] = 60 * 10;
	g->sched_scen[1] = 10;
	ord_mlps = rate * (100 - attack_pct) * 10;	/* milli-lines per second */
	att_mlps = rate * attack_pct * 10;
	next[0] = 0;
	next[1] = att_mlps ? pick(g, 60000) : UINT64_MAX / 4;
	if (!ord_mlps)
		next[0] = UINT64_MAX / 4;
	next_anvil = 600000;

	while (g->emitted < n) {
		uint64_t start = next[0] < next[1] ? next[0] : next[1];

		if (next_anvil < start)
			start = next_anvil;
		if (g->hlen == 0 || start <= g->heap[0]->t) {
			if (start == next_anvil) {
				g->stream = 0;
				anvil_stats(g, start);
				next_anvil += range(g, 600000, 900000);
			} else if (start == next[0]) {
				g->stream = 0;
				run_one(g, ordinary, NELEM(ordinary), start);
				g->sched_scen[0]++;
				next[0] += next_gap(g, 0, ord_mlps);
			} else {
				g->stream = 1;
				run_one(g, attacks, NELEM(attacks), start);
				g->sched_scen[1]++;
				next[1] += next_gap(g, 1, att_mlps);
			}
			continue;
		}
		{
			struct line *l = heap_pop(g);

			last_t = l->t;
			emit(g, l);
		}
	}
	if (fflush(g->out) != 0 || ferror(g->out) ||
	    (outpath && fclose(g->out) != 0)) {
		fprintf(stderr, "gen: write error: %s\n", strerror(errno));
		return 1;
	}
	report(g, n, seed, last_t);
	while (g->hlen)
		free(heap_pop(g));
	free(g->heap);
	free(g->tab);
	return 0;

bad:
	usage(stderr);
	return 2;
}
