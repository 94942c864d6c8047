// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon - "mailscreen run": the one event loop that ties it together.
 *
 * sources (tail, journal) -> lines -> matcher -> events -> screen ->
 * decisions -> blocks + fw_nft. Owns the struct daemon (the only mutable
 * state), the signalfd (HUP reloads, TERM/INT stop), the on-demand sweep
 * timer, and the idle hook that sends one netlink batch per loop turn.
 * A reload builds a complete new bundle first and swaps it in only if all
 * of it is good; counters and blocks survive it. Stopping leaves the
 * blocks in the kernel, where their timeouts keep running.
 */
#include "blocks.h"
#include "bundle.h"
#include "cmd.h"
#include "duration.h"
#include "fw_nft.h"
#include "journal.h"
#include "jsonw.h"
#include "line.h"
#include "log.h"
#include "loop.h"
#include "screen.h"
#include "tail.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_MS 30000

struct daemon;

struct src {
	struct daemon *d;
	char *name;
	struct matcher *m;
	struct tail_watch *tw;
	struct jsource *j;
	char *path;             /* file glob, or NULL */
	char *jkey;             /* journal terms + path, for reuse on reload */
	uint64_t lines, events;
};

struct daemon {
	struct loop *loop;
	struct bundle b;
	const char *cfgpath;
	bool cfg_explicit, dry_run_flag, from_start, foreground;
	bool dry_run;
	struct screen *screen;
	struct blocks *blocks;
	struct tail *tail;
	struct fw_nft *nft;
	struct src **srcs;
	size_t nsrcs;
	int sigfd;
	uint64_t sweep_timer;
	uint64_t lines, old_lines, blocks_issued, nft_errors;
	uint64_t max_window_ms;
	time_t started;
};

struct evctx {
	struct daemon *d;
	struct src *s;
	uint64_t now_ms;
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: mailscreen run [-c FILE] [--foreground] [--dry-run] [--from-start]\n"
		"\n"
		"Watch the mail logs, count abuse per rule and block offenders in nftables.\n"
		"\n"
		"  -c, --config FILE  configuration (default " CONFIG_DEFAULT_FILE ";\n"
		"                     built-in defaults if that does not exist)\n"
		"  -f, --foreground   stay in the foreground and log to stderr\n"
		"  -n, --dry-run      log every decision, never touch nftables\n"
		"      --from-start   read what the log files already hold (default: start at their end)\n"
		"  -h, --help         this help\n"
		"\n"
		"Signals: HUP reloads configuration, filters and rules (a broken new configuration is\n"
		"refused and the old one keeps running); TERM and INT stop. Blocks stay in the kernel\n"
		"until their timeouts expire.\n");
}

/* ---- sweep: drop idle windows and expired blocks, only while there are any ---- */

static void sweep(struct loop *l, void *arg);

static void arm_sweep(struct daemon *d)
{
	if (!d->sweep_timer)
		d->sweep_timer = loop_add_timer(d->loop, SWEEP_MS, sweep, d);
}

static void sweep(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	struct screen_stats st;
	uint64_t now = wall_ms();

	(void)l;
	d->sweep_timer = 0;
	screen_expire(d->screen, now);
	blocks_expire(d->blocks, now);
	screen_stats(d->screen, &st);
	if (st.tracked || blocks_count(d->blocks))
		arm_sweep(d);
}

/* ---- the pipeline ---- */

static void on_decision(void *arg, const struct decision *dc, const struct event *ev, const struct logline *ll)
{
	struct evctx *c = arg;
	struct daemon *d = c->d;
	const struct rule *r = dc->rule;
	char target[CIDR_STRLEN], win[32], dur[32], line[320], reason[160];
	bool extended = false;

	cidr_format(&dc->target, target);
	duration_format(r->window_ms, win, sizeof win);
	duration_format(r->block_ms, dur, sizeof dur);
	text_sanitize(line, sizeof line, ll->raw, ll->rawlen);
	snprintf(reason, sizeof reason, "%u %s within %s", dc->count, ev_kind_name(ev->kind), win);
	if (r->log_only) {
		log_info("notice %s: rule %s, %s (log only); line: %s", target, r->name, reason, line);
		return;
	}
	blocks_add(d->blocks, &dc->target, c->now_ms, r->block_ms, r->name, reason, &extended);
	arm_sweep(d);
	d->blocks_issued++;
	log_info("%s %s for %s: rule %s, %s; line: %s%s", extended ? "extend" : "block", target, dur, r->name,
		 reason, line, d->dry_run ? " (dry run)" : "");
	if (!d->dry_run)
		fw_nft_queue_add(d->nft, &dc->target, r->block_ms == DURATION_PERMANENT ? 0 : r->block_ms);
}

static void on_event(void *arg, const struct event *ev0, const struct logline *ll)
{
	struct evctx *c = arg;
	struct event ev = *ev0;

	c->s->events++;
	/* live, an event happens when its line arrives */
	ev.time = (int64_t)(c->now_ms / 1000);
	if (screen_event(c->d->screen, &ev, ll, c->now_ms, on_decision, c) == 0)
		arm_sweep(c->d);
}

static void handle_line(struct daemon *d, struct src *s, const struct logline *ll)
{
	struct evctx c = { d, s, wall_ms() };

	d->lines++;
	s->lines++;
	/* catching up: lines older than every window cannot matter any more */
	if (ll->time && d->max_window_ms && (uint64_t)ll->time * 1000 + d->max_window_ms < c.now_ms) {
		if (d->old_lines++ == 0) {
			char win[32];
			duration_format(d->max_window_ms, win, sizeof win);
			log_warnx("source %s: skipping lines stamped more than %s (the longest rule window) in the "
				  "past; if this happens for new lines, check the clock and time zone of the logger",
				  s->name, win);
		}
		return;
	}
	matcher_run(s->m, ll, on_event, &c);
}

static void on_file_line(void *cookie, const char *path, const char *line, size_t len, bool cut)
{
	struct src *s = cookie;
	struct logline ll;

	(void)path;
	(void)cut;
	logline_parse(&ll, line, len, time(NULL));
	handle_line(s->d, s, &ll);
}

static void on_journal_line(void *cookie, const struct logline *ll)
{
	struct src *s = cookie;

	handle_line(s->d, s, ll);
}

static void nft_config(const struct config *c, struct fw_nft_config *fc);

struct requeue {
	struct fw_nft *nft;
	uint64_t now;
	size_t n;
};

static void requeue_block(void *arg, const struct block *blk)
{
	struct requeue *rq = arg;

	if (blk->expiry_ms <= rq->now)
		return;
	fw_nft_queue_add(rq->nft, &blk->target, blk->expiry_ms == UINT64_MAX ? 0 : blk->expiry_ms - rq->now);
	rq->n++;
}

static void commit(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	struct fw_nft_config fc;
	struct requeue rq;
	char err[512];
	int rc;

	(void)l;
	if (d->dry_run || !d->nft || !fw_nft_pending(d->nft))
		return;
	rc = fw_nft_commit(d->nft, err, sizeof err);
	if (rc > 0)
		d->nft_errors += (uint64_t)rc;
	if (rc >= 0)
		return;
	d->nft_errors++;
	log_warnx("nftables: %s", err);
	/* Most likely someone removed our table (a firewall reload running
	 * "nft flush ruleset"): create it again and put back every block we
	 * know of, with the time it has left. The queue was emptied. */
	nft_config(&d->b.cfg, &fc);
	if (fw_nft_setup(d->nft, &fc, err, sizeof err) < 0) {
		log_warnx("nftables: cannot restore table inet %s: %s", fc.table, err);
		return;
	}
	rq = (struct requeue){ d->nft, wall_ms(), 0 };
	blocks_foreach(d->blocks, requeue_block, &rq);
	rc = fw_nft_commit(d->nft, err, sizeof err);
	if (rc < 0)
		log_warnx("nftables: restoring %zu blocks failed: %s", rq.n, err);
	else
		log_warnx("nftables: table inet %s was missing or broken; restored it with %zu blocks", fc.table, rq.n);
}

/* ---- sources ---- */

static char *journal_key(const struct source_cfg *sc)
{
	size_t len = 1;
	char *k;

	for (size_t i = 0; sc->journal[i]; i++)
		len += strlen(sc->journal[i]) + 1;
	len += sc->journal_path ? strlen(sc->journal_path) : 0;
	k = xcalloc(1, len + 1);
	for (size_t i = 0; sc->journal[i]; i++) {
		strcat(k, sc->journal[i]);
		strcat(k, " ");
	}
	strcat(k, "|");
	if (sc->journal_path)
		strcat(k, sc->journal_path);
	return k;
}

static void src_free(struct daemon *d, struct src *s)
{
	if (!s)
		return;
	if (s->tw)
		tail_remove(d->tail, s->tw);
	if (s->j)
		journal_close(s->j);
	matcher_free(s->m);
	free(s->name);
	free(s->path);
	free(s->jkey);
	free(s);
}

/* Build the sources of bundle b, reusing the open watches of old sources
 * that read the same file or journal (so positions and buffered partial
 * lines survive a reload). On failure nothing of the old set is touched. */
static int sources_build(struct daemon *d, struct bundle *b, struct src ***out, char *err, size_t errlen)
{
	struct src **v = xcalloc(b->cfg.nsources ? b->cfg.nsources : 1, sizeof *v);
	size_t n = b->cfg.nsources;

	for (size_t i = 0; i < n; i++) {
		struct source_cfg *sc = &b->cfg.sources[i];
		struct src *s = xcalloc(1, sizeof *s);
		v[i] = s;
		s->d = d;
		s->name = xstrdup(sc->name);
		s->m = matcher_new(b->fs, (const char *const *)sc->filters, sc->nfilters, err, errlen);
		if (!s->m)
			goto fail;
		if (sc->path)
			s->path = xstrdup(sc->path);
		else
			s->jkey = journal_key(sc);
		for (size_t k = 0; k < d->nsrcs; k++) {
			struct src *o = d->srcs[k];
			if (!o)
				continue;
			if ((s->path && o->path && strcmp(s->path, o->path) == 0 && o->tw) ||
			    (s->jkey && o->jkey && strcmp(s->jkey, o->jkey) == 0 && o->j)) {
				s->tw = o->tw;
				s->j = o->j;
				s->lines = o->lines;
				s->events = o->events;
				break;
			}
		}
	}
	/* only now open what is new; reused handles are claimed in sources_swap */
	for (size_t i = 0; i < n; i++) {
		struct source_cfg *sc = &b->cfg.sources[i];
		struct src *s = v[i];
		char msg[512];
		if (s->tw || s->j)
			continue;
		if (sc->path) {
			if (!d->tail) {
				struct tail_opts to = { .max_line = b->cfg.max_line, .from_start = d->from_start };
				d->tail = tail_new(d->loop, &to, on_file_line);
			}
			s->tw = tail_add(d->tail, sc->path, s, msg, sizeof msg);
		} else {
			struct journal_opts jo = { .path = sc->journal_path, .from_start = d->from_start,
						   .max_line = b->cfg.max_line };
			s->j = journal_open(d->loop, (const char *const *)sc->journal, &jo, on_journal_line, s, msg,
					    sizeof msg);
		}
		if (!s->tw && !s->j) {
			errf(err, errlen, "[source %s]: %s", sc->name, msg);
			goto fail;
		}
	}
	*out = v;
	return 0;
fail:
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			continue;
		/* never close a handle that still belongs to an old source */
		for (size_t o = 0; o < d->nsrcs; o++)
			if (d->srcs[o] && ((v[i]->tw && v[i]->tw == d->srcs[o]->tw) || (v[i]->j && v[i]->j == d->srcs[o]->j)))
				v[i]->tw = NULL, v[i]->j = NULL;
		src_free(d, v[i]);
	}
	free(v);
	return -1;
}

/* Swap in new sources: old ones whose handles were taken over are freed
 * without closing them; the rest are closed. */
static void sources_swap(struct daemon *d, struct src **v, size_t n)
{
	for (size_t o = 0; o < d->nsrcs; o++) {
		struct src *old = d->srcs[o];
		for (size_t i = 0; i < n; i++) {
			if (old->tw && v[i]->tw == old->tw) {
				tail_watch_set_cookie(old->tw, v[i]);
				old->tw = NULL;
			}
			if (old->j && v[i]->j == old->j) {
				journal_set_cookie(old->j, v[i]);
				old->j = NULL;
			}
		}
		src_free(d, old);
	}
	free(d->srcs);
	d->srcs = v;
	d->nsrcs = n;
}

/* ---- configuration ---- */

static void nft_config(const struct config *c, struct fw_nft_config *fc)
{
	memset(fc, 0, sizeof *fc);
	fc->table = c->table;
	fc->all_ports = c->all_ports;
	fc->nports = c->nports;
	memcpy(fc->ports, c->ports, c->nports * sizeof c->ports[0]);
}

static void apply_log_level(const struct config *c)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (strcmp(c->log_level, names[i]) == 0)
			log_set_level((enum log_level)i);
}

/* Load a new bundle and make it current. At start, failure is fatal; on
 * reload, the old configuration stays in force. */
static int configure(struct daemon *d, bool initial)
{
	struct bundle nb;
	struct src **v;
	char err[1024];
	bool dry;

	if (bundle_load(&nb, d->cfgpath, d->cfg_explicit, err, sizeof err) < 0) {
		log_warnx("%s%s", err, initial ? "" : " -- reload refused, the running configuration stays in force");
		return -1;
	}
	dry = d->dry_run_flag || nb.cfg.dry_run;
	if (!dry) {
		struct fw_nft_config fc;
		if (!d->nft && !(d->nft = fw_nft_open(err, sizeof err))) {
			log_warnx("nftables: %s%s", err, initial ? "" : " -- reload refused");
			bundle_release(&nb);
			return -1;
		}
		nft_config(&nb.cfg, &fc);
		if (!initial && d->b.cfg.table && strcmp(d->b.cfg.table, nb.cfg.table) != 0)
			log_warnx("table renamed from '%s' to '%s': the old table stays until its blocks expire "
				  "(delete it with: nft delete table inet %s)", d->b.cfg.table, nb.cfg.table,
				  d->b.cfg.table);
		if (fw_nft_setup(d->nft, &fc, err, sizeof err) < 0) {
			log_warnx("nftables: cannot set up table inet %s: %s%s", nb.cfg.table, err,
				  initial ? "" : " -- reload refused");
			bundle_release(&nb);
			return -1;
		}
	}
	if (sources_build(d, &nb, &v, err, sizeof err) < 0) {
		log_warnx("%s%s", err, initial ? "" : " -- reload refused, the running configuration stays in force");
		bundle_release(&nb);
		return -1;
	}
	sources_swap(d, v, nb.cfg.nsources);
	screen_configure(d->screen, &nb.rules, &nb.cfg.allow, nb.cfg.max_keys);
	d->max_window_ms = ruleset_max_window(screen_rules(d->screen));
	d->dry_run = dry;
	apply_log_level(&nb.cfg);
	bundle_release(&d->b);
	d->b = nb;
	log_info("%s %s: %zu filters from %s, %zu rules from %s, %zu sources%s",
		 initial ? "started with" : "reloaded", d->b.cfg.file ? d->b.cfg.file : "built-in defaults",
		 filterset_nfilters(d->b.fs), d->b.filters_dir, screen_rules(d->screen)->n, d->b.rules_dir,
		 d->nsrcs, d->dry_run ? " (dry run: nftables untouched)" : "");
	for (size_t i = 0; i < d->b.cfg.nsources; i++) {
		const struct source_cfg *sc = &d->b.cfg.sources[i];
		log_info("source %s: %s%s", sc->name, sc->path ? sc->path : "journal ",
			 sc->path ? "" : sc->journal[0]);
	}
	return 0;
}

/* ---- signals ---- */

static void on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof si) == sizeof si) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading");
			configure(d, false);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping; blocks stay in the kernel until they expire",
				 si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			loop_stop(l);
			break;
		}
	}
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -1;
	return loop_add_fd(d->loop, d->sigfd, EPOLLIN, on_signal, d);
}

static void daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid");
	if (chdir("/") < 0)
		fatal("chdir /");
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "from-start", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .sigfd = -1 };
	int opt;

	while ((opt = getopt_long(argc, argv, "c:fnh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.cfgpath = optarg; d.cfg_explicit = true; break;
		case 'f': d.foreground = true; break;
		case 'n': d.dry_run_flag = true; break;
		case 'S': d.from_start = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailscreen run: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!d.foreground) {
		daemonize();
		log_to_syslog(true);
	}
	d.started = time(NULL);
	d.loop = loop_new();
	d.screen = screen_new();
	d.blocks = blocks_new();
	if (setup_signals(&d) < 0)
		fatal("signals");
	if (configure(&d, true) < 0)
		return 1;
	loop_on_idle(d.loop, commit, &d);
	sd_notify(0, "READY=1");
	loop_run(d.loop);
	sd_notify(0, "STOPPING=1");
	commit(d.loop, &d);
	sources_swap(&d, NULL, 0);
	if (d.tail)
		tail_free(d.tail);
	fw_nft_close(d.nft);
	screen_free(d.screen);
	blocks_free(d.blocks);
	bundle_release(&d.b);
	close(d.sigfd);
	loop_free(d.loop);
	return 0;
}
