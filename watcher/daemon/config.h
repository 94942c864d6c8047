/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config - mailscreen.conf: one table lists every option of [daemon] and
 * [nftables] with its type, default, bounds and documentation; the parser,
 * `mailscreen check`, `mailscreen options` (the reference in the README) and
 * the defaults all read that table. [source NAME] and [allow] sections are
 * parsed beside it. Loading never changes a running daemon: it fills a new
 * struct config that the caller swaps in only when it is complete.
 */
#ifndef MS_CONFIG_H
#define MS_CONFIG_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_FILE SYSCONFDIR "/mailscreen/mailscreen.conf"
#define CONTROL_DEFAULT_PATH "/run/mailscreen/control"  /* [daemon] control */

struct source_cfg {
	char *name;
	char *path;             /* file or glob; NULL for a journal source */
	char **journal;         /* NULL-terminated terms; NULL for a file source */
	char *journal_path;     /* journal directory or file; NULL = the system journal */
	int format;             /* enum logline_format (line.h): a file's header format, 0 = auto */
	char **filters;         /* filter file names (without .conf) */
	size_t nfilters;
	char *file;             /* the file of its section (an override's, if it adds it) */
	int lineno;             /* first line of the section */
	int filters_lineno;     /* the line of its 'filters' key */
	char *filters_file;     /* and its file */
};

struct nat_cfg {
	struct cidr range;
	char domain[128];
};

struct inilayer;

struct config {
	char *file;             /* the file loaded; NULL = built-in defaults */
	struct inilayer *layers;        /* it and its overrides, with every value's origin; NULL = defaults */
	/* [daemon] */
	char *state_dir, *control, *filters, *rules, *log_level;
	int dry_run;
	uint64_t max_line, match_limit, depth_limit, max_keys, max_accounts, max_sessions;
	char *control_group;    /* "" = root only */
	char *user;             /* "" = stay uid 0 after start (privs.h) */
	uint64_t control_clients;
	char *deny_file, *blocklist;
	uint64_t authenticated_ttl_ms, state_interval_ms;
	uint64_t history_max;   /* ended blocks kept for 'history' */
	/* [metrics] */
	char *metrics_textfile, *metrics_listen;        /* "": off */
	uint64_t metrics_interval_ms;
	/* [logging] */
	char *summary;
	unsigned summary_mask;  /* STATS_PERIOD_* */
	/* [notify] */
	char *mail_to, *mail_from, *sendmail, *program, *notify_report;
	uint64_t notify_batch_ms, notify_max_mails, notify_max_listed, notify_timeout_ms;
	/* [repeat] */
	uint64_t repeat_factor, repeat_max_ms, repeat_permanent_after, repeat_memory_ms;
	/* [prefix] */
	int prefix_enabled;
	uint64_t prefix_threshold, prefix_v4, prefix_v6, prefix_block_ms;
	/* [cluster] */
	char *cluster_redis;            /* "" = no cluster */
	char *cluster_user, *cluster_password_file, *cluster_node, *cluster_prefix;
	char *cluster_share_text, *cluster_accept_text;
	unsigned cluster_share, cluster_accept; /* CLUSTER_* (cluster_entry.h) */
	/* [location] */
	char *geo_database;     /* "" = none */
	/* [nftables] */
	char *table;
	char *ports_text;
	bool all_ports;
	int close_sessions;
	uint64_t verify_interval_ms;
	uint16_t ports[64];
	size_t nports;
	/* [logging] (daemon_logging.c) */
	int log_startup_lists, log_allow_hits, log_auth_failures, log_auth_successes, log_connections;
	int log_block_hits, log_config_changes, watch_config;
	uint64_t log_startup_entries, log_lines_per_second, log_block_hit_lines;
	/* [source NAME] */
	struct source_cfg *sources;
	size_t nsources, asources;
	/* [allow] */
	struct cidrlist allow;
	char **exempt_accounts;         /* [allow] account, lower case */
	size_t nexempt_accounts, aexempt_accounts;
	/* [nat] */
	struct nat_cfg *nat;
	size_t nnat, anat;
};

/* Load path; path NULL means the default file if it exists, else the
 * built-in defaults. must_exist: an explicit -c. The file's local
 * overrides are read after it (inilayer_overrides_of_file: NAME.d/ *.conf,
 * then NAME.local). On error the message is "file:line: what is wrong
 * (what to do)" and *c is left released. */
int config_load(struct config *c, const char *path, bool must_exist, char *err, size_t errlen);
void config_release(struct config *c);
/* Option i of the table (false past the last): its section, key and
 * default as shown to the user. */
bool config_option(size_t i, const char **section, const char **key, const char **def);
/* Read one [daemon] key from a file that may not load (config_load
 * refused it): lines are scanned on their own, so a bad line elsewhere
 * does not hide the key. The last value wins, as in config_load. 1 with
 * *out (free it): found; 0: the file has no such key (its default
 * applies); -1 with a message: the file cannot be read. For the control
 * commands, which must reach the daemon after a bad edit. */
int config_peek_daemon_key(const char *path, const char *key, char **out, char *err, size_t errlen);
/* The reference of mailscreen.conf: every section and key with its type,
 * default and meaning, as plain text or as Markdown tables (the README's
 * configuration reference). */
void config_print_reference(FILE *fp, bool markdown);
/* Resolve a directory option: if the configured directory does not exist
 * and it is the built-in default, fall back to the directory next to the
 * executable (running from a source tree). Returns a static buffer. */
const char *config_resolve_dir(const char *configured, const char *builtin, const char *leaf);

#endif
