// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_ctl - the commands that talk to the running daemon over its control
 * socket: status, list, block, unblock, allow, unallow, block-account,
 * unblock-account, reset, pause, resume, reload. One table describes each
 * command's arguments; one function parses, checks them here (so a typo
 * gets a precise message without a round trip), sends them in a normal
 * form and prints the reply. What a command does is the daemon's business:
 * this file never decides anything, never touches nftables or state. An
 * argument quoted in a complaint is printed escaped: it may be text a
 * script took from a mail log.
 *
 * Exit status: 0 ok; 1 the daemon answered "error: ..." or could not be
 * reached; 2 a usage error.
 */
#include "addr.h"
#include "cmd.h"
#include "config.h"
#include "control.h"
#include "duration.h"
#include "jsonw.h"
#include "log.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_MAX 256
#define REASON_MAX 159         /* what the daemon keeps of a reason */

enum arg_kind { ARG_NONE, ARG_CIDR, ARG_DURATION, ARG_USER, ARG_CHOICE };

struct ctl_cmd {
	const char *name;
	enum arg_kind arg, opt_arg;     /* one required, one optional positional */
	const char *choices;            /* ARG_CHOICE: the words, space-separated */
	bool json, reason;              /* takes --json, --reason TEXT */
	const char *synopsis, *doc;
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", ARG_NONE, ARG_NONE, NULL, true, false, "[--json]",
	  "Show the daemon's state: sources, rules, blocks, counters." },
	{ "list", ARG_CHOICE, ARG_NONE, "blocks allows failures accounts", true, false,
	  "blocks|allows|failures|accounts [--json]",
	  "List the current blocks, dynamic allow entries, counted failures or blocked accounts." },
	{ "block", ARG_CIDR, ARG_DURATION, NULL, false, true, "ADDR[/LEN] [DURATION] [--reason TEXT]",
	  "Block an address or range (for DURATION, e.g. 1h, 7d or permanent; without it, the\n"
	  "daemon's default)." },
	{ "unblock", ARG_CIDR, ARG_NONE, NULL, false, false, "ADDR[/LEN]",
	  "Lift the block of an address or range." },
	{ "allow", ARG_CIDR, ARG_DURATION, NULL, false, false, "ADDR[/LEN] [DURATION]",
	  "Never count nor block an address or range (for DURATION, or until unallowed)." },
	{ "unallow", ARG_CIDR, ARG_NONE, NULL, false, false, "ADDR[/LEN]",
	  "Remove an address or range from the dynamic allow list." },
	{ "block-account", ARG_USER, ARG_DURATION, NULL, false, false, "USER [DURATION]",
	  "Refuse logins of an account (for DURATION, or the daemon's default)." },
	{ "unblock-account", ARG_USER, ARG_NONE, NULL, false, false, "USER",
	  "Lift the block of an account." },
	{ "reset", ARG_CHOICE, ARG_NONE, "failures blocks allows all", false, false, "failures|blocks|allows|all",
	  "Forget counted failures, lift every block, empty the dynamic allow list, or all of these." },
	{ "pause", ARG_NONE, ARG_NONE, NULL, false, false, "",
	  "Stop blocking (events are still counted and logged) until 'resume'." },
	{ "resume", ARG_NONE, ARG_NONE, NULL, false, false, "",
	  "Block again after 'pause'." },
	{ "reload", ARG_NONE, ARG_NONE, NULL, false, false, "",
	  "Reload the configuration, filters and rules (as SIGHUP does); a broken file is reported\n"
	  "and the running configuration stays." },
};

static void usage(FILE *fp, const struct ctl_cmd *cmd)
{
	fprintf(fp,
		"usage: mailscreen %s [-c FILE | -s PATH]%s%s\n"
		"\n"
		"%s\n"
		"\n"
		"  -c, --config FILE  take the socket path from this configuration's 'control' key\n"
		"                     (default " CONFIG_DEFAULT_FILE ")\n"
		"  -s, --socket PATH  the control socket (overrides -c)\n",
		cmd->name, *cmd->synopsis ? " " : "", cmd->synopsis, cmd->doc);
	if (cmd->json)
		fprintf(fp, "      --json         print JSON\n");
	if (cmd->reason)
		fprintf(fp, "  -r, --reason TEXT  why, for the log and the block list\n");
	fprintf(fp, "  -h, --help         this help\n");
}

/* "mailscreen CMD: MESSAGE" on stderr, the message escaped (text_escape) */
static void complain(const struct ctl_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void complain(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	char raw[1024], msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	text_escape(msg, sizeof msg, raw, strlen(raw));
	fprintf(stderr, "mailscreen %s: %s\n", cmd->name, msg);
}

/* The daemon refuses what the socket refuses (control.h): C0 controls,
 * DEL and C1 controls; other bytes may be an account's own. */
static bool has_control_chars(const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if (*u < 0x20 || *u == 0x7f || (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f))
			return true;
	return false;
}

static bool is_choice(const char *choices, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = choices; *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, w, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* Check one positional argument and point *word at its normal form:
 * buf (of buflen bytes) or w itself. 0, or -1 after printing why. */
static int check_arg(const struct ctl_cmd *cmd, enum arg_kind kind, char *w, char **word, char *buf, size_t buflen)
{
	char msg[256];

	switch (kind) {
	case ARG_CIDR: {
		struct cidr r;
		char norm[CIDR_STRLEN];
		if (cidr_parse(w, &r, msg, sizeof msg) < 0) {
			complain(cmd, "%s", msg);
			return -1;
		}
		cidr_format(&r, norm);
		snprintf(buf, buflen, "%s", norm);
		*word = buf;
		return 0;
	}
	case ARG_DURATION: {
		uint64_t ms;
		if (duration_parse(w, &ms, 0, true, msg, sizeof msg) < 0) {
			complain(cmd, "%s", msg);
			return -1;
		}
		duration_format(ms, buf, buflen);
		*word = buf;
		return 0;
	}
	case ARG_USER:
		if (!*w || strlen(w) > USER_MAX || has_control_chars(w) || strpbrk(w, " \t")) {
			complain(cmd, "'%s' is not an account name (no spaces or control characters, at most %d bytes)",
				 w, USER_MAX);
			return -1;
		}
		*word = w;
		return 0;
	case ARG_CHOICE:
		if (!is_choice(cmd->choices, w)) {
			complain(cmd, "unknown subcommand '%s' (one of: %s)", w, cmd->choices);
			return -1;
		}
		*word = w;
		return 0;
	case ARG_NONE:
		break;
	}
	return -1;
}

static const char *arg_name(enum arg_kind kind)
{
	switch (kind) {
	case ARG_CIDR: return "an address or range (ADDR[/LEN])";
	case ARG_DURATION: return "a duration";
	case ARG_USER: return "an account name";
	case ARG_CHOICE: return "a subcommand";
	case ARG_NONE: break;
	}
	return "nothing";
}

/* The socket: -s, else the configuration's 'control' key. An explicit -c
 * must load; the default file falls back to the built-in path with a
 * warning, so that 'reload' still reaches a daemon after a bad edit. */
static int socket_path(const char *cfgpath, const char *sockpath, char **out)
{
	struct config cfg;
	char err[1024];

	if (sockpath) {
		*out = strdup(sockpath);
		return *out ? 0 : -1;
	}
	if (config_load(&cfg, cfgpath, cfgpath != NULL, err, sizeof err) < 0) {
		if (cfgpath) {
			fprintf(stderr, "mailscreen: %s\n", err);
			return -1;
		}
		fprintf(stderr, "mailscreen: warning: %s (using the built-in socket path)\n", err);
		if (config_load(&cfg, "/nonexistent/mailscreen.conf", false, err, sizeof err) < 0) {
			fprintf(stderr, "mailscreen: %s\n", err);
			return -1;
		}
	}
	*out = strdup(cfg.control);
	config_release(&cfg);
	return *out ? 0 : -1;
}

int cmd_ctl(int argc, char **argv)
{
	const struct ctl_cmd *cmd = NULL;
	struct option longopts[8];
	const char *cfgpath = NULL, *sockpath = NULL;
	char *reason = NULL, norm[2][64], *words[8], *path, err[1024];
	struct ctl_reply r;
	int nlong = 0, nwords = 0, npos, opt, rc;
	bool json = false;

	for (size_t i = 0; i < sizeof ctl_cmds / sizeof ctl_cmds[0]; i++)
		if (strcmp(argv[0], ctl_cmds[i].name) == 0)
			cmd = &ctl_cmds[i];
	if (!cmd)
		log_panic("cmd_ctl: no command '%s' in the table", argv[0]);

	longopts[nlong++] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[nlong++] = (struct option){ "socket", required_argument, NULL, 's' };
	longopts[nlong++] = (struct option){ "help", no_argument, NULL, 'h' };
	if (cmd->json)
		longopts[nlong++] = (struct option){ "json", no_argument, NULL, 'j' };
	if (cmd->reason)
		longopts[nlong++] = (struct option){ "reason", required_argument, NULL, 'r' };
	longopts[nlong] = (struct option){ NULL, 0, NULL, 0 };

	opterr = 0;
	while ((opt = getopt_long(argc, argv, cmd->reason ? ":c:s:hr:" : ":c:s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfgpath = optarg; break;
		case 's': sockpath = optarg; break;
		case 'j': json = true; break;
		case 'r': reason = optarg; break;
		case 'h': usage(stdout, cmd); return 0;
		case ':':
			complain(cmd, "option '%s' needs a value", argv[optind - 1]);
			usage(stderr, cmd);
			return 2;
		default:
			complain(cmd, "unknown option '%s'", argv[optind - 1]);
			usage(stderr, cmd);
			return 2;
		}
	}

	words[nwords++] = argv[0];
	npos = argc - optind;
	if (cmd->arg != ARG_NONE && npos < 1) {
		fprintf(stderr, "mailscreen %s: missing %s\n", cmd->name, arg_name(cmd->arg));
		usage(stderr, cmd);
		return 2;
	}
	if (npos > (cmd->arg != ARG_NONE) + (cmd->opt_arg != ARG_NONE)) {
		int extra = optind + (cmd->arg != ARG_NONE) + (cmd->opt_arg != ARG_NONE);
		complain(cmd, "unexpected argument '%s'", argv[extra]);
		usage(stderr, cmd);
		return 2;
	}
	for (int i = 0; i < npos; i++) {
		if (check_arg(cmd, i == 0 ? cmd->arg : cmd->opt_arg, argv[optind + i], &words[nwords], norm[i],
			      sizeof norm[i]) < 0)
			return 2;
		nwords++;
	}
	if (reason) {
		if (!*reason || strlen(reason) > REASON_MAX || !text_printable(reason, strlen(reason), NULL)) {
			complain(cmd, "--reason: give one line of UTF-8 text without control characters, at most %d "
				 "bytes", REASON_MAX);
			return 2;
		}
		words[nwords++] = "--reason";
		words[nwords++] = reason;
	}
	if (json)
		words[nwords++] = "--json";
	words[nwords] = NULL;

	if (socket_path(cfgpath, sockpath, &path) < 0)
		return 1;
	rc = control_call(path, nwords, words, &r, err, sizeof err);
	free(path);
	if (rc < 0) {
		fprintf(stderr, "mailscreen: %s\n", err);
		return 1;
	}
	if (r.len)
		fwrite(r.body, 1, r.len, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_reply_release(&r);
		fprintf(stderr, "mailscreen: cannot write the reply to standard output\n");
		return 1;
	}
	rc = 0;
	if (r.error) {
		fprintf(stderr, "mailscreen: %s\n", r.msg);
		rc = 1;
	}
	ctl_reply_release(&r);
	return rc;
}
