// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stats - see stats.h. A bucket's slot in its ring is its start divided
 * by its length, modulo the ring's size; a slot whose start is not the
 * period asked for holds an older period and is cleared before use. An
 * event goes into its minute, its hour and its local day at once, so the
 * rings never need to be rolled up. The day is a bucket of its own (the
 * current one and the one before), from local midnight to local
 * midnight: a day of a zone whose offset is not whole hours, or of 23 or
 * 25 hours, is not made of the UTC hour buckets.
 *
 * A bucket as a line (stats_dump, stats_restore):
 *   m|h|d START END e=N,N,... x=EXEMPT d=DROPS b=MADE,LIFTED s=NAME:N;... o=NAME:MADE:LIFTED;...
 *       a=KEY:COUNT:ERR;... u=KEY:COUNT:ERR;...
 * with every byte of a name or key outside [A-Za-z0-9._@+/-] as %XX.
 */
#include "stats.h"
#include "hex.h"
#include "jsonw.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct stats {
	struct stats_bucket min[STATS_MINUTES];
	struct stats_bucket hour[STATS_HOURS];
	struct stats_bucket day[2];     /* the current local day, the one before */
	uint64_t day_start, day_end;    /* the local day last asked for (localtime is not free) */
};

int stats_periods_parse(const char *v, unsigned *mask, char *err, size_t errlen)
{
	static const char *const names[] = { "minute", "hour", "day" };

	*mask = 0;
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, " \t,"), i;
		for (i = 0; n && i < 3; i++)
			if (strlen(names[i]) == n && strncmp(p, names[i], n) == 0)
				break;
		if (n && i == 3 && !(n == 4 && strncmp(p, "none", 4) == 0))
			return errf(err, errlen, "'%.*s' is not a period (give any of minute hour day, or none)", (int)n,
				    p);
		if (n && i < 3)
			*mask |= 1U << i;
		p += n;
		p += strspn(p, " \t,");
	}
	return 0;
}

void stats_day_bounds(uint64_t t_ms, uint64_t *start_ms, uint64_t *end_ms)
{
	time_t t = (time_t)(t_ms / 1000), a, b;
	struct tm tm;

	if (!localtime_r(&t, &tm))
		goto utc;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	a = mktime(&tm);
	tm.tm_mday++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	b = mktime(&tm);
	/* a midnight that does not exist (a change of offset at 00:00) is
	 * moved by mktime: the day still holds t */
	if (a == (time_t)-1 || b == (time_t)-1 || (uint64_t)a * 1000 > t_ms || (uint64_t)b * 1000 <= t_ms)
		goto utc;
	*start_ms = (uint64_t)a * 1000;
	*end_ms = (uint64_t)b * 1000;
	return;
utc:
	*start_ms = t_ms / STATS_DAY_MS * STATS_DAY_MS;
	*end_ms = *start_ms + STATS_DAY_MS;
}

unsigned stats_periods_ending(uint64_t end_ms)
{
	unsigned mask = 0;
	uint64_t a, b;

	if (end_ms % STATS_MINUTE_MS)
		return 0;
	mask |= STATS_PERIOD_MINUTE;
	if (end_ms % STATS_HOUR_MS == 0)
		mask |= STATS_PERIOD_HOUR;
	stats_day_bounds(end_ms, &a, &b);
	if (a == end_ms)
		mask |= STATS_PERIOD_DAY;
	return mask;
}

struct stats *stats_new(void)
{
	return xcalloc(1, sizeof(struct stats));
}

void stats_free(struct stats *s)
{
	free(s);
}

static struct stats_bucket *slot(struct stats_bucket *ring, size_t n, uint64_t len, uint64_t now_ms)
{
	uint64_t start = now_ms / len * len;
	struct stats_bucket *b = &ring[(now_ms / len) % n];

	if (b->start_ms != start) {
		memset(b, 0, sizeof *b);
		b->start_ms = start;
		b->end_ms = start + len;
	}
	return b;
}

/* name_add with a name already made printable (text_sanitize) */
static void name_put(struct stats_name *v, size_t *n, const char *buf, uint64_t dn, uint64_t dm)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(v[i].name, buf) == 0)
			break;
	if (i == *n) {
		if (*n == STATS_NAMES - 1 && strcmp(buf, "other") != 0) {
			/* the last slot is "other" */
			name_put(v, n, "other", dn, dm);
			return;
		}
		if (*n == STATS_NAMES) {
			i = STATS_NAMES - 1;
		} else {
			snprintf(v[i].name, sizeof v[i].name, "%s", buf);
			v[i].n = v[i].m = 0;
			(*n)++;
		}
	}
	v[i].n += dn;
	v[i].m += dm;
}

static void name_add(struct stats_name *v, size_t *n, const char *name, size_t len, uint64_t dn, uint64_t dm)
{
	char buf[STATS_NAMELEN];

	text_sanitize(buf, sizeof buf, name, len);
	name_put(v, n, buf, dn, dm);
}

/* Space-saving: a key not tracked takes the least counted slot when all
 * are taken, inheriting its count. */
static void top_add(struct stats_top *v, size_t *n, const char *key, uint64_t w)
{
	size_t i, min = 0;

	for (i = 0; i < *n; i++) {
		if (strcmp(v[i].key, key) == 0) {
			v[i].count += w;
			return;
		}
		if (v[i].count < v[min].count)
			min = i;
	}
	if (*n < STATS_TOPCAP) {
		i = (*n)++;
		v[i].count = 0;
		v[i].err = 0;
	} else {
		i = min;
		v[i].err = v[i].count;  /* what it may have had before */
	}
	snprintf(v[i].key, sizeof v[i].key, "%s", key);
	v[i].count += w;
}

/* The local day's bucket of now_ms: the current one, moved to day[1]
 * when a new day begins. */
static struct stats_bucket *day_slot(struct stats *s, uint64_t now_ms)
{
	struct stats_bucket *b;

	if (now_ms < s->day_start || now_ms >= s->day_end)
		stats_day_bounds(now_ms, &s->day_start, &s->day_end);
	if (s->day[0].start_ms == s->day_start)
		return &s->day[0];
	if (s->day[1].start_ms == s->day_start)
		return &s->day[1];      /* the clock went back a day */
	b = &s->day[0];
	if (s->day[0].start_ms < s->day_start)
		s->day[1] = s->day[0];
	else
		b = &s->day[1];         /* older than the current one */
	memset(b, 0, sizeof *b);
	b->start_ms = s->day_start;
	b->end_ms = s->day_end;
	return b;
}

#define NSLOTS 3

/* The buckets an event at now_ms counts in: its minute, hour, day. */
static void slots(struct stats *s, uint64_t now_ms, struct stats_bucket *out[NSLOTS])
{
	out[0] = slot(s->min, STATS_MINUTES, STATS_MINUTE_MS, now_ms);
	out[1] = slot(s->hour, STATS_HOURS, STATS_HOUR_MS, now_ms);
	out[2] = day_slot(s, now_ms);
}

bool stats_offence(enum ev_kind kind)
{
	return kind != EV_CONNECT && kind != EV_DISCONNECT && kind != EV_AUTH_OK;
}

/* On the daemon's hot path: each name is made printable once, not once
 * per bucket. */
void stats_event(struct stats *s, uint64_t now_ms, enum ev_kind kind, const char *service, size_t slen,
		 const char *addr, const char *user, size_t ulen, uint64_t n)
{
	struct stats_bucket *b[NSLOTS];
	bool offence = stats_offence(kind);
	char ubuf[STATS_KEYLEN], sbuf[STATS_NAMELEN];

	if ((unsigned)kind >= EV_NKINDS || !n)
		return;
	if (user && offence)
		text_sanitize(ubuf, sizeof ubuf, user, ulen);
	if (service && slen)
		text_sanitize(sbuf, sizeof sbuf, service, slen);
	else
		snprintf(sbuf, sizeof sbuf, "unknown");
	slots(s, now_ms, b);
	for (int i = 0; i < NSLOTS; i++) {
		b[i]->events[kind] += n;
		name_put(b[i]->services, &b[i]->nservices, sbuf, n, 0);
		if (!offence)
			continue;
		if (addr)
			top_add(b[i]->addrs, &b[i]->naddrs, addr, n);
		if (user)
			top_add(b[i]->accounts, &b[i]->naccounts, ubuf, n);
	}
}

void stats_block(struct stats *s, uint64_t now_ms, const char *origin)
{
	struct stats_bucket *b[NSLOTS];

	slots(s, now_ms, b);
	for (int i = 0; i < NSLOTS; i++) {
		b[i]->made++;
		name_add(b[i]->origins, &b[i]->norigins, origin, strlen(origin), 1, 0);
	}
}

void stats_lift(struct stats *s, uint64_t now_ms, const char *origin)
{
	struct stats_bucket *b[NSLOTS];

	slots(s, now_ms, b);
	for (int i = 0; i < NSLOTS; i++) {
		b[i]->lifted++;
		name_add(b[i]->origins, &b[i]->norigins, origin, strlen(origin), 0, 1);
	}
}

void stats_exempt(struct stats *s, uint64_t now_ms, uint64_t n)
{
	struct stats_bucket *b[NSLOTS];

	if (!n)
		return;
	slots(s, now_ms, b);
	for (int i = 0; i < NSLOTS; i++)
		b[i]->exempt += n;
}

void stats_drops(struct stats *s, uint64_t now_ms, uint64_t packets)
{
	struct stats_bucket *b[NSLOTS];

	if (!packets)
		return;
	slots(s, now_ms, b);
	for (int i = 0; i < NSLOTS; i++)
		b[i]->drops += packets;
}

uint64_t stats_bucket_events(const struct stats_bucket *b)
{
	uint64_t n = 0;

	for (int k = 0; k < EV_NKINDS; k++)
		n += b->events[k];
	return n;
}

bool stats_bucket_empty(const struct stats_bucket *b)
{
	return !stats_bucket_events(b) && !b->made && !b->lifted && !b->exempt && !b->drops;
}

static int top_by_key(const void *a, const void *b)
{
	return strcmp(((const struct stats_top *)a)->key, ((const struct stats_top *)b)->key);
}

static int top_by_count(const void *a, const void *b)
{
	const struct stats_top *x = a, *y = b;
	uint64_t sx = x->count - x->err, sy = y->count - y->err;

	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* acc's and b's top keys summed; the STATS_TOPCAP highest kept, highest
 * first */
static void top_merge(struct stats_top *acc, size_t *nacc, const struct stats_top *b, size_t nb)
{
	struct stats_top all[2 * STATS_TOPCAP];
	size_t n = 0, k = 0;

	memcpy(all, acc, *nacc * sizeof *all);
	if (nb)
		memcpy(all + *nacc, b, nb * sizeof *all);
	n = *nacc + nb;
	qsort(all, n, sizeof *all, top_by_key);
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(all[k - 1].key, all[i].key) == 0) {
			all[k - 1].count += all[i].count;
			all[k - 1].err += all[i].err;
		} else {
			all[k++] = all[i];
		}
	}
	qsort(all, k, sizeof *all, top_by_count);
	*nacc = k < STATS_TOPCAP ? k : STATS_TOPCAP;
	memcpy(acc, all, *nacc * sizeof *all);
}

void stats_merge(struct stats_bucket *acc, const struct stats_bucket *b)
{
	if (!b->start_ms)
		return;
	if (!acc->start_ms || b->start_ms < acc->start_ms)
		acc->start_ms = b->start_ms;
	if (b->end_ms > acc->end_ms)
		acc->end_ms = b->end_ms;
	for (int k = 0; k < EV_NKINDS; k++)
		acc->events[k] += b->events[k];
	/* a bucket's names are printable already: escaped again, "\x01"
	 * would read "\x5cx01" */
	for (size_t i = 0; i < b->nservices; i++)
		name_put(acc->services, &acc->nservices, b->services[i].name, b->services[i].n, b->services[i].m);
	for (size_t i = 0; i < b->norigins; i++)
		name_put(acc->origins, &acc->norigins, b->origins[i].name, b->origins[i].n, b->origins[i].m);
	acc->made += b->made;
	acc->lifted += b->lifted;
	acc->exempt += b->exempt;
	acc->drops += b->drops;
	top_merge(acc->addrs, &acc->naddrs, b->addrs, b->naddrs);
	top_merge(acc->accounts, &acc->naccounts, b->accounts, b->naccounts);
}

static void sort_out(struct stats_bucket *out)
{
	top_merge(out->addrs, &out->naddrs, NULL, 0);
	top_merge(out->accounts, &out->naccounts, NULL, 0);
}

void stats_since(const struct stats *s, uint64_t now_ms, uint64_t since_ms, struct stats_bucket *out)
{
	bool minutes = since_ms + STATS_HOUR_MS > now_ms;
	const struct stats_bucket *ring = minutes ? s->min : s->hour;
	size_t n = minutes ? STATS_MINUTES : STATS_HOURS;
	uint64_t len = minutes ? STATS_MINUTE_MS : STATS_HOUR_MS;
	uint64_t from = since_ms / len * len;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++)
		if (ring[i].start_ms && ring[i].start_ms >= from && ring[i].start_ms <= now_ms &&
		    ring[i].start_ms + (uint64_t)n * len > now_ms)
			stats_merge(out, &ring[i]);
	sort_out(out);
	out->start_ms = from;
	out->end_ms = now_ms;
}

void stats_period(const struct stats *s, uint64_t start_ms, uint64_t len_ms, struct stats_bucket *out)
{
	const struct stats_bucket *ring = len_ms == STATS_MINUTE_MS ? s->min : s->hour;
	size_t n = len_ms == STATS_MINUTE_MS ? STATS_MINUTES : STATS_HOURS;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++)
		if (ring[i].start_ms && ring[i].start_ms >= start_ms && ring[i].end_ms <= start_ms + len_ms)
			stats_merge(out, &ring[i]);
	sort_out(out);
	out->start_ms = start_ms;
	out->end_ms = start_ms + len_ms;
}

void stats_day(const struct stats *s, uint64_t end_ms, struct stats_bucket *out)
{
	uint64_t a, b;

	for (int i = 0; i < 2; i++)
		if (s->day[i].start_ms && s->day[i].end_ms == end_ms) {
			*out = s->day[i];
			sort_out(out);
			return;
		}
	memset(out, 0, sizeof *out);
	stats_day_bounds(end_ms - 1, &a, &b);
	out->start_ms = a;
	out->end_ms = end_ms;
}

/* ---- persistence ---- */

static bool plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._@+/-", c);
}

static void put_esc(char **p, char *end, const char *s)
{
	for (; *s && *p + 4 < end; s++) {
		if (plain((unsigned char)*s)) {
			*(*p)++ = *s;
		} else {
			*p += snprintf(*p, (size_t)(end - *p), "%%%02X", (unsigned char)*s);
		}
	}
	**p = '\0';
}

static void put_lit(char **p, char *end, const char *s)
{
	size_t n = strlen(s);

	if (*p + n < end) {
		memcpy(*p, s, n + 1);
		*p += n;
	}
}

/* before, then v */
static void put_u(char **p, char *end, const char *before, unsigned long long v)
{
	char num[24];

	put_lit(p, end, before);
	snprintf(num, sizeof num, "%llu", v);
	put_lit(p, end, num);
}

static void dump_bucket(const struct stats_bucket *b, char type, stats_line_fn *fn, void *arg)
{
	/* at most (STATS_NAMES * 2 + STATS_TOPCAP * 2) names of 3x their size */
	char line[16384], *p = line, *end = line + sizeof line;

	if (stats_bucket_empty(b))
		return;
	p += snprintf(p, sizeof line, "%c %llu %llu e=", type, (unsigned long long)b->start_ms,
		      (unsigned long long)b->end_ms);
	for (int k = 0; k < EV_NKINDS; k++)
		put_u(&p, end, k ? "," : "", b->events[k]);
	put_u(&p, end, " x=", b->exempt);
	put_u(&p, end, " d=", b->drops);
	put_u(&p, end, " b=", b->made);
	put_u(&p, end, ",", b->lifted);
	put_lit(&p, end, " s=");
	for (size_t i = 0; i < b->nservices; i++) {
		put_esc(&p, end, b->services[i].name);
		put_u(&p, end, ":", b->services[i].n);
		put_lit(&p, end, ";");
	}
	put_lit(&p, end, " o=");
	for (size_t i = 0; i < b->norigins; i++) {
		put_esc(&p, end, b->origins[i].name);
		put_u(&p, end, ":", b->origins[i].n);
		put_u(&p, end, ":", b->origins[i].m);
		put_lit(&p, end, ";");
	}
	put_lit(&p, end, " a=");
	for (size_t i = 0; i < b->naddrs; i++) {
		put_esc(&p, end, b->addrs[i].key);
		put_u(&p, end, ":", b->addrs[i].count);
		put_u(&p, end, ":", b->addrs[i].err);
		put_lit(&p, end, ";");
	}
	put_lit(&p, end, " u=");
	for (size_t i = 0; i < b->naccounts; i++) {
		put_esc(&p, end, b->accounts[i].key);
		put_u(&p, end, ":", b->accounts[i].count);
		put_u(&p, end, ":", b->accounts[i].err);
		put_lit(&p, end, ";");
	}
	fn(arg, line);
}

void stats_dump(const struct stats *s, stats_line_fn *fn, void *arg)
{
	for (size_t i = 0; i < STATS_MINUTES; i++)
		dump_bucket(&s->min[i], 'm', fn, arg);
	for (size_t i = 0; i < STATS_HOURS; i++)
		dump_bucket(&s->hour[i], 'h', fn, arg);
	for (size_t i = 0; i < 2; i++)
		dump_bucket(&s->day[i], 'd', fn, arg);
}

/* %XX-unescape src[0..n) into dst (size len); false if malformed */
static bool unesc(const char *src, size_t n, char *dst, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return false;
			hi = hex_value(src[i + 1]);
			lo = hex_value(src[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (k + 1 >= len)
			return false;
		dst[k++] = c;
	}
	dst[k] = '\0';
	return text_printable(dst, k, NULL);
}

static bool get_num(const char **p, uint64_t *v)
{
	char *end;

	if (**p < '0' || **p > '9')
		return false;
	*v = strtoull(*p, &end, 10);
	*p = end;
	return true;
}

static void top_set(struct stats_top *v, size_t *n, const char *key, uint64_t count, uint64_t err)
{
	if (*n >= STATS_TOPCAP || err > count)
		return;
	snprintf(v[*n].key, sizeof v[*n].key, "%s", key);
	v[*n].count = count;
	v[(*n)++].err = err;
}

/* A saved name was made printable (ASCII) when it was counted: kept as
 * it is; one that is not (a damaged state) is made so. */
static void name_restore(struct stats_name *v, size_t *n, const char *name, uint64_t dn, uint64_t dm)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f) {
			name_add(v, n, name, len, dn, dm);
			return;
		}
	name_put(v, n, name, dn, dm);
}

/* "NAME:N;" or "NAME:N:M;" items up to the end of the token */
static bool items(const char *p, const char *end, int nums, struct stats_bucket *b, char what)
{
	while (p < end) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		char name[STATS_KEYLEN];
		uint64_t n = 0, m = 0;
		if (!colon || !unesc(p, (size_t)(colon - p), name, sizeof name))
			return false;
		p = colon + 1;
		if (!get_num(&p, &n))
			return false;
		if (nums == 2 && (*p++ != ':' || !get_num(&p, &m)))
			return false;
		if (*p++ != ';')
			return false;
		if (what == 's')
			name_restore(b->services, &b->nservices, name, n, 0);
		else if (what == 'o')
			name_restore(b->origins, &b->norigins, name, n, m);
		else if (what == 'a')
			top_set(b->addrs, &b->naddrs, name, n, m);
		else if (what == 'u')
			top_set(b->accounts, &b->naccounts, name, n, m);
	}
	return true;
}

int stats_restore(struct stats *s, const char *line, uint64_t now_ms)
{
	struct stats_bucket b = { 0 }, *dst;
	const char *p = line;
	char type = *p;
	uint64_t len;
	size_t n;

	if ((type != 'm' && type != 'h' && type != 'd') || p[1] != ' ')
		return -1;
	p += 2;
	if (!get_num(&p, &b.start_ms) || *p++ != ' ' || !get_num(&p, &b.end_ms))
		return -1;
	len = type == 'm' ? STATS_MINUTE_MS : STATS_HOUR_MS;
	n = type == 'm' ? STATS_MINUTES : STATS_HOURS;
	if (type == 'd') {
		/* a local day: 22 to 26 hours, on whole seconds */
		if (!b.start_ms || b.start_ms % 1000 || b.end_ms < b.start_ms + 22 * STATS_HOUR_MS ||
		    b.end_ms > b.start_ms + 26 * STATS_HOUR_MS)
			return -1;
	} else if (b.start_ms % len || b.end_ms != b.start_ms + len || !b.start_ms) {
		return -1;
	}
	while (*p == ' ') {
		const char *tok = ++p, *end = tok + strcspn(tok, " ");
		if (end - tok < 2 || tok[1] != '=')
			return -1;
		p = tok + 2;
		switch (tok[0]) {
		case 'e':
			for (int k = 0; k < EV_NKINDS; k++)
				if ((k && *p++ != ',') || !get_num(&p, &b.events[k]))
					return -1;
			break;
		case 'x':
			if (!get_num(&p, &b.exempt))
				return -1;
			break;
		case 'd':
			if (!get_num(&p, &b.drops))
				return -1;
			break;
		case 'b':
			if (!get_num(&p, &b.made) || *p++ != ',' || !get_num(&p, &b.lifted))
				return -1;
			break;
		case 's':
			if (!items(p, end, 1, &b, tok[0]))
				return -1;
			p = end;
			break;
		case 'o': case 'a': case 'u':
			if (!items(p, end, 2, &b, tok[0]))
				return -1;
			p = end;
			break;
		default:
			p = end;        /* a field of a later version */
		}
		if (p != end)
			return -1;
	}
	if (*p)
		return -1;
	if (type == 'd') {
		/* today's or yesterday's (as this zone has them now), else dropped */
		struct stats_bucket *day = day_slot(s, now_ms);
		if (b.start_ms == day->start_ms && b.end_ms == day->end_ms) {
			dst = day;
		} else if (b.end_ms == day->start_ms) {
			dst = &s->day[1];
			if (dst->start_ms != b.start_ms) {
				memset(dst, 0, sizeof *dst);
				dst->start_ms = b.start_ms;
				dst->end_ms = b.end_ms;
			}
		} else {
			return 0;
		}
		stats_merge(dst, &b);
		return 0;
	}
	/* older than the ring keeps, or from the future: dropped */
	if (b.start_ms + (uint64_t)n * len <= now_ms || b.start_ms > now_ms)
		return 0;
	dst = slot(type == 'm' ? s->min : s->hour, n, len, b.start_ms);
	stats_merge(dst, &b);
	return 0;
}
