// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * config - see config.h. Owns the option table and the struct config it
 * fills. Parsing is strict: unknown sections and keys are errors, values
 * are checked against their bounds, and nothing is applied until the whole
 * file is good.
 */
#include "config.h"
#include "cluster_entry.h"
#include "duration.h"
#include "httpd.h"
#include "inifile.h"
#include "inilayer.h"
#include "keydoc.h"
#include "notify.h"
#include "stats.h"
#include "log.h"
#include "line.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum opt_type { OPT_STR, OPT_BOOL, OPT_UINT, OPT_PORTS, OPT_DURATION };

struct option_def {
	const char *section, *key;
	enum opt_type type;
	size_t offset;
	const char *def;
	uint64_t min, max;
	const char *doc;
};

#define OFF(f) offsetof(struct config, f)

static const struct option_def options[] = {
	{ "daemon", "state_dir", OPT_STR, OFF(state_dir), "/var/lib/mailscreen", 0, 0,
	  "directory of the saved state (blocks, counts, read positions), created if missing" },
	{ "daemon", "control", OPT_STR, OFF(control), CONTROL_DEFAULT_PATH, 0, 0,
	  "control socket path" },
	{ "daemon", "control_group", OPT_STR, OFF(control_group), "", 0, 0,
	  "group whose members may use the control socket (none: root only)" },
	{ "daemon", "control_clients", OPT_UINT, OFF(control_clients), "16", 1, 1024,
	  "control socket connections served at once; more are told 'busy'" },
	{ "daemon", "user", OPT_STR, OFF(user), "", 0, 0,
	  "after start, run as this user (it is given state_dir), keeping only CAP_NET_ADMIN and "
	  "CAP_DAC_READ_SEARCH; none: stay uid 0 with only those two capabilities; read at start only" },
	{ "daemon", "filters", OPT_STR, OFF(filters), SYSCONFDIR "/mailscreen/filters", 0, 0,
	  "directory of filter files (*.conf), or a space-separated list of files" },
	{ "daemon", "rules", OPT_STR, OFF(rules), SYSCONFDIR "/mailscreen/rules", 0, 0,
	  "directory of rule files (*.conf), or a space-separated list of files" },
	{ "daemon", "dry_run", OPT_BOOL, OFF(dry_run), "no", 0, 0,
	  "log every decision but never touch nftables" },
	{ "daemon", "log_level", OPT_STR, OFF(log_level), "info", 0, 0,
	  "error, warning, info or debug" },
	{ "daemon", "max_line", OPT_UINT, OFF(max_line), "16384", 256, 1048576,
	  "longest log line matched, in bytes; a longer line is counted (status: cut lines) and never matched" },
	{ "daemon", "match_limit", OPT_UINT, OFF(match_limit), "100000", 1000, 100000000,
	  "PCRE2 match limit per regex and line (stops runaway backtracking)" },
	{ "daemon", "depth_limit", OPT_UINT, OFF(depth_limit), "10000", 100, 10000000,
	  "PCRE2 depth limit per regex and line" },
	{ "daemon", "max_keys", OPT_UINT, OFF(max_keys), "1000000", 1000, 100000000,
	  "most keys (addresses, prefixes) tracked per rule; beyond it the oldest are dropped" },
	{ "daemon", "max_accounts", OPT_UINT, OFF(max_accounts), "20000", 100, 100000000,
	  "most accounts tracked per rule counting per account; beyond it the least recently seen are "
	  "dropped (and counted in status)" },
	{ "daemon", "max_sessions", OPT_UINT, OFF(max_sessions), "50000", 100, 100000000,
	  "most sessions tracked per rule counting per session, and most sessions remembered as logged in; "
	  "beyond it the least recently seen are dropped (and counted in status)" },
	{ "daemon", "deny_file", OPT_STR, OFF(deny_file), "/var/lib/mailscreen/denied-accounts", 0, 0,
	  "blocked accounts, one a line, for Dovecot's passwd-file passdb with deny = yes" },
	{ "daemon", "blocklist", OPT_STR, OFF(blocklist), SYSCONFDIR "/mailscreen/blocklist", 0, 0,
	  "hand-edited block list file, watched for changes (a missing file is an empty list); read only while root "
	  "or the daemon's user owns it and no one else may write it" },
	{ "daemon", "state_interval", OPT_DURATION, OFF(state_interval_ms), "5s", 0, 0,
	  "how often the state is saved while it changes (and at once after a control command, and at stop)" },
	{ "daemon", "history", OPT_UINT, OFF(history_max), "1000", 0, 100000,
	  "ended blocks and account blocks kept for 'mailscreen history' (and in the saved state), the oldest "
	  "dropped first; 0 keeps none" },
	{ "daemon", "authenticated_ttl", OPT_DURATION, OFF(authenticated_ttl_ms), "1h", 0, 0,
	  "an address that logged in successfully counts as authenticated this long, for rules with "
	  "exempt_authenticated" },
	{ "nftables", "table", OPT_STR, OFF(table), "mailscreen", 0, 0,
	  "name of the daemon's own table (family inet)" },
	{ "nftables", "ports", OPT_PORTS, OFF(ports_text), "25 465 587 110 995 143 993 4190", 0, 0,
	  "TCP ports dropped for blocked addresses, or 'all'" },
	{ "nftables", "close_sessions", OPT_BOOL, OFF(close_sessions), "yes", 0, 0,
	  "destroy a newly blocked address's open TCP connections to those ports (established packets "
	  "are dropped either way)" },
	{ "nftables", "verify_interval", OPT_DURATION, OFF(verify_interval_ms), "1m", 0, 0,
	  "how often the kernel's sets are compared with the daemon's list, and any difference repaired "
	  "(stretched on big sets so the check takes at most 1% of the time)" },
	{ "repeat", "factor", OPT_UINT, OFF(repeat_factor), "2", 1, 100,
	  "each new block of the same address by a rule lasts this many times longer" },
	{ "repeat", "max", OPT_DURATION, OFF(repeat_max_ms), "7d", 0, 0,
	  "longest block the factor can reach (permanent allowed)" },
	{ "repeat", "permanent_after", OPT_UINT, OFF(repeat_permanent_after), "0", 0, 1000,
	  "the block that makes an address blocked this many times is permanent (0 = never)" },
	{ "repeat", "memory", OPT_DURATION, OFF(repeat_memory_ms), "30d", 0, 0,
	  "how long earlier blocks of an address are remembered" },
	{ "prefix", "enabled", OPT_BOOL, OFF(prefix_enabled), "no", 0, 0,
	  "block a whole prefix when enough of its addresses are blocked" },
	{ "prefix", "threshold", OPT_UINT, OFF(prefix_threshold), "5", 2, 65536,
	  "blocked addresses in one prefix that block the prefix" },
	{ "prefix", "ipv4_len", OPT_UINT, OFF(prefix_v4), "24", 8, 31, "IPv4 prefix length" },
	{ "prefix", "ipv6_len", OPT_UINT, OFF(prefix_v6), "48", 16, 127, "IPv6 prefix length" },
	{ "prefix", "block", OPT_DURATION, OFF(prefix_block_ms), "1d", 0, 0,
	  "how long a prefix is blocked" },
	{ "logging", "startup_lists", OPT_BOOL, OFF(log_startup_lists), "yes", 0, 0,
	  "at start, log the counts being kept per rule, the block list and the allow list: their sizes and "
	  "the first startup_list_entries entries of each" },
	{ "logging", "startup_list_entries", OPT_UINT, OFF(log_startup_entries), "20", 0, 10000,
	  "entries of each list logged at start (the rest only counted)" },
	{ "logging", "allow_hits", OPT_BOOL, OFF(log_allow_hits), "no", 0, 0,
	  "log each event not counted because its address is exempt: the allow list entry, this host, "
	  "loopback, a [nat] exemption or a login (exempt_authenticated); and [allow] account hits" },
	{ "logging", "auth_failures", OPT_BOOL, OFF(log_auth_failures), "no", 0, 0,
	  "log each failed login: address, account, service, filter" },
	{ "logging", "auth_successes", OPT_BOOL, OFF(log_auth_successes), "no", 0, 0,
	  "log each successful login: address, account, service, filter" },
	{ "logging", "connections", OPT_BOOL, OFF(log_connections), "no", 0, 0,
	  "log each connection the servers accepted: address, service, filter" },
	{ "logging", "lines_per_second", OPT_UINT, OFF(log_lines_per_second), "20", 1, 100000,
	  "most lines a second of allow_hits, auth_failures, auth_successes and connections together; the rest "
	  "are counted and said in one 'suppressed' line a second" },
	{ "logging", "block_hits", OPT_BOOL, OFF(log_block_hits), "yes", 0, 0,
	  "log the packets each block dropped since its last such line, read from the kernel's counters at each "
	  "kernel check (verify_interval; none while it is 0), at most once a minute per block" },
	{ "logging", "block_hit_lines", OPT_UINT, OFF(log_block_hit_lines), "20", 1, 10000,
	  "most block_hits lines per kernel check; the other blocks that dropped packets are summed in one line" },
	{ "logging", "config_changes", OPT_BOOL, OFF(log_config_changes), "yes", 0, 0,
	  "at a reload, log what changed: each key of mailscreen.conf, rule and filter with its old and new value, "
	  "sections added and removed" },
	{ "logging", "watch_config", OPT_BOOL, OFF(watch_config), "yes", 0, 0,
	  "reload when mailscreen.conf, its overrides, or the rule or filter files change (inotify; after 1s "
	  "without further changes), as SIGHUP does: a broken change is refused, said once" },
	{ "logging", "summary", OPT_STR, OFF(summary), "hour day", 0, 0,
	  "a summary in the log every minute, hour and/or day (any of minute hour day, or none): events by kind "
	  "and service, blocks made and lifted by origin, exempt hits, top addresses and accounts; an empty minute "
	  "logs nothing, an empty hour or day one short line" },
	{ "notify", "mail_to", OPT_STR, OFF(mail_to), "", 0, 0,
	  "addresses mailed (through sendmail) when addresses or accounts are blocked, and sent the periodic "
	  "report; none: no mail" },
	{ "notify", "mail_from", OPT_STR, OFF(mail_from), "", 0, 0,
	  "the mails' From address (none: mailscreen@ this host's name)" },
	{ "notify", "sendmail", OPT_STR, OFF(sendmail), "/usr/sbin/sendmail", 0, 0,
	  "the local sendmail program, run as: sendmail -i -- RECIPIENTS, the message on its input (never a shell)" },
	{ "notify", "program", OPT_STR, OFF(program), "", 0, 0,
	  "a program run for each block with its fields as arguments and environment (never a shell; none: no "
	  "program)" },
	{ "notify", "batch", OPT_DURATION, OFF(notify_batch_ms), "1m", 0, 0,
	  "blocks made within this time after the first go into one mail" },
	{ "notify", "report", OPT_STR, OFF(notify_report), "daily", 0, 0,
	  "the report mailed to mail_to: daily (at midnight), hourly, or no" },
	{ "notify", "max_mails_per_hour", OPT_UINT, OFF(notify_max_mails), "10", 1, 1000,
	  "block mails sent in any hour at most; the blocks of a flood wait for the next mail, which counts those "
	  "it does not list" },
	{ "notify", "max_listed", OPT_UINT, OFF(notify_max_listed), "100", 1, 10000,
	  "blocks listed in one mail; the rest are counted as not listed" },
	{ "notify", "timeout", OPT_DURATION, OFF(notify_timeout_ms), "30s", 0, 0,
	  "sendmail or the program is killed when it runs longer, and the failure logged" },
	{ "metrics", "textfile", OPT_STR, OFF(metrics_textfile), "", 0, 0,
	  "file the Prometheus metrics are written to (atomically, mode 0644) every interval and at stop, for "
	  "node_exporter's textfile collector: a name ending in .prom in its directory; none: not written" },
	{ "metrics", "interval", OPT_DURATION, OFF(metrics_interval_ms), "15s", 0, 0,
	  "how often the textfile is written and the kernel's drop counters are read (at least 1s)" },
	{ "metrics", "listen", OPT_STR, OFF(metrics_listen), "", 0, 0,
	  "ADDRESS:PORT (127.0.0.1:9154, [::1]:9154) where GET /metrics serves the metrics over HTTP; none: off; "
	  "check warns if it is not a loopback address" },
	{ "cluster", "redis", OPT_STR, OFF(cluster_redis), "", 0, 0,
	  "the Redis server the nodes of a cluster share decisions through: unix:/PATH, HOST:PORT or [ADDRESS]:PORT; "
	  "none: no cluster, this host alone (the other [cluster] keys are then unused)" },
	{ "cluster", "user", OPT_STR, OFF(cluster_user), "", 0, 0,
	  "the Redis ACL user (AUTH USER PASSWORD); none: no AUTH" },
	{ "cluster", "password_file", OPT_STR, OFF(cluster_password_file), "", 0, 0,
	  "file holding the user's password (its first line); owned by root or the daemon's user and readable by no "
	  "one else, or refused" },
	{ "cluster", "node", OPT_STR, OFF(cluster_node), "", 0, 0,
	  "this node's name in the cluster, up to 64 of A-Z a-z 0-9 . _ -, unique per node (none: the host name)" },
	{ "cluster", "prefix", OPT_STR, OFF(cluster_prefix), "mailscreen:", 0, 0,
	  "the prefix of every Redis key, so several clusters can share one Redis (A-Z a-z 0-9 . _ - :)" },
	{ "cluster", "share", OPT_STR, OFF(cluster_share_text), "blocks accounts", 0, 0,
	  "what this node publishes to the others: any of blocks (and unblocks), allows (and unallows), accounts "
	  "(account blocks and unblocks), counts (the events of shared = yes rules, counted in Redis)" },
	{ "cluster", "accept", OPT_STR, OFF(cluster_accept_text), "blocks accounts", 0, 0,
	  "what this node applies of the others' decisions: any of blocks allows accounts; allows only when listed, "
	  "so by default a node takes blocks but never an allow from the cluster" },
	{ "location", "database", OPT_STR, OFF(geo_database), "", 0, 0,
	  "MaxMind DB country database (GeoLite2-Country, GeoIP2-Country or DB-IP's country lite) that rules "
	  "with countries or not_countries ask; a replaced file is read again; none: no location screening" },
};
#define NOPTIONS (sizeof options / sizeof options[0])

/* [source NAME], [allow] and [nat]: the keys source_key() and
 * handle_value() accept, and what `mailscreen options` prints */
static const struct keydoc source_keys[] = {
	{ "path", "path or glob", "", "a log file, or a glob with wildcards in the last component; absolute" },
	{ "journal", "words", "", "instead of path: systemd units (a bare name means NAME.service) or FIELD=VALUE "
	  "matches, alternatives; prefer units (journald sets _SYSTEMD_UNIT itself)" },
	{ "journal_path", "path", "", "with journal: read this journal directory or *.journal file instead of the "
	  "system journal" },
	{ "format", "auto, syslog, postlog, dovecot or multilog", "auto", "a file source's header format; a line "
	  "of another format is counted (status: not_format) and matched as auto would" },
	{ "filters", "words", "(required)", "the filter files (names without .conf) that read this source" },
};
static const struct keydoc allow_keys[] = {
	{ "address", "ADDRESS[/LEN]", "", "never counted nor blocked; repeatable, IPv4 or IPv6; host bits set are "
	  "an error" },
	{ "account", "NAME or *@DOMAIN", "", "an account per-account rules never count (nor block); its failures "
	  "still count for per-address rules; repeatable, any case" },
};
static const struct keydoc nat_keys[] = {
	{ "exempt", "ADDRESS[/LEN] DOMAIN", "", "a NAT gateway's range and the mail domain of its users: their "
	  "logins exempt the address (see Exemptions); repeatable" },
};

static void set_str(struct config *c, size_t off, const char *v)
{
	char **p = (char **)((char *)c + off);
	free(*p);
	*p = xstrdup(v);
}

static int parse_ports(struct config *c, const char *v, char *err, size_t errlen)
{
	char **w, *st;
	size_t n = ini_words(v, &w, &st);
	int rc = 0;

	c->nports = 0;
	c->all_ports = false;
	if (n == 1 && strcmp(w[0], "all") == 0) {
		c->all_ports = true;
	} else if (n == 0) {
		rc = errf(err, errlen, "ports: give port numbers or 'all'");
	} else {
		for (size_t i = 0; i < n && rc == 0; i++) {
			char *end;
			long p = strtol(w[i], &end, 10);
			if (*end || p < 1 || p > 65535)
				rc = errf(err, errlen, "ports: '%s' is not a port number (1-65535) or 'all'", w[i]);
			else if (c->nports == sizeof c->ports / sizeof c->ports[0])
				rc = errf(err, errlen, "ports: at most %zu ports (or 'all')", sizeof c->ports / sizeof c->ports[0]);
			else
				c->ports[c->nports++] = (uint16_t)p;
		}
	}
	free(w);
	free(st);
	if (rc == 0)
		set_str(c, OFF(ports_text), v);
	return rc;
}

static int set_option(struct config *c, const struct option_def *o, const char *v, char *err, size_t errlen)
{
	switch (o->type) {
	case OPT_STR:
		if (!*v && *o->def)
			return errf(err, errlen, "%s: empty value", o->key);
		set_str(c, o->offset, v);
		return 0;
	case OPT_BOOL: {
		int b;
		if (ini_bool(v, &b) < 0)
			return errf(err, errlen, "%s: '%s' is not yes or no", o->key, v);
		*(int *)((char *)c + o->offset) = b;
		return 0;
	}
	case OPT_UINT: {
		char *end;
		unsigned long long n;
		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno || *end || end == v || v[0] == '-' || n < o->min || n > o->max)
			return errf(err, errlen, "%s: '%s' is not a number from %llu to %llu", o->key, v,
				    (unsigned long long)o->min, (unsigned long long)o->max);
		*(uint64_t *)((char *)c + o->offset) = n;
		return 0;
	}
	case OPT_PORTS:
		return parse_ports(c, v, err, errlen);
	case OPT_DURATION: {
		char msg[ERR_LEN];
		if (duration_parse(v, (uint64_t *)((char *)c + o->offset), 0, true, msg, sizeof msg) < 0)
			return errf(err, errlen, "%s: %s", o->key, msg);
		return 0;
	}
	}
	return -1;
}

static void defaults(struct config *c)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (set_option(c, &options[i], options[i].def, NULL, 0) < 0)
			log_panic("bad built-in default for %s", options[i].key);
}

static struct source_cfg *source_get(struct config *c, const char *name, const char *file, int lineno)
{
	for (size_t i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i].name, name) == 0)
			return &c->sources[i];
	XGROW(c->sources, c->asources, c->nsources + 1);
	c->sources[c->nsources] = (struct source_cfg){ .name = xstrdup(name), .file = file ? xstrdup(file) : NULL,
						       .lineno = lineno };
	return &c->sources[c->nsources++];
}

static char **words_dup(const char *v, size_t *count)
{
	char **w, *st, **out;
	size_t n = ini_words(v, &w, &st);

	out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(w[i]);
	free(w);
	free(st);
	if (count)
		*count = n;
	return out;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* What the handler needs besides the config: the file being read. */
struct cload {
	struct config *c;
	const char *file;               /* of the section */
	struct inilayer_feeder *fd;     /* fd->file: of the value */
};

static int source_key(struct config *c, struct cload *ld, const char *name, const char *key, const char *v,
		      int lineno, char *err, size_t errlen)
{
	struct source_cfg *s;

	if (!*name)
		return errf(err, errlen, "a source section needs a name: [source NAME]");
	if (!keydoc_find(source_keys, KEYDOC_N(source_keys), key)) {
		char known[256];
		keydoc_known(source_keys, KEYDOC_N(source_keys), known, sizeof known);
		return errf(err, errlen, "unknown key '%s' in [source %s] (known: %s)", key, name, known);
	}
	s = source_get(c, name, ld->file, lineno);
	if (strcmp(key, "path") == 0) {
		if (v[0] != '/')
			return errf(err, errlen, "path '%s' must be absolute", v);
		free(s->path);
		s->path = xstrdup(v);
	} else if (strcmp(key, "journal") == 0) {
		strv_free(s->journal);
		s->journal = words_dup(v, NULL);
		if (!s->journal[0])
			return errf(err, errlen, "journal: name units or FIELD=VALUE matches");
	} else if (strcmp(key, "journal_path") == 0) {
		free(s->journal_path);
		s->journal_path = xstrdup(v);
	} else if (strcmp(key, "format") == 0) {
		if ((s->format = logline_format_parse(v)) < 0)
			return errf(err, errlen, "format '%s': use auto, syslog, postlog, dovecot or multilog", v);
	} else if (strcmp(key, "filters") == 0) {
		strv_free(s->filters);
		s->filters = words_dup(v, &s->nfilters);
		s->filters_lineno = lineno;
		free(s->filters_file);
		s->filters_file = xstrdup(ld->fd->file);
		if (!s->nfilters)
			return errf(err, errlen, "filters: name at least one filter file");
	} else {
		log_panic("[source] key '%s' is in source_keys but not parsed", key);
	}
	return 0;
}

static int handle_value(struct config *c, struct cload *ld, const char *section, const char *key, const char *v,
			int lineno, char *err, size_t errlen);

/* A ';' or '#' after a space or tab starts a comment, as in rule and filter
 * files: "path = /var/log/mail.log  # postfix" is the path alone. */
static int handler(void *arg, const char *section, const char *key, const char *v, int lineno, int secline,
		   char *err, size_t errlen)
{
	struct cload *ld = arg;
	char *value = ini_strip_comment(v);
	int rc;

	(void)secline;
	rc = handle_value(ld->c, ld, section, key, value, lineno, err, errlen);

	free(value);
	return rc;
}

/* [allow] account = NAME or *@DOMAIN, kept in lower case as the
 * per-account rules count names. */
static int exempt_account(struct config *c, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	const char *star = strchr(v, '*');
	char *low;

	if (n == 0)
		return errf(err, errlen, "account: give an account name or *@DOMAIN");
	if (n > 256)
		return errf(err, errlen, "account: at most 256 bytes");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
			return errf(err, errlen, "account: no spaces or control characters in an account name");
	if (star && (star != v || v[1] != '@' || !v[2] || strchr(v + 2, '@') || strchr(v + 1, '*')))
		return errf(err, errlen, "account: '%s': the wildcard goes only in front of a domain, as in *@example.org",
			    v);
	low = xstrdup(v);
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	XGROW(c->exempt_accounts, c->aexempt_accounts, c->nexempt_accounts + 1);
	c->exempt_accounts[c->nexempt_accounts++] = low;
	return 0;
}

static int handle_value(struct config *c, struct cload *ld, const char *section, const char *key, const char *v,
			int lineno, char *err, size_t errlen)
{
	if (strncmp(section, "source", 6) == 0 && (section[6] == ' ' || section[6] == '\0')) {
		const char *name = section + 6;
		while (*name == ' ')
			name++;
		return source_key(c, ld, name, key, v, lineno, err, errlen);
	}
	if (strcmp(section, "nat") == 0) {
		char **w, *st, msg[256];
		size_t n = ini_words(v, &w, &st);
		struct nat_cfg nc;
		int rc = 0;
		if (!keydoc_find(nat_keys, KEYDOC_N(nat_keys), key))
			rc = errf(err, errlen, "unknown key '%s' in [nat] (known: exempt = ADDRESS[/LEN] DOMAIN)", key);
		else if (n != 2)
			rc = errf(err, errlen, "exempt = ADDRESS[/LEN] DOMAIN (e.g. 198.51.100.7 example.org)");
		else if (cidr_parse(w[0], &nc.range, msg, sizeof msg) < 0)
			rc = errf(err, errlen, "%s", msg);
		else if (strlen(w[1]) >= sizeof nc.domain || strchr(w[1], '@') || !strchr(w[1], '.'))
			rc = errf(err, errlen, "'%s' is not a mail domain (like example.org)", w[1]);
		if (rc == 0) {
			snprintf(nc.domain, sizeof nc.domain, "%s", w[1]);
			XGROW(c->nat, c->anat, c->nnat + 1);
			c->nat[c->nnat++] = nc;
		}
		free(w);
		free(st);
		return rc;
	}
	if (strcmp(section, "allow") == 0) {
		struct cidr r;
		char msg[ERR_LEN];
		if (!keydoc_find(allow_keys, KEYDOC_N(allow_keys), key))
			return errf(err, errlen, "unknown key '%s' in [allow] (known: address, account)", key);
		if (strcmp(key, "account") == 0)
			return exempt_account(c, v, err, errlen);
		if (cidr_parse(v, &r, msg, sizeof msg) < 0)
			return errf(err, errlen, "%s", msg);
		cidrlist_add(&c->allow, &r);
		return 0;
	}
	bool known_section = false;
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (strcmp(section, options[i].section) != 0)
			continue;
		known_section = true;
		if (strcmp(key, options[i].key) == 0)
			return set_option(c, &options[i], v, err, errlen);
	}
	if (known_section)
		return errf(err, errlen, "unknown key '%s' in [%s] (see 'mailscreen options')", key, section);
	return errf(err, errlen, "unknown section [%s] (known: daemon, nftables, logging, notify, metrics, repeat, prefix, "
		    "location, cluster, source NAME, allow, nat)", section);
}

/* "file:line" of the value of [section] key in force, for the checks
 * made once the files are read; the configuration file if none. */
static const char *where(const struct config *c, const char *section, const char *key, char *buf, size_t len)
{
	size_t ns = c->layers ? inilayer_nsections(c->layers) : 0;

	for (size_t sec = ns; sec-- > 0;) {
		struct ini_section_info si;
		inilayer_section(c->layers, sec, &si);
		if (strcmp(si.name, section) != 0)
			continue;
		for (size_t k = 0; k < inilayer_nkeys(c->layers, sec); k++) {
			size_t nl;
			struct ini_layer_value lv;
			if (strcmp(inilayer_key(c->layers, sec, k, &nl), key) != 0)
				continue;
			inilayer_layer(c->layers, sec, k, nl - 1, &lv);
			snprintf(buf, len, "%s:%d", lv.file, lv.lines[lv.nvalues - 1]);
			return buf;
		}
	}
	return c->file ? c->file : "(defaults)";
}

/* [metrics]: the server's address, the interval, the file */
static int metrics_check(const struct config *c, char *at, size_t atlen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	bool loopback;
	char msg[ERR_LEN];

	if (c->metrics_interval_ms < 1000)
		return errf(err, errlen, "%s: interval must be at least 1s", where(c, "metrics", "interval", at, atlen));
	if (*c->metrics_listen && httpd_parse_addr(c->metrics_listen, &ss, &sslen, &loopback, msg, sizeof msg) < 0)
		return errf(err, errlen, "%s: listen %s", where(c, "metrics", "listen", at, atlen), msg);
	if (*c->metrics_textfile && c->metrics_textfile[0] != '/')
		return errf(err, errlen, "%s: textfile '%s' must be an absolute path",
			    where(c, "metrics", "textfile", at, atlen), c->metrics_textfile);
	return 0;
}

/* [cluster]: the values' syntax, and the password file's owner and mode
 * (a secret others may read is refused, as ssh refuses a key). */
static int cluster_check(struct config *c, char *at, size_t atlen, char *err, size_t errlen)
{
	struct cluster_redis r;
	char msg[ERR_LEN];
	struct stat st;

	if (cluster_classes_parse(c->cluster_share_text, &c->cluster_share, msg, sizeof msg) < 0)
		return errf(err, errlen, "%s: share: %s", where(c, "cluster", "share", at, atlen), msg);
	if (cluster_classes_parse(c->cluster_accept_text, &c->cluster_accept, msg, sizeof msg) < 0)
		return errf(err, errlen, "%s: accept: %s", where(c, "cluster", "accept", at, atlen), msg);
	if (c->cluster_accept & CLUSTER_COUNTS)
		return errf(err, errlen, "%s: accept: counts is shared in Redis, not accepted; accept blocks, allows "
			    "and accounts",
			    where(c, "cluster", "accept", at, atlen));
	if (cluster_name_check(c->cluster_prefix, true, msg, sizeof msg) < 0)
		return errf(err, errlen, "%s: %s", where(c, "cluster", "prefix", at, atlen), msg);
	if (!*c->cluster_node) {
		char host[256] = "";
		if (gethostname(host, sizeof host - 1) < 0 || !*host)
			snprintf(host, sizeof host, "localhost");
		host[CLUSTER_NAME_MAX] = '\0';
		free(c->cluster_node);
		c->cluster_node = xstrdup(host);
		if (*c->cluster_redis && cluster_name_check(host, false, msg, sizeof msg) < 0)
			return errf(err, errlen, "%s: the host name is no node name (%s): set node",
				    where(c, "cluster", "node", at, atlen), msg);
	} else if (cluster_name_check(c->cluster_node, false, msg, sizeof msg) < 0) {
		return errf(err, errlen, "%s: %s", where(c, "cluster", "node", at, atlen), msg);
	}
	if (!*c->cluster_redis)
		return 0;
	if (cluster_redis_parse(c->cluster_redis, &r, msg, sizeof msg) < 0)
		return errf(err, errlen, "%s: %s", where(c, "cluster", "redis", at, atlen), msg);
	if (*c->cluster_password_file) {
		const char *pf = c->cluster_password_file;
		struct passwd *pw = *c->user ? getpwnam(c->user) : NULL;
		if (pf[0] != '/')
			return errf(err, errlen, "%s: password_file '%s' must be an absolute path",
				    where(c, "cluster", "password_file", at, atlen), pf);
		if (stat(pf, &st) < 0)
			return errf(err, errlen, "%s: password_file '%s': %s", where(c, "cluster", "password_file", at, atlen),
				    pf, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return errf(err, errlen, "%s: password_file '%s' is not a regular file",
				    where(c, "cluster", "password_file", at, atlen), pf);
		if (st.st_mode & 077)
			return errf(err, errlen, "%s: password_file '%s' may be read by others (mode %04o): chmod 600 it",
				    where(c, "cluster", "password_file", at, atlen), pf, (unsigned)(st.st_mode & 07777));
		if (st.st_uid != 0 && !(pw && st.st_uid == pw->pw_uid))
			return errf(err, errlen, "%s: password_file '%s' is owned by uid %u, neither root nor the daemon's "
				    "user: chown it", where(c, "cluster", "password_file", at, atlen), pf,
				    (unsigned)st.st_uid);
	}
	return 0;
}

static int validate(struct config *c, char *err, size_t errlen)
{
	const char *f = c->file ? c->file : "(defaults)";
	char at[4200];

	if (strcmp(c->log_level, "error") && strcmp(c->log_level, "warning") && strcmp(c->log_level, "info") &&
	    strcmp(c->log_level, "debug"))
		return errf(err, errlen, "%s: log_level '%s' is not error, warning, info or debug",
			    where(c, "daemon", "log_level", at, sizeof at), c->log_level);
	if (metrics_check(c, at, sizeof at, err, errlen) < 0)
		return -1;
	if (cluster_check(c, at, sizeof at, err, errlen) < 0)
		return -1;
	if (*c->user && !getpwnam(c->user))
		return errf(err, errlen, "%s: user '%s' is not a known user (create it, e.g. adduser --system --group "
			    "%s)", where(c, "daemon", "user", at, sizeof at), c->user, c->user);
	for (size_t i = 0; i < strlen(c->table); i++)
		if (!((c->table[i] >= 'a' && c->table[i] <= 'z') || (c->table[i] >= '0' && c->table[i] <= '9') ||
		      c->table[i] == '_' || c->table[i] == '-') || i >= 32)
			return errf(err, errlen, "%s: table name '%s': use up to 32 of a-z 0-9 _ -",
				    where(c, "nftables", "table", at, sizeof at), c->table);
	{
		const char *key = NULL, *sec = "logging";
		if (stats_periods_parse(c->summary, &c->summary_mask, err, errlen) < 0)
			key = "summary";
		else if (notify_check(c->mail_to, c->mail_from, c->sendmail, c->program, c->notify_report, &key, err,
				      errlen) < 0)
			sec = "notify";
		if (key) {
			char msg[ERR_LEN];
			snprintf(msg, sizeof msg, "%s", err);
			return errf(err, errlen, "%s: %s", where(c, sec, key, at, sizeof at), msg);
		}
	}
	for (size_t i = 0; i < c->nsources; i++) {
		struct source_cfg *s = &c->sources[i];
		const char *sf = s->file ? s->file : f;
		if (!s->path && !s->journal)
			return errf(err, errlen, "%s:%d: [source %s] needs 'path' (a log file) or 'journal' (units)",
				    sf, s->lineno, s->name);
		if (s->path && s->journal)
			return errf(err, errlen, "%s:%d: [source %s] has both 'path' and 'journal'; make two sources",
				    sf, s->lineno, s->name);
		if (s->journal_path && !s->journal)
			return errf(err, errlen, "%s:%d: [source %s]: journal_path needs 'journal'", sf, s->lineno, s->name);
		if (s->format && s->journal)
			return errf(err, errlen, "%s:%d: [source %s]: format is a file's (the journal's entries have "
				    "no header to parse)", sf, s->lineno, s->name);
		if (!s->nfilters)
			return errf(err, errlen, "%s:%d: [source %s] needs 'filters' (e.g. filters = postfix dovecot)",
				    sf, s->lineno, s->name);
		for (size_t k = 0; k < i; k++)
			if (s->path && c->sources[k].path && strcmp(s->path, c->sources[k].path) == 0)
				return errf(err, errlen, "%s:%d: [source %s] reads '%s' like [source %s]; name all its "
					    "filters in one source", sf, s->lineno, s->name, s->path, c->sources[k].name);
	}
	return 0;
}

/* Debian defaults: Postfix and Dovecot through rsyslog's mail.log when it
 * exists, otherwise straight from the journal (Debian 12 has no rsyslog). */
static void default_sources(struct config *c)
{
	struct source_cfg *s = source_get(c, "mail", NULL, 0);

	if (access("/var/log/mail.log", F_OK) == 0) {
		s->path = xstrdup("/var/log/mail.log");
	} else {
		s->journal = words_dup("postfix@-.service postfix.service dovecot.service", NULL);
	}
	s->filters = words_dup("postfix dovecot dovecot-connect", &s->nfilters);
}

static int section_begin(void *arg, const struct ini_section_info *si, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	((struct cload *)arg)->file = si->file;
	return 0;
}

int config_load(struct config *c, const char *path, bool must_exist, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	defaults(c);
	if (!path) {
		path = CONFIG_DEFAULT_FILE;
		if (access(path, F_OK) != 0 && errno == ENOENT)
			path = NULL;
	} else if (!must_exist && access(path, F_OK) != 0) {
		path = NULL;
	}
	if (path) {
		struct inilayer_feeder fd = { .begin = section_begin, .key = handler };
		struct cload ld = { .c = c, .fd = &fd };
		char **over = inilayer_overrides_of_file(path);
		fd.arg = &ld;
		int rc;
		c->file = xstrdup(path);
		c->layers = inilayer_new();
		rc = inilayer_add(c->layers, path, NULL, false, err, errlen);
		for (size_t i = 0; over[i] && rc == 0; i++)
			rc = inilayer_add(c->layers, over[i], NULL, true, err, errlen);
		inifile_paths_free(over);
		if (rc == 0)
			rc = inilayer_feed(c->layers, NULL, &fd, err, errlen);
		if (rc < 0) {
			config_release(c);
			return -1;
		}
	}
	if (c->nsources == 0)
		default_sources(c);
	if (validate(c, err, errlen) < 0) {
		config_release(c);
		return -1;
	}
	return 0;
}

int config_peek_daemon_key(const char *path, const char *key, char **out, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, klen = strlen(key);
	bool in_daemon = false;
	ssize_t n;

	*out = NULL;
	if (!fp)
		return errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, fp)) >= 0) {
		char *p = line, *end = line + n;
		while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[') {
			char *close = strchr(p, ']');
			in_daemon = close && close - p == 7 && strncmp(p + 1, "daemon", 6) == 0;
			continue;
		}
		if (!in_daemon || strncmp(p, key, klen) != 0)
			continue;
		p += klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=' && *p != ':')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		free(*out);
		*out = ini_strip_comment(p);
		if (!**out) {
			free(*out);
			*out = NULL;
		}
	}
	free(line);
	fclose(fp);
	return *out ? 1 : 0;
}

void config_release(struct config *c)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].type == OPT_STR || options[i].type == OPT_PORTS)
			free(*(char **)((char *)c + options[i].offset));
	for (size_t i = 0; i < c->nsources; i++) {
		free(c->sources[i].name);
		free(c->sources[i].file);
		free(c->sources[i].filters_file);
		free(c->sources[i].path);
		free(c->sources[i].journal_path);
		strv_free(c->sources[i].journal);
		strv_free(c->sources[i].filters);
	}
	free(c->sources);
	free(c->nat);
	free(c->file);
	inilayer_free(c->layers);
	cidrlist_release(&c->allow);
	for (size_t i = 0; i < c->nexempt_accounts; i++)
		free(c->exempt_accounts[i]);
	free(c->exempt_accounts);
	memset(c, 0, sizeof *c);
}

void config_print_reference(FILE *fp, bool markdown)
{
	const char *sec = "";

	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option_def *o = &options[i];
		char type[64], title[32];
		struct keydoc k = { o->key, type, o->def, o->doc };
		if (strcmp(sec, o->section) != 0) {
			snprintf(title, sizeof title, "[%s]", o->section);
			fprintf(fp, "%s", *sec ? "\n" : "");
			keydoc_print_head(fp, markdown, title, NULL);
			sec = o->section;
		}
		switch (o->type) {
		case OPT_STR: snprintf(type, sizeof type, "text"); break;
		case OPT_BOOL: snprintf(type, sizeof type, "yes/no"); break;
		case OPT_PORTS: snprintf(type, sizeof type, "ports or all"); break;
		case OPT_DURATION: snprintf(type, sizeof type, "duration"); break;
		case OPT_UINT:
			snprintf(type, sizeof type, "number, %llu to %llu", (unsigned long long)o->min,
				 (unsigned long long)o->max);
			break;
		}
		keydoc_print_row(fp, markdown, &k);
	}
	fprintf(fp, "\n");
	keydoc_print(fp, markdown, "[source NAME]", NULL, source_keys, KEYDOC_N(source_keys));
	fprintf(fp, "\n");
	keydoc_print(fp, markdown, "[allow]", NULL, allow_keys, KEYDOC_N(allow_keys));
	fprintf(fp, "\n");
	keydoc_print(fp, markdown, "[nat]", NULL, nat_keys, KEYDOC_N(nat_keys));
}

bool config_option(size_t i, const char **section, const char **key, const char **def)
{
	if (i >= NOPTIONS)
		return false;
	*section = options[i].section;
	*key = options[i].key;
	*def = *options[i].def ? options[i].def : "(none)";
	return true;
}

const char *config_resolve_dir(const char *configured, const char *builtin, const char *leaf)
{
	static char buf[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;
	struct stat st;

	if (strcmp(configured, builtin) != 0 || stat(configured, &st) == 0)
		return configured;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return configured;
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (strlen(exe) + strlen(leaf) + 2 > sizeof buf)
			break;
		strcpy(buf, exe);
		strcat(buf, "/");
		strcat(buf, leaf);
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
			return buf;
	}
	return configured;
}
