// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon - "mailscreen run": the one event loop, its start and stop.
 *
 * sources (daemon_sources.c) -> lines -> matcher -> events -> screen ->
 * decisions (daemon_pipeline.c) -> blocks (daemon_block.c) -> the kernel
 * (daemon_guard.c). This file owns the struct daemon (the only mutable
 * state), the signalfd (HUP reloads, TERM/INT stop), the on-demand sweep
 * timer, the saving of the state behind changes, and the configuration:
 * a reload builds a complete new bundle first and swaps it in only if all
 * of it is good; counters and blocks survive it. A change of the files
 * (daemon_cfgwatch.c) reloads the same way, silently when no value
 * changed, and does not repeat a refusal already said. Stopping leaves the
 * blocks in the kernel, where their timeouts keep running. Must never:
 * stop with a half-applied configuration, or exit on a runtime error.
 */
#include "blockfile.h"
#include "blocks.h"
#include "bundle.h"
#include "cmd.h"
#include "daemon.h"
#include "daemon_logging.h"
#include "dedup.h"
#include "daemon_state.h"
#include "duration.h"
#include "fw_nft.h"
#include "log.h"
#include "loop.h"
#include "privs.h"
#include "screen.h"
#include "state.h"
#include "tail.h"
#include "window.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
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
#define MAX_ACCOUNT_BLOCKS 100000

uint64_t daemon_now_ms(void)
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

void daemon_arm_sweep(struct daemon *d)
{
	if (!d->sweep_timer)
		d->sweep_timer = loop_add_timer(d->loop, SWEEP_MS, sweep, d);
}

static void sweep(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	struct screen_stats st;
	uint64_t now = daemon_now_ms();
	/* catching up, the windows run on the log's clock: a count in
	 * progress there is older than the wall clock's window, and must not
	 * be dropped before the lines that follow it are read */
	uint64_t wclock = d->past_read ? d->past_clock : now;

	(void)l;
	d->sweep_timer = 0;
	screen_expire(d->screen, wclock);
	blocks_expire(d->blocks, now);
	if (!d->past_read)
		blocks_expire(d->past, now);
	window_expire(d->offenders, wclock);
	allow_expire(screen_allowlist(d->screen), now);
	accounts_expire(d->accounts, now, daemon_account_expired, d);
	d->past_read = false;
	screen_stats(d->screen, &st);
	if (st.tracked || blocks_count(d->blocks) || accounts_count(d->accounts) || window_size(d->offenders) ||
	    screen_allowlist(d->screen)->n || blocks_count(d->past))
		daemon_arm_sweep(d);
}

/* ---- the saved state: written behind, every state_interval while
 * something changed, at once after a control command, and at stop. While
 * the loop runs, a child process writes it (state.h); one at a time, and
 * a save asked for meanwhile follows when it is done. ---- */

static void state_timer_cb(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	d->state_timer = 0;
	daemon_save_state(d);
}

static void state_report(struct daemon *d, int rc, const char *err)
{
	d->saves.last_ms = loop_now_ms() - d->saves.started_ms;
	if (rc < 0) {
		d->saves.failed++;
	} else {
		d->saves.ok++;
		d->saves.last_at = (int64_t)time(NULL);
	}
	if (rc < 0) {
		if (!d->state_warned++)
			log_warnx("cannot save state: %s (blocks are kept in the kernel; counts and positions would be "
				  "lost at a restart)", err);
	} else {
		d->state_warned = 0;
	}
}

static void state_saved(void *arg, int rc, const char *err)
{
	struct daemon *d = arg;

	state_report(d, rc, err);
	if (d->state_again) {
		d->state_again = false;
		daemon_save_state(d);
	}
}

/* wait: in this process, now (at start and at stop) */
static void save_state(struct daemon *d, bool wait)
{
	char err[ERR_LEN];
	struct state_view v;

	if (d->state_timer) {
		loop_cancel_timer(d->loop, d->state_timer);
		d->state_timer = 0;
	}
	d->state_is_dirty = false;
	if (d->dry_run || !d->state_ok)
		return;
	daemon_state_view(d, &v);
	if (!wait) {
		if (!d->saver)
			d->saver = state_saver_new(d->loop, state_saved, d);
		if (state_saver_busy(d->saver)) {
			d->state_again = true;
			return;
		}
		d->saves.started_ms = loop_now_ms();
		if (state_saver_start(d->saver, d->b.cfg.state_dir, &v, daemon_now_ms(), err, sizeof err) == 0)
			return;
		log_debug("saving the state in the daemon itself: %s", err);
	}
	state_saver_cancel(d->saver);
	d->state_again = false;
	d->saves.started_ms = loop_now_ms();
	state_report(d, state_save(d->b.cfg.state_dir, &v, daemon_now_ms(), err, sizeof err), err);
}

void daemon_save_state(struct daemon *d)
{
	save_state(d, false);
}

void daemon_state_dirty(struct daemon *d)
{
	d->state_is_dirty = true;
	if (!d->state_timer && d->state_ok && !d->dry_run)
		d->state_timer = loop_add_timer(d->loop, d->b.cfg.state_interval_ms, state_timer_cb, d);
}

/* ---- configuration ---- */

static void apply_log_level(const struct config *c)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (strcmp(c->log_level, names[i]) == 0)
			log_set_level((enum log_level)i);
}

enum reload_why { RELOAD_START, RELOAD_ASKED, RELOAD_CHANGED };

/* A reload refused: said, and remembered, so that the same refusal of
 * the same broken files is not said again at every change of them. */
static void refuse(struct daemon *d, enum reload_why why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct daemon *d, enum reload_why why, const char *fmt, ...)
{
	char msg[2 * ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (why == RELOAD_CHANGED && d->refused && strcmp(d->refused, msg) == 0) {
		log_debug("%s (said before)", msg);
		return;
	}
	log_warnx("%s", msg);
	free(d->refused);
	d->refused = xstrdup(msg);
}

/* [location]: the country database of the configuration, opened when its
 * path is new. One that cannot be read leaves location screening off
 * (said once; the rules that need it count nothing) until the file can be
 * read: the screen looks at it again as events come (geo.h). */
static void configure_location(struct daemon *d, const char *path)
{
	const struct ruleset *rs = screen_rules(d->screen);
	size_t nloc = 0;
	char err[ERR_LEN];

	for (size_t i = 0; i < rs->n; i++)
		nloc += rs->v[i].enabled && rule_is_location(&rs->v[i]);
	if (d->geo && strcmp(geo_path(d->geo), path) == 0)
		return;
	screen_set_geo(d->screen, NULL);
	geo_free(d->geo);
	d->geo = NULL;
	if (!*path) {
		if (nloc)
			log_warnx("location: %zu rules screen by location but [location] database is not set: they "
				  "count nothing", nloc);
		return;
	}
	d->geo = geo_new(path);
	screen_set_geo(d->screen, d->geo);
	if (geo_load(d->geo, err, sizeof err) < 0)
		log_warnx("location: %s -- location screening is off (%zu rules count nothing) until it can be read",
			  err, nloc);
	else
		log_info("location: database %s (%s)", path, geo_type(d->geo));
}

/* Load a new bundle and make it current. At start, failure is fatal; on
 * reload, the old configuration stays in force. 0, 1 (RELOAD_CHANGED:
 * nothing changed, nothing done) or -1. */
static int configure(struct daemon *d, enum reload_why why)
{
	struct bundle nb;
	struct src **v;
	char err[ERR_LEN];
	bool dry, resync, initial = why == RELOAD_START;

	if (bundle_load(&nb, d->cfgpath, d->cfg_explicit, err, sizeof err) < 0) {
		refuse(d, why, "%s%s", err, initial ? "" : " -- reload refused, the running configuration stays in force");
		return -1;
	}
	if (why == RELOAD_CHANGED) {
		/* a save that changed no value (or a change a SIGHUP applied
		 * already): nothing to do, nothing to say */
		if (!logging_config_diff(&d->b, &nb, false)) {
			bundle_release(&nb);
			return 1;
		}
		log_info("configuration files changed: reloading");
	}
	dry = d->dry_run_flag || nb.cfg.dry_run;
	if (!dry) {
		struct fw_nft_config fc;
		if (!d->nft && !(d->nft = fw_nft_open(err, sizeof err))) {
			refuse(d, why, "nftables: %s%s", err, initial ? "" : " -- reload refused");
			bundle_release(&nb);
			return -1;
		}
		daemon_nft_config(&nb.cfg, &fc);
		if (!initial && d->b.cfg.table && strcmp(d->b.cfg.table, nb.cfg.table) != 0)
			log_warnx("table renamed from '%s' to '%s': the old table stays until its blocks expire "
				  "(delete it with: nft delete table inet %s)", d->b.cfg.table, nb.cfg.table,
				  d->b.cfg.table);
		if (fw_nft_setup(d->nft, &fc, err, sizeof err) < 0) {
			refuse(d, why, "nftables: cannot set up table inet %s: %s%s", nb.cfg.table, err,
			       initial ? "" : " -- reload refused");
			bundle_release(&nb);
			return -1;
		}
	}
	if (daemon_sources_build(d, &nb, &v, err, sizeof err) < 0) {
		refuse(d, why, "%s%s", err, initial ? "" : " -- reload refused, the running configuration stays in force");
		bundle_release(&nb);
		return -1;
	}
	daemon_sources_swap(d, v, nb.cfg.nsources);
	{
		struct screen_opts so = { .allow = &nb.cfg.allow, .nat = nb.cfg.nat, .nnat = nb.cfg.nnat,
					  .exempt_accounts = nb.cfg.exempt_accounts,
					  .nexempt_accounts = nb.cfg.nexempt_accounts,
					  .max_keys = nb.cfg.max_keys, .max_accounts = nb.cfg.max_accounts,
					  .max_sessions = nb.cfg.max_sessions, .auth_ttl_ms = nb.cfg.authenticated_ttl_ms };
		screen_configure(d->screen, &nb.rules, &so);
	}
	configure_location(d, nb.cfg.geo_database);
	history_set_max(d->history, nb.cfg.history_max);
	/* each offender keeps the times of its last blocks: enough to count up
	 * to permanent_after, and 32 (the factor is capped by max long before) */
	window_reconfigure(d->offenders, nb.cfg.repeat_permanent_after > 32 ? (uint32_t)nb.cfg.repeat_permanent_after : 32,
			   nb.cfg.repeat_memory_ms, nb.cfg.max_keys);

	d->max_window_ms = ruleset_max_window(screen_rules(d->screen));
	/* enforcement starts now (dry run switched off) or in a new table:
	 * the kernel gets what the list needs */
	resync = !initial && !dry && (d->dry_run || !d->b.cfg.table || strcmp(d->b.cfg.table, nb.cfg.table) != 0);
	d->dry_run = dry;
	apply_log_level(&nb.cfg);
	if (!initial)
		logging_config_diff(&d->b, &nb, nb.cfg.log_config_changes);
	bundle_release(&d->b);
	d->b = nb;
	free(d->refused);
	d->refused = NULL;
	cfgwatch_update(d);
	daemon_report_configure(d);
	if (!initial) {
		daemon_guard_follow(d);
		if (resync)
			daemon_kernel_check(d, false);
		daemon_arm_verify(d);
	}
	if (!d->bfile_path || strcmp(d->bfile_path, d->b.cfg.blocklist) != 0) {
		char msg[ERR_LEN];
		blockfile_close(d->bfile);
		free(d->bfile_path);
		d->bfile_path = xstrdup(d->b.cfg.blocklist);
		d->bfile = blockfile_open(d->loop, d->bfile_path, daemon_on_blockfile, d, msg, sizeof msg);
		if (!d->bfile)
			log_warnx("block list %s: %s", d->bfile_path, msg);
	} else if (d->bfile) {
		blockfile_reload(d->bfile);
	}
	log_info("%s %s: %zu filters from %s, %zu rules from %s, %zu sources%s",
		 initial ? "started with" : "reloaded", d->b.cfg.file ? d->b.cfg.file : "built-in defaults",
		 filterset_nfilters(d->b.fs), d->b.filters_dir, screen_rules(d->screen)->n, d->b.rules_dir,
		 d->nsrcs, d->dry_run ? " (dry run: nftables untouched)" : "");
	for (size_t i = 0; i < d->b.cfg.nsources; i++) {
		const struct source_cfg *sc = &d->b.cfg.sources[i];
		log_info("source %s: %s%s", sc->name, sc->path ? sc->path : "journal ",
			 sc->path ? "" : sc->journal[0]);
	}
	if (!initial) {
		metrics_configure(d->metrics);
		daemon_cluster_configure(d);
	}
	return 0;
}

/* systemd's view (Type=notify): what the daemon holds. With a note (start,
 * reload) at once; otherwise at most once a second, the last change
 * told when the second is over. */
#define STATUS_MS 1000

static void status_due(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	d->status_timer = 0;
	daemon_notify_status(d, NULL);
}

void daemon_notify_status(struct daemon *d, const char *note)
{
	uint64_t now = daemon_now_ms();

	if (!note && now - d->status_ms < STATUS_MS) {
		if (!d->status_timer)
			d->status_timer = loop_add_timer(d->loop, STATUS_MS - (now - d->status_ms), status_due, d);
		return;
	}
	d->status_ms = now;
	sd_notifyf(0, "STATUS=%s%s%zu blocks, %zu accounts blocked, %llu lines read", note ? note : "",
		   note ? "; " : "", blocks_count(d->blocks), accounts_count(d->accounts),
		   (unsigned long long)d->lines);
}

int daemon_reload(struct daemon *d)
{
	int rc;

	sd_notify(0, "RELOADING=1");
	rc = configure(d, RELOAD_ASKED);
	sd_notify(0, "READY=1");
	daemon_notify_status(d, rc < 0 ? "reload refused, the running configuration stays in force" : "reloaded");
	return rc;
}

int daemon_reload_changed(struct daemon *d)
{
	int rc = configure(d, RELOAD_CHANGED);

	if (rc != 1)
		daemon_notify_status(d, rc < 0 ? "files changed: reload refused, the running configuration stays in force" :
				     "files changed: reloaded");
	return rc < 0 ? -1 : 0;
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
			daemon_reload(d);
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

/* Where a detached daemon's log goes: -1 syslog (a daemon listens at
 * /dev/log), else the fd its stderr becomes. Without syslog nothing may be
 * lost silently, and it says so before it detaches: a standard error the
 * caller pointed at a file, a pipe or a socket (the journal) stays the log;
 * otherwise (a terminal, /dev/null) the log goes to LOG_FALLBACK_FILE; if
 * that cannot be opened either, the daemon does not start. */
#define LOG_FALLBACK_FILE "/var/log/mailscreen.log"
static int detached_log(void)
{
	char why[256], where[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (log_syslog_probe(why, sizeof why) == 0)
		return -1;
	if (fstat(2, &st) == 0 && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		n = readlink("/proc/self/fd/2", where, sizeof where - 1);
		where[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "mailscreen: %s: the log goes to standard error, as started (%s)\n", why,
			n > 0 ? where : "?");
		return 2;
	}
	fd = open(LOG_FALLBACK_FILE, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "mailscreen: %s, and cannot open " LOG_FALLBACK_FILE " (%s): not started; run it "
			"with --foreground under a supervisor, or with standard error redirected to a file\n", why,
			fd < 0 ? strerror(errno) : "not a regular file");
		exit(1);
	}
	fprintf(stderr, "mailscreen: %s: the log goes to " LOG_FALLBACK_FILE "\n", why);
	return fd;
}

/* logfd: the fd that becomes stderr (-1: /dev/null, the log is syslog) */
static void daemonize(int logfd)
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
		if (logfd < 0)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (logfd > 2) {
		dup2(logfd, 2);
		close(logfd);
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
		int logfd = detached_log();
		daemonize(logfd);
		if (logfd < 0)
			log_to_syslog(true);
		else
			log_set_stamps(true);
	}
	d.started = time(NULL);
	/* listings show local time: the zone is read now, before privileges go */
	tzset();
	d.loop = loop_new();
	d.screen = screen_new();
	d.dedup = dedup_new();
	daemon_report_init(&d);
	daemon_kernel_init(&d);
	d.offenders = window_new(32, 30ULL * 86400 * 1000, 1000000);
	d.past = blocks_new(NULL);
	d.accounts = accounts_new(MAX_ACCOUNT_BLOCKS);
	d.history = history_new(HISTORY_DEFAULT_MAX);
	daemon_history_init(&d);
	if (setup_signals(&d) < 0)
		fatal("signals");
	/* the control socket first: a second daemon is refused before it
	 * touches nftables or anything else */
	{
		struct config c0;
		char err[ERR_LEN];
		if (config_load(&c0, d.cfgpath, d.cfg_explicit, err, sizeof err) < 0) {
			log_warnx("%s", err);
			exit(1);        /* start-up failed: exit, not return (the state stays reachable for LeakSanitizer) */
		}
		d.ctl = control_open(d.loop, c0.control, c0.control_group, (unsigned)c0.control_clients, daemon_control,
				     &d, err, sizeof err);
		if (d.ctl && !d.dry_run_flag && !c0.dry_run) {
			if (mkdir(c0.state_dir, 0700) < 0 && errno != EEXIST)
				log_warn("cannot create state directory '%s'; state will not be saved", c0.state_dir);
			else
				d.state_ok = true;
			if (d.state_ok)
				state_load(c0.state_dir, &d.saved);
		}
		config_release(&c0);
		if (!d.ctl) {
			log_warnx("control socket: %s", err);
			exit(1);        /* start-up failed: exit, not return (the state stays reachable for LeakSanitizer) */
		}
	}
	logging_init(&d);
	/* what start-up makes again (the block list file, the saved state) is
	 * not new: neither counted nor told (daemon_report.c) */
	d.restoring = true;
	if (configure(&d, RELOAD_START) < 0) {
		control_close(d.ctl);
		exit(1);
	}
	daemon_guard_open(&d);
	if (d.saved.loaded) {
		size_t n = daemon_state_restore(&d, &d.saved);
		char ago[32];
		uint64_t now = daemon_now_ms();
		duration_format(now > d.saved.saved_ms ? now - d.saved.saved_ms : 0, ago, sizeof ago);
		log_info("restored %zu blocks, %zu blocked accounts and the counts saved %s ago", n, accounts_count(d.accounts), ago);
	}
	snprintf(d.cluster_saved_id, sizeof d.cluster_saved_id, "%s", d.saved.cluster_pos);
	snprintf(d.cluster_saved_stream, sizeof d.cluster_saved_stream, "%s", d.saved.cluster_stream);
	saved_state_release(&d.saved);
	d.restoring = false;
	daemon_kernel_check(&d, true);
	daemon_arm_verify(&d);
	logging_startup(&d);
	/* before privileges go: a port below 1024 can still be bound */
	d.metrics = metrics_new(&d);
	metrics_configure(d.metrics);
	/* the password file is read here, still with every privilege */
	daemon_cluster_configure(&d);
	/* least privilege from here on (privs.h): [daemon] user gets the state
	 * directory, then only CAP_NET_ADMIN and CAP_DAC_READ_SEARCH are kept */
	{
		char err[ERR_LEN];
		if ((d.state_ok && privs_give_dir(d.b.cfg.user, d.b.cfg.state_dir, err, sizeof err) < 0) ||
		    privs_drop(d.b.cfg.user, err, sizeof err) < 0) {
			control_close(d.ctl);
			fatalx("cannot drop privileges: %s", err);
		}
		privs_describe(err, sizeof err);
		log_info("privileges dropped: %s", err);
	}
	/* a snapshot from the first moment on: even a crash in the first
	 * seconds goes on from here, not from the end of the logs */
	save_state(&d, true);
	loop_on_idle(d.loop, daemon_commit, &d);
	sd_notify(0, "READY=1");
	daemon_notify_status(&d, "started");
	loop_run(d.loop);
	sd_notify(0, "STOPPING=1");
	daemon_commit(d.loop, &d);
	daemon_commit(d.loop, &d);
	daemon_cluster_free(&d);
	save_state(&d, true);
	metrics_stop(d.metrics);
	metrics_free(d.metrics);
	state_saver_free(d.saver);
	control_close(d.ctl);
	cfgwatch_close(&d);
	logging_free(&d);
	free(d.refused);
	blockfile_close(d.bfile);
	free(d.bfile_path);
	daemon_write_deny_file(&d);
	daemon_sources_swap(&d, NULL, 0);
	if (d.tail)
		tail_free(d.tail);
	daemon_guard_close(&d);
	fw_nft_close(d.nft);
	daemon_report_free(&d);
	screen_free(d.screen);
	geo_free(d.geo);
	dedup_free(d.dedup);
	blocks_free(d.blocks);
	blocks_free(d.allows);
	cidrlist_release(&d.host);
	free(d.expired_saved);
	window_free(d.offenders);
	blocks_free(d.past);
	accounts_free(d.accounts);
	history_free(d.history);
	free(d.kill);
	bundle_release(&d.b);
	close(d.sigfd);
	loop_free(d.loop);
	return 0;
}

