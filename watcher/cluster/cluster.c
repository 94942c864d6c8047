// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cluster - see cluster.h. Two connections: "publish" runs the publish
 * script (XADD to the stream and the snapshot's HSET/HDEL in one Lua
 * script, atomic), the heartbeats and, when it is made and every hour,
 * the snapshot's decisions over for an hour removed; "read" follows the
 * stream with XREAD BLOCK, so a blocking read never holds a publication
 * back.
 *
 * Start of reading: a saved position the stream still holds (the entry
 * of that ID) is resumed; otherwise the snapshot (PREFIX:current, whose
 * field "@id" is the stream ID it reflects) is applied, then the stream
 * is read from that ID.
 *
 * Owns struct cluster. Must never: block, trust an entry before
 * cluster_entry_decode passed it, or publish what it read.
 */
#include "cluster.h"
#include "cluster_count.h"
#include "duration.h"
#include "log.h"
#include "loop.h"
#include "ratelimit.h"
#include "redis_loop.h"
#include "xalloc.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define READ_BLOCK_MS 2000
#define READ_COUNT "256"
#define INFLIGHT_MAX 64
#define HEARTBEAT_MS 2000
#define PRUNE_MS (3600 * 1000)  /* the snapshot looked over for what is long over */
#define SEP '\x1f'              /* between the strings of a snapshot value */

/* KEYS: stream, snapshot. ARGV: maxlen, snapshot field, set|del, snapshot
 * value, then the entry's field/value pairs. */
static const char publish_script[] =
	"local f = {} for i = 5, #ARGV do f[#f + 1] = ARGV[i] end "
	"local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(f)) "
	"if ARGV[3] == 'del' then redis.call('HDEL', KEYS[2], ARGV[2]) "
	"else redis.call('HSET', KEYS[2], ARGV[2], ARGV[4]) end "
	"redis.call('HSET', KEYS[2], '@id', id) return id";

enum conn_state { C_DOWN, C_CONNECTING, C_AUTH, C_READY };

struct conn {
	struct cluster *c;
	const char *name;
	redisAsyncContext *ac;
	enum conn_state st;
	uint64_t backoff_base, retry_timer;
	unsigned pending;               /* commands sent, replies due */
	uint64_t since_ms;              /* connecting since, or the last reply */
	uint64_t extra_ms;              /* a blocking read's own wait */
};

struct cluster {
	struct loop *l;
	struct cluster_opts o;
	char *user, *password, *node, *prefix;
	char k_stream[CLUSTER_PREFIX_MAX + 16], k_current[CLUSTER_PREFIX_MAX + 16], k_nodes[CLUSTER_PREFIX_MAX + 16];
	struct cluster_hooks h;
	struct conn pub, rd;
	bool closing, reading;
	char last_id[CLUSTER_ID_MAX];
	uint64_t tick_timer, last_beat_ms, next_prune_ms;
	/* the queue: [head, n) waits, [head, head + inflight) is sent */
	struct cluster_entry *q;
	size_t head, n, aq, inflight;
	struct cluster_status s;
	struct cluster_peer peers[CLUSTER_PEERS_MAX];
	size_t npeers;
	struct ratelimit rej_log, err_log;
	/* shared counting: the batch of this loop turn, the batches sent */
	struct cluster_count_batch *cb;
	uint64_t count_timer, count_seq;
	unsigned count_inflight;
	bool count_sha;                 /* Redis knows the script: EVALSHA */
};

#define COUNT_INFLIGHT_MAX 16

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_start(struct conn *k);
static void after_ready(struct conn *k);

/* ---- stream IDs ---- */

static int id_parse(const char *s, uint64_t *ms, uint64_t *seq)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	*ms = strtoull(s, &end, 10);
	*seq = 0;
	if (*end == '-') {
		const char *p = end + 1;
		if (*p < '0' || *p > '9')
			return -1;
		*seq = strtoull(p, &end, 10);
	}
	return *end ? -1 : 0;
}

int cluster_id_cmp(const char *a, const char *b)
{
	uint64_t am, as, bm, bs;

	if (id_parse(a, &am, &as) < 0 || id_parse(b, &bm, &bs) < 0)
		return -2;
	if (am != bm)
		return am < bm ? -1 : 1;
	return as < bs ? -1 : as > bs;
}

/* KEYS: snapshot. ARGV: field, value: the field is deleted only if it
 * still holds that value (a node may have made it again since). */
static const char prune_script[] =
	"if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end "
	"return 0";

/* ---- connections ---- */

/* A connection's trouble, said at most twice a second. */
static void errlog(struct cluster *c, const char *what, const char *detail, const char *tail)
{
	uint64_t rep;

	if (ratelimit_take(&c->err_log, loop_now_ms(), &rep))
		log_warnx("cluster: %s: %s%s", what, detail, tail);
}

static void retry_fire(struct loop *l, void *arg)
{
	struct conn *k = arg;

	(void)l;
	k->retry_timer = 0;
	conn_start(k);
}

static void schedule_retry(struct conn *k)
{
	uint32_t rnd = 0;
	uint64_t wait;

	if (k->c->closing || k->retry_timer)
		return;
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) < 0)
		rnd = (uint32_t)loop_now_ms();
	wait = cluster_backoff_next(k->backoff_base, &k->backoff_base, rnd);
	k->retry_timer = loop_add_timer(k->c->l, wait, retry_fire, k);
}

static void went_down(struct conn *k)
{
	struct cluster *c = k->c;
	bool was_ready = k->st == C_READY;

	k->ac = NULL;
	k->st = C_DOWN;
	k->pending = 0;
	if (k == &c->pub)
		c->inflight = 0;        /* sent again after reconnecting */
	else
		c->reading = false;
	if (was_ready && !c->closing)
		log_warnx("cluster: lost the %s connection to Redis; reconnecting", k->name);
	if (was_ready)
		c->s.reconnects++;
	schedule_retry(k);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct conn *k = ac->data;

	(void)status;
	if (k && k->ac == ac)
		went_down(k);
}

static void auth_done(redisAsyncContext *ac, void *reply, void *priv)
{
	struct conn *k = priv;
	redisReply *r = reply;

	if (!r || k->ac != ac)
		return;
	k->pending--;
	k->since_ms = loop_now_ms();
	if (r->type == REDIS_REPLY_ERROR) {
		errlog(k->c, "Redis refused AUTH", r->str, " (check [cluster] user and password_file)");
		redisAsyncDisconnect(ac);
		return;
	}
	k->st = C_READY;
	after_ready(k);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
	struct conn *k = cac->data;
	redisAsyncContext *ac = (redisAsyncContext *)(uintptr_t)cac;

	if (!k || k->ac != ac)
		return;
	if (status != REDIS_OK) {
		errlog(k->c, "cannot connect to Redis", ac->errstr, "; trying again");
		k->ac = NULL;           /* hiredis frees it */
		k->st = C_DOWN;
		schedule_retry(k);
		return;
	}
	k->since_ms = loop_now_ms();
	if (k->c->user) {
		const char *argv[3] = { "AUTH", k->c->user, k->c->password ? k->c->password : "" };
		k->st = C_AUTH;
		k->pending++;
		redisAsyncCommandArgv(ac, auth_done, k, 3, argv, NULL);
		return;
	}
	k->st = C_READY;
	after_ready(k);
}

static void conn_start(struct conn *k)
{
	struct cluster *c = k->c;
	redisAsyncContext *ac;

	if (c->closing || k->ac)
		return;
	ac = c->o.redis.is_unix ? redisAsyncConnectUnix(c->o.redis.path)
				: redisAsyncConnect(c->o.redis.path, c->o.redis.port);
	if (!ac || ac->err) {
		errlog(c, "cannot connect to Redis", ac ? ac->errstr : "out of memory", "; trying again");
		if (ac)
			redisAsyncFree(ac);
		schedule_retry(k);
		return;
	}
	ac->data = k;
	if (redis_loop_attach(c->l, ac) < 0) {
		redisAsyncFree(ac);
		schedule_retry(k);
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	k->ac = ac;
	k->st = C_CONNECTING;
	k->since_ms = loop_now_ms();
	k->pending = 0;
	k->extra_ms = 0;
}

/* A connection that took too long: dropped, and made again later. Not
 * from inside a hiredis callback (the tick timer calls it). */
static void conn_drop(struct conn *k)
{
	redisAsyncContext *ac = k->ac;

	if (!ac)
		return;
	errlog(k->c, "Redis did not answer in time on the connection", k->name, "; reconnecting");
	redisAsyncFree(ac);     /* calls on_disconnect if it was connected */
	if (k->ac == ac)
		went_down(k);
}

static int send_argv(struct conn *k, redisCallbackFn *fn, int argc, const char **argv, const size_t *lens)
{
	if (!k->ac || k->st != C_READY)
		return -1;
	if (redisAsyncCommandArgv(k->ac, fn, k, argc, argv, lens) != REDIS_OK)
		return -1;
	if (!k->pending)
		k->since_ms = loop_now_ms();
	k->pending++;
	return 0;
}

/* A reply arrived on k (r NULL: the connection went away). The back-off
 * starts again once the connection does its work: the publish one
 * answered a command, the read one a read of the stream (not once Redis
 * took the connection or AUTH: one that then refuses what it is asked is
 * retried ever less often). */
static bool reply_in(struct conn *k, redisAsyncContext *ac, redisReply *r)
{
	if (!r || k->ac != ac)
		return false;
	if (r->type != REDIS_REPLY_ERROR && k == &k->c->pub)
		k->backoff_base = 0;
	if (k->pending)
		k->pending--;
	k->since_ms = loop_now_ms();
	k->extra_ms = 0;
	return true;
}

/* ---- publishing ---- */

static void flush(struct cluster *c);

static void snapshot_key(const struct cluster_entry *e, char *buf, size_t len, bool *del)
{
	const char *cls = e->kind == CLUSTER_BLOCK || e->kind == CLUSTER_UNBLOCK ? "b"
			  : e->kind == CLUSTER_ALLOW || e->kind == CLUSTER_UNALLOW ? "a" : "u";
	*del = e->kind == CLUSTER_UNBLOCK || e->kind == CLUSTER_UNALLOW || e->kind == CLUSTER_ACCOUNT_UNBLOCK;
	snprintf(buf, len, "%s:%s", cls, e->target);
}

static void published(redisAsyncContext *ac, void *reply, void *priv)
{
	struct conn *k = priv;
	struct cluster *c = k->c;
	redisReply *r = reply;

	if (!reply_in(k, ac, r))
		return;
	if (!c->inflight)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		errlog(c, "Redis refused a decision", r->str, " (dropped; check the ACL user's commands)");
		c->s.dropped++;
	} else {
		c->s.published++;
	}
	c->head++;
	c->inflight--;
	if (c->head == c->n)
		c->head = c->n = 0;
	flush(c);
}

static void send_one(struct cluster *c, const struct cluster_entry *e)
{
	char buf[CLUSTER_ENCODE_BUF], key[CLUSTER_TARGET_MAX + 8], maxlen[24];
	const char *f[CLUSTER_FIELDS_MAX * 2], *argv[8 + CLUSTER_FIELDS_MAX * 2];
	size_t nf = cluster_entry_encode(e, buf, f), vlen = 0, argc = 0;
	char *val;
	bool del;

	for (size_t i = 0; i < nf; i++)
		vlen += strlen(f[i]) + 1;
	val = xmalloc(vlen + 1);
	vlen = 0;
	for (size_t i = 0; i < nf; i++) {
		size_t l = strlen(f[i]);
		memcpy(val + vlen, f[i], l);
		vlen += l;
		val[vlen++] = SEP;
	}
	val[vlen ? vlen - 1 : 0] = '\0';
	snapshot_key(e, key, sizeof key, &del);
	snprintf(maxlen, sizeof maxlen, "%d", CLUSTER_STREAM_MAX);
	argv[argc++] = "EVAL";
	argv[argc++] = publish_script;
	argv[argc++] = "2";
	argv[argc++] = c->k_stream;
	argv[argc++] = c->k_current;
	argv[argc++] = maxlen;
	argv[argc++] = key;
	argv[argc++] = del ? "del" : "set";
	argv[argc++] = val;
	for (size_t i = 0; i < nf; i++)
		argv[argc++] = f[i];
	if (send_argv(&c->pub, published, (int)argc, argv, NULL) == 0)
		c->inflight++;
	free(val);
}

static void flush(struct cluster *c)
{
	while (c->pub.st == C_READY && c->inflight < INFLIGHT_MAX && c->head + c->inflight < c->n) {
		size_t before = c->inflight;
		send_one(c, &c->q[c->head + c->inflight]);
		if (c->inflight == before)
			break;
	}
	c->s.queued = c->n - c->head;
}

static void clean_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void cluster_publish(struct cluster *c, const struct cluster_entry *e)
{
	struct cluster_entry *q;

	if (!c || !(c->o.share & cluster_kind_class(e->kind)))
		return;
	if (c->n - c->head >= CLUSTER_QUEUE_MAX) {
		c->s.dropped++;
		return;
	}
	/* move what waits (the part sent included: replies find it by head)
	 * to the front rather than grow */
	if (c->head && c->n == c->aq) {
		memmove(c->q, c->q + c->head, (c->n - c->head) * sizeof *c->q);
		c->n -= c->head;
		c->head = 0;
	}
	XGROW(c->q, c->aq, c->n + 1);
	q = &c->q[c->n++];
	*q = *e;
	snprintf(q->node, sizeof q->node, "%s", c->node);
	q->ts_ms = wall_ms();
	clean_text(q->origin);
	clean_text(q->rule);
	clean_text(q->reason);
	flush(c);
}

/* ---- shared counting ---- */

struct count_sent {
	struct cluster *c;
	uint64_t seq;
	bool eval;              /* sent with the script (not its SHA1) */
	struct cluster_count_batch b;
};

/* Item i of a batch the shared count did not decide for: to the caller's
 * own count. */
static void count_alone(struct cluster *c, const struct count_sent *cs, size_t i)
{
	if (c->h.alone && !c->closing)
		c->h.alone(c->h.arg, cs->b.item[i].rule_name, cs->b.item[i].text);
}

/* A batch that did not reach the shared count: counted lost, its keys
 * handed back to the caller's own count, and freed. */
static void count_lost(struct cluster *c, struct count_sent *cs)
{
	c->s.count_lost++;
	for (size_t i = 0; i < cs->b.n; i++)
		count_alone(c, cs, i);
	free(cs);
}

static void count_reply(redisAsyncContext *ac, void *reply, void *priv);

/* Send cs (EVALSHA once Redis knows the script). 0, or -1 (not sent). */
static int count_submit(struct cluster *c, struct count_sent *cs)
{
	const char *argv[CLUSTER_COUNT_ARGV_MAX];
	size_t lens[CLUSTER_COUNT_ARGV_MAX], argc;

	argc = cluster_count_batch_encode(&cs->b, c->node, cs->seq, !cs->eval, argv, lens);
	if (c->pub.st != C_READY ||
	    redisAsyncCommandArgv(c->pub.ac, count_reply, cs, (int)argc, argv, lens) != REDIS_OK)
		return -1;
	if (!c->pub.pending)
		c->pub.since_ms = loop_now_ms();
	c->pub.pending++;
	c->count_inflight++;
	return 0;
}

static void count_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct count_sent *cs = priv;
	struct cluster *c = cs->c;
	redisReply *r = reply;
	long long vals[CLUSTER_COUNT_BATCH_MAX];
	bool dec[CLUSTER_COUNT_BATCH_MAX];
	size_t n = 0;

	c->count_inflight--;
	if (!reply_in(&c->pub, ac, r)) {
		count_lost(c, cs);
		return;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements <= CLUSTER_COUNT_BATCH_MAX) {
		for (n = 0; n < r->elements && r->element[n]->type == REDIS_REPLY_INTEGER; n++)
			vals[n] = r->element[n]->integer;
	}
	if (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8) && !cs->eval) {
		/* Redis does not know the script (restarted, flushed): the
		 * same batch once more with the script itself */
		c->count_sha = false;
		cs->eval = true;
		if (count_submit(c, cs) == 0)
			return;
	}
	if (r->type == REDIS_REPLY_ERROR || n != r->elements || cluster_count_reply(&cs->b, vals, n, dec) < 0) {
		errlog(c, "Redis refused a batch of shared counts", r->type == REDIS_REPLY_ERROR ? r->str : "bad reply",
		       " (lost; counted alone; check the ACL user's commands)");
		count_lost(c, cs);
		return;
	}
	if (cs->eval)
		c->count_sha = true;    /* Redis has the script now */
	for (size_t i = 0; i < n; i++)
		if (dec[i]) {
			c->s.count_decisions++;
			if (c->h.decide && !c->closing)
				c->h.decide(c->h.arg, cs->b.item[i].rule_name, cs->b.item[i].text);
		} else {
			count_alone(c, cs, i);
		}
	free(cs);
}

/* Send this turn's batch as one EVAL. */
static void count_send(struct cluster *c)
{
	struct count_sent *cs;

	if (!c->cb || !c->cb->n)
		return;
	cs = xmalloc(sizeof *cs);
	cs->c = c;
	cs->seq = c->count_seq++;
	cs->eval = !c->count_sha;
	cs->b = *c->cb;
	cluster_count_batch_reset(c->cb);
	if (count_submit(c, cs) < 0) {
		count_lost(c, cs);
		return;
	}
	c->s.count_batches++;
}

static void count_turn(struct loop *l, void *arg)
{
	struct cluster *c = arg;

	(void)l;
	c->count_timer = 0;
	count_send(c);
}

bool cluster_count(struct cluster *c, const char *rule, const char *key, uint64_t window_ms, uint32_t limit,
		   uint32_t cnt)
{
	char err[ERR_LEN];
	int rc;

	if (!c || !(c->o.share & CLUSTER_COUNTS))
		return false;
	if (c->pub.st != C_READY || c->count_inflight >= COUNT_INFLIGHT_MAX) {
		c->s.count_fallbacks += cnt;
		return false;
	}
	if (!c->cb)
		c->cb = xcalloc(1, sizeof *c->cb);
	rc = cluster_count_batch_add(c->cb, c->prefix, rule, 0, key, window_ms, limit, cnt, err, sizeof err);
	if (rc == 1) {
		count_send(c);
		rc = cluster_count_batch_add(c->cb, c->prefix, rule, 0, key, window_ms, limit, cnt, err, sizeof err);
	}
	if (rc != 0) {
		if (rc < 0)
			errlog(c, "a shared count was not sent", err, " (counted alone)");
		c->s.count_fallbacks += cnt;
		return false;
	}
	c->s.count_events += cnt;
	if (!c->count_timer)
		c->count_timer = loop_add_timer(c->l, 0, count_turn, c);
	return true;
}

/* ---- reading ---- */

static void xread(struct cluster *c);
static void ignore_reply(redisAsyncContext *ac, void *reply, void *priv);

static void reject(struct cluster *c, const char *id, const char *why)
{
	uint64_t rep;

	c->s.rejected++;
	if (ratelimit_take(&c->rej_log, loop_now_ms(), &rep))
		log_warnx("cluster: rejected stream entry %s: %s (nothing applied)", id, why);
}

/* Whether an entry's strings are a decision over for an hour at least
 * (whoever made it). */
static bool long_over(const struct cluster *c, const char *const *strs, const size_t *lens, size_t n)
{
	struct cluster_entry e;
	char err[ERR_LEN];
	int rc = cluster_entry_decode(strs, lens, n, &c->o.limits, NULL, CLUSTER_BLOCKS | CLUSTER_ALLOWS |
				      CLUSTER_ACCOUNTS, &e, err, sizeof err);
	uint64_t now = wall_ms();

	return rc == 1 && e.duration_ms != DURATION_PERMANENT && e.duration_ms && e.ts_ms <= now &&
	       e.ts_ms + e.duration_ms + 3600 * 1000 < now;
}

/* One entry's strings (field, value...). 2: a decision over for an hour
 * at least (not applied); 1: applied; 0: skipped or rejected. */
static int take(struct cluster *c, const char *id, const char *const *strs, const size_t *lens, size_t n)
{
	struct cluster_entry e;
	char err[ERR_LEN];
	int rc;

	/* what is long over is dropped whoever made it; then the checks
	 * with this node's name and accept */
	if (long_over(c, strs, lens, n))
		return 2;
	rc = cluster_entry_decode(strs, lens, n, &c->o.limits, c->node, c->o.accept, &e, err, sizeof err);
	if (rc < 0) {
		reject(c, id, err);
		return 0;
	}
	if (rc == 0) {
		c->s.skipped_own++;
		return 0;
	}
	c->s.applied++;
	c->h.apply(c->h.arg, &e);
	return 1;
}

static void take_reply(struct cluster *c, const char *id, const redisReply *fields)
{
	const char *strs[CLUSTER_FIELDS_MAX * 2];
	size_t lens[CLUSTER_FIELDS_MAX * 2];

	if (fields->type != REDIS_REPLY_ARRAY || fields->elements > CLUSTER_FIELDS_MAX * 2) {
		reject(c, id, "not a list of at most 32 fields");
		return;
	}
	for (size_t i = 0; i < fields->elements; i++) {
		if (fields->element[i]->type != REDIS_REPLY_STRING) {
			reject(c, id, "a field that is not a string");
			return;
		}
		strs[i] = fields->element[i]->str;
		lens[i] = fields->element[i]->len;
	}
	take(c, id, strs, lens, fields->elements);
}

static void set_last(struct cluster *c, const char *id, size_t len)
{
	if (len >= sizeof c->last_id)
		return;
	memcpy(c->last_id, id, len);
	c->last_id[len] = '\0';
	if (c->h.moved)
		c->h.moved(c->h.arg);
}

static void xread_done(redisAsyncContext *ac, void *reply, void *priv)
{
	struct conn *k = priv;
	struct cluster *c = k->c;
	redisReply *r = reply;

	if (!reply_in(k, ac, r))
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		errlog(c, "Redis refused XREAD", r->str, "");
		redisAsyncDisconnect(ac);
		return;
	}
	k->backoff_base = 0;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 && r->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
		const redisReply *list = r->element[0]->element[1];
		for (size_t i = 0; i < list->elements; i++) {
			const redisReply *ent = list->element[i];
			uint64_t ms, seq;
			if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 ||
			    ent->element[0]->type != REDIS_REPLY_STRING || id_parse(ent->element[0]->str, &ms, &seq) < 0)
				continue;
			take_reply(c, ent->element[0]->str, ent->element[1]);
			set_last(c, ent->element[0]->str, ent->element[0]->len);
			uint64_t now = wall_ms();
			c->s.lag_ms = now > ms ? now - ms : 0;
		}
	}
	xread(c);
}

static void xread(struct cluster *c)
{
	const char *argv[] = { "XREAD", "COUNT", READ_COUNT, "BLOCK", "2000", "STREAMS", c->k_stream,
			       c->last_id[0] ? c->last_id : "0-0" };

	c->reading = true;
	if (send_argv(&c->rd, xread_done, 8, argv, NULL) == 0)
		c->rd.extra_ms = READ_BLOCK_MS;
}

/* A snapshot value split into its strings (at most CLUSTER_FIELDS_MAX * 2). */
static size_t snapshot_split(const redisReply *v, const char **strs, size_t *lens)
{
	size_t n = 0, start = 0;

	for (size_t j = 0; j <= v->len && n < CLUSTER_FIELDS_MAX * 2; j++)
		if (j == v->len || v->str[j] == SEP) {
			strs[n] = v->str + start;
			lens[n++] = j - start;
			start = j + 1;
		}
	return n;
}

static void prune_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct conn *k = priv;
	redisReply *r = reply;

	if (reply_in(k, ac, r) && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		k->c->s.pruned++;
}

/* Field f of the snapshot, of value v, out of it on k if it still holds v
 * (a node may have made that decision again since). */
static void prune(struct cluster *c, struct conn *k, const redisReply *f, const redisReply *v)
{
	const char *argv[] = { "EVAL", prune_script, "1", c->k_current, f->str, v->str };
	const size_t alen[] = { 4, sizeof prune_script - 1, 1, strlen(c->k_current), f->len, v->len };

	send_argv(k, prune_reply, 6, argv, alen);
}

static void snapshot_done(redisAsyncContext *ac, void *reply, void *priv)
{
	struct conn *k = priv;
	struct cluster *c = k->c;
	redisReply *r = reply;
	const char *at = NULL;
	size_t atlen = 0, entries = 0;

	if (!reply_in(k, ac, r))
		return;
	if (r->type != REDIS_REPLY_ARRAY) {
		errlog(c, "Redis refused HGETALL of the snapshot", r->type == REDIS_REPLY_ERROR ? r->str : "?", "");
		redisAsyncDisconnect(ac);
		return;
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		const char *strs[CLUSTER_FIELDS_MAX * 2];
		size_t lens[CLUSTER_FIELDS_MAX * 2], n;
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (f->len == 3 && memcmp(f->str, "@id", 3) == 0) {
			at = v->str;
			atlen = v->len;
			continue;
		}
		n = snapshot_split(v, strs, lens);
		/* over for an hour: out of the snapshot (the snapshot would
		 * otherwise only grow) */
		if (take(c, "(snapshot)", strs, lens, n) == 2)
			prune(c, k, f, v);
		entries++;
	}
	if (at)
		set_last(c, at, atlen);
	log_info("cluster: read the snapshot (%zu entries), following the stream from %s", entries,
		 c->last_id[0] ? c->last_id : "its start");
	xread(c);
}

/* The snapshot looked over on the publish connection (when it is made,
 * then every hour): what is over for an hour leaves it even while every
 * node follows the stream and none reads the snapshot. */
static void prune_done(redisAsyncContext *ac, void *reply, void *priv)
{
	struct conn *k = priv;
	redisReply *r = reply;

	if (!reply_in(k, ac, r) || r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		const char *strs[CLUSTER_FIELDS_MAX * 2];
		size_t lens[CLUSTER_FIELDS_MAX * 2], n;
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    (f->len == 3 && memcmp(f->str, "@id", 3) == 0))
			continue;
		n = snapshot_split(v, strs, lens);
		if (long_over(k->c, strs, lens, n))
			prune(k->c, k, f, v);
	}
}

static void first_done(redisAsyncContext *ac, void *reply, void *priv)
{
	struct conn *k = priv;
	struct cluster *c = k->c;
	redisReply *r = reply;
	const char *argv[] = { "HGETALL", c->k_current };

	if (!reply_in(k, ac, r))
		return;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 && r->element[0]->element[0]->type == REDIS_REPLY_STRING &&
	    cluster_id_cmp(c->last_id, r->element[0]->element[0]->str) == 0) {
		log_info("cluster: resuming the stream after %s", c->last_id);
		xread(c);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		errlog(c, "Redis refused XRANGE", r->str, "");
		redisAsyncDisconnect(ac);
		return;
	}
	/* the stream does not hold the position (trimmed past it, or made
	 * again: a Redis restarted empty, a promoted replica): not kept, or
	 * the read would wait for IDs past it, which a new stream may reach
	 * late or never */
	log_info("cluster: the stream does not hold the read position %s; reading the snapshot", c->last_id);
	c->last_id[0] = '\0';
	send_argv(k, snapshot_done, 2, argv, NULL);
}

static void after_ready(struct conn *k)
{
	struct cluster *c = k->c;

	log_info("cluster: %s connection to Redis ready", k->name);
	if (k == &c->pub) {
		c->last_beat_ms = 0;
		c->next_prune_ms = loop_now_ms();
		flush(c);
		return;
	}
	if (c->last_id[0]) {
		/* does the stream still hold the position? */
		const char *argv[] = { "XRANGE", c->k_stream, c->last_id, c->last_id, "COUNT", "1" };
		send_argv(k, first_done, 6, argv, NULL);
	} else {
		const char *argv[] = { "HGETALL", c->k_current };
		send_argv(k, snapshot_done, 2, argv, NULL);
	}
}

/* ---- heartbeats, timeouts ---- */

static void peers_done(redisAsyncContext *ac, void *reply, void *priv)
{
	struct conn *k = priv;
	struct cluster *c = k->c;
	redisReply *r = reply;

	if (!reply_in(k, ac, r) || r->type != REDIS_REPLY_ARRAY)
		return;
	c->npeers = 0;
	for (size_t i = 0; i + 1 < r->elements && c->npeers < CLUSTER_PEERS_MAX; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		struct cluster_peer *p = &c->peers[c->npeers];
		char err[ERR_LEN];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || f->len > CLUSTER_NAME_MAX)
			continue;
		memcpy(p->node, f->str, f->len);
		p->node[f->len] = '\0';
		if (cluster_name_check(p->node, false, err, sizeof err) < 0)
			continue;
		p->heartbeat_ms = strtoull(v->str, NULL, 10);
		c->npeers++;
	}
}

static void ignore_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	reply_in(priv, ac, reply);
}

static void tick(struct loop *l, void *arg)
{
	struct cluster *c = arg;
	uint64_t now = loop_now_ms();
	struct conn *ks[2] = { &c->pub, &c->rd };

	c->tick_timer = loop_add_timer(l, 1000, tick, c);
	for (int i = 0; i < 2; i++) {
		struct conn *k = ks[i];
		bool late = (k->st == C_CONNECTING || k->st == C_AUTH || k->pending) &&
			    now - k->since_ms > c->o.timeout_ms + k->extra_ms;
		if (late)
			conn_drop(k);
	}
	if (c->pub.st == C_READY && now - c->last_beat_ms >= HEARTBEAT_MS) {
		char ms[24];
		const char *hset[] = { "HSET", c->k_nodes, c->node, ms };
		const char *hget[] = { "HGETALL", c->k_nodes };
		snprintf(ms, sizeof ms, "%llu", (unsigned long long)wall_ms());
		c->last_beat_ms = now;
		send_argv(&c->pub, ignore_reply, 4, hset, NULL);
		send_argv(&c->pub, peers_done, 2, hget, NULL);
	}
	if (c->pub.st == C_READY && now >= c->next_prune_ms) {
		const char *argv[] = { "HGETALL", c->k_current };
		c->next_prune_ms = now + PRUNE_MS;
		send_argv(&c->pub, prune_done, 2, argv, NULL);
	}
}

/* ---- life ---- */

struct cluster *cluster_new(struct loop *l, const struct cluster_opts *o, const struct cluster_hooks *h)
{
	struct cluster *c = xcalloc(1, sizeof *c);

	c->l = l;
	c->o = *o;
	if (!c->o.timeout_ms)
		c->o.timeout_ms = 5000;
	c->user = o->user && *o->user ? xstrdup(o->user) : NULL;
	c->password = o->password ? xstrdup(o->password) : NULL;
	c->node = xstrdup(o->node);
	c->prefix = xstrdup(o->prefix);
	c->o.user = c->o.password = c->o.last_id = NULL;
	c->o.node = c->node;
	c->o.prefix = c->prefix;
	snprintf(c->k_stream, sizeof c->k_stream, "%sdecisions", c->prefix);
	snprintf(c->k_current, sizeof c->k_current, "%scurrent", c->prefix);
	snprintf(c->k_nodes, sizeof c->k_nodes, "%snodes", c->prefix);
	if (o->last_id && cluster_id_cmp(o->last_id, o->last_id) == 0)
		snprintf(c->last_id, sizeof c->last_id, "%s", o->last_id);
	c->h = *h;
	c->rej_log.limit = 10;
	c->err_log.limit = 2;
	c->pub = (struct conn){ .c = c, .name = "publish" };
	c->rd = (struct conn){ .c = c, .name = "read" };
	conn_start(&c->pub);
	conn_start(&c->rd);
	c->tick_timer = loop_add_timer(l, 1000, tick, c);
	/* members of the shared counts: unique across restarts */
	c->count_seq = wall_ms() * 1000;
	return c;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	c->closing = true;
	if (c->pub.ac)
		redisAsyncFree(c->pub.ac);
	if (c->rd.ac)
		redisAsyncFree(c->rd.ac);
	if (c->pub.retry_timer)
		loop_cancel_timer(c->l, c->pub.retry_timer);
	if (c->rd.retry_timer)
		loop_cancel_timer(c->l, c->rd.retry_timer);
	if (c->tick_timer)
		loop_cancel_timer(c->l, c->tick_timer);
	if (c->count_timer)
		loop_cancel_timer(c->l, c->count_timer);
	free(c->cb);
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c->user);
	free(c->node);
	free(c->prefix);
	free(c->q);
	free(c);
}

const char *cluster_last_id(const struct cluster *c)
{
	return c ? c->last_id : "";
}

void cluster_get_status(const struct cluster *c, struct cluster_status *st)
{
	*st = c->s;
	st->connected = c->pub.st == C_READY && c->rd.st == C_READY;
	st->reading = c->reading;
	snprintf(st->last_id, sizeof st->last_id, "%s", c->last_id);
	st->queued = c->n - c->head;
	st->peers = c->peers;
	st->npeers = c->npeers;
}
