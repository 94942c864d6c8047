// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_ctl - the commands that talk to the running daemon over its control
 * socket: status, list, block, unblock, allow, unallow, block-account,
 * unblock-account, reset, pause, resume, reload: the rows of ctl_cmds.h's
 * table. One function parses a command's options and arguments as its
 * row says, checks them here (so a typo gets a precise message without a
 * round trip), sends them in a normal form and prints the reply. What a
 * command does is the daemon's business: this file never decides
 * anything, never touches nftables or state. An argument quoted in a
 * complaint is printed escaped: it may be text a script took from a mail
 * log.
 *
 * Exit status: 0 ok; 1 the daemon answered "error: ..." or could not be
 * reached; 2 a usage error.
 */
#include "blocklist_edit.h"
#include "cmd.h"
#include "config.h"
#include "control.h"
#include "ctl_cmds.h"
#include "fileio.h"
#include "jsonw.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *fp, const struct ctl_cmd *cmd)
{
	char syn[256];

	ctl_cmd_synopsis(cmd, syn, sizeof syn);
	fprintf(fp,
		"usage: mailscreen %s [-c FILE | -s PATH]%s%s\n"
		"\n"
		"%s\n"
		"\n"
		"  -c, --config FILE  take the socket path from this configuration's 'control' key\n"
		"                     (and --from-file its 'blocklist')\n"
		"                     (default " CONFIG_DEFAULT_FILE ")\n"
		"  -s, --socket PATH  the control socket (overrides -c)\n",
		cmd->name, *syn ? " " : "", syn, cmd->doc);
	for (size_t k = 0; k < CTL_NOPTS; k++) {
		const struct ctl_opt *o = &ctl_opts[k];
		char lng[64], shrt[4] = "   ";
		if (!(cmd->flags & o->flag))
			continue;
		snprintf(lng, sizeof lng, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		if (o->letter)
			snprintf(shrt, sizeof shrt, "-%c,", o->letter);
		fprintf(fp, "  %s %-13s  %s\n", shrt, lng, o->help);
	}
	fprintf(fp, "  -h, --help         this help\n");
}

/* getopt's code for the option ctl_opts[k] */
#define OPT_CODE(k) (ctl_opts[k].letter ? ctl_opts[k].letter : 0x100 + (int)(k))

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

/* Check one positional argument of the given kind and point *word at its
 * normal form: w itself, or a copy in buf (as large as a ctl_val's). 0, or
 * -1 after printing why. */
static int check_arg(const struct ctl_cmd *cmd, enum ctl_arg kind, char *w, char **word, char *buf)
{
	struct ctl_val v;
	char msg[ERR_LEN];

	if (ctl_arg_lint(kind, w, msg, sizeof msg) < 0 || ctl_arg_parse(cmd, kind, w, &v, msg, sizeof msg) < 0) {
		complain(cmd, "%s", msg);
		return -1;
	}
	if (v.text == w) {
		*word = w;
	} else {
		snprintf(buf, sizeof v.buf, "%s", v.text);
		*word = buf;
	}
	return 0;
}

/* The socket: -s, else the configuration's [daemon] 'control' key, else
 * the built-in path. A configuration that does not load (a bad edit the
 * daemon has not read yet, or refused) must not lock the admin out: its
 * 'control' line is read on its own (config_peek_daemon_key), with a
 * warning. Only an explicit -c FILE that cannot be read at all is an
 * error. *from says where the path came from, for the hint. */
static int socket_path(const char *cfgpath, const char *sockpath, char **out, const char **from)
{
	const char *file = cfgpath ? cfgpath : CONFIG_DEFAULT_FILE;
	struct config cfg;
	char err[ERR_LEN], perr[ERR_LEN];
	int rc;

	if (sockpath) {
		*from = "given";
		*out = strdup(sockpath);
		return *out ? 0 : -1;
	}
	if (config_load(&cfg, cfgpath, cfgpath != NULL, err, sizeof err) == 0) {
		*from = cfg.file ? "configuration" : "default";
		*out = strdup(cfg.control);
		config_release(&cfg);
		return *out ? 0 : -1;
	}
	rc = config_peek_daemon_key(file, "control", out, perr, sizeof perr);
	if (rc < 0 && cfgpath) {
		fprintf(stderr, "mailscreen: %s\n", perr);
		fprintf(stderr, "mailscreen: give the daemon's socket with -s SOCKET (default " CONTROL_DEFAULT_PATH ")\n");
		return -1;
	}
	fprintf(stderr, "mailscreen: warning: %s\n", err);
	if (rc == 1) {
		fprintf(stderr, "mailscreen: warning: the configuration does not load; using its socket %s "
			"([daemon] control)\n", *out);
		*from = "broken configuration";
		return 0;
	}
	fprintf(stderr, "mailscreen: warning: the configuration does not load; using the built-in socket "
		CONTROL_DEFAULT_PATH "\n");
	*from = "default";
	*out = strdup(CONTROL_DEFAULT_PATH);
	return *out ? 0 : -1;
}

/* No daemon answered at path: say how to reach one, never a dead end.
 * Lists the sockets in path's directory and in the default directory. */
static void unreachable_hint(const char *path, const char *from)
{
	char tmp[2][PATH_MAX];
	const char *dirs[2];
	size_t found = 0;

	snprintf(tmp[0], sizeof tmp[0], "%s", path);
	snprintf(tmp[1], sizeof tmp[1], "%s", CONTROL_DEFAULT_PATH);
	dirs[0] = dirname(tmp[0]);
	dirs[1] = dirname(tmp[1]);
	for (int i = 0; i < 2; i++) {
		DIR *dir;
		struct dirent *e;
		if (i == 1 && strcmp(dirs[0], dirs[1]) == 0)
			break;
		if (!(dir = opendir(dirs[i])))
			continue;
		while ((e = readdir(dir))) {
			char p[2 * PATH_MAX];
			struct stat st;
			snprintf(p, sizeof p, "%s/%s", dirs[i], e->d_name);
			if (strcmp(p, path) == 0 || stat(p, &st) < 0 || !S_ISSOCK(st.st_mode))
				continue;
			if (!found++)
				fprintf(stderr, "mailscreen: other control sockets:\n");
			fprintf(stderr, "  %s   (mailscreen status -s %s)\n", p, p);
		}
		closedir(dir);
	}
	fprintf(stderr, "mailscreen: no daemon at %s (the %s socket): a running daemon listens on the socket of the "
		"configuration it started with ([daemon] control, default " CONTROL_DEFAULT_PATH "); give it with "
		"-s SOCKET%s\n", path, from, found ? "" : " ('ss -xlp | grep mailscreen' shows where it listens)");
}

/* unblock --from-file: the block list file the configuration names
 * (read leniently, like the socket, if it does not load). 0, or -1 after
 * saying why. */
static int from_file(const char *cfgpath, const char *word)
{
	const char *file = cfgpath ? cfgpath : CONFIG_DEFAULT_FILE;
	struct config cfg;
	struct cidr target;
	char err[ERR_LEN], *path = NULL;
	int n;

	if (cidr_parse(word, &target, err, sizeof err) < 0) {
		fprintf(stderr, "mailscreen unblock: %s\n", err);
		return -1;
	}
	if (config_load(&cfg, cfgpath, cfgpath != NULL, err, sizeof err) == 0) {
		path = strdup(cfg.blocklist);
		config_release(&cfg);
	} else if (config_peek_daemon_key(file, "blocklist", &path, err, sizeof err) < 0) {
		fprintf(stderr, "mailscreen unblock: %s\n", err);
		return -1;
	} else if (!path) {
		path = strdup(SYSCONFDIR "/mailscreen/blocklist");
	}
	if (!path)
		return -1;
	n = blocklist_remove(path, &target, stdout, err, sizeof err);
	if (n < 0)
		fprintf(stderr, "mailscreen unblock: %s\n", err);
	free(path);
	return n < 0 ? -1 : 0;
}

static int fill_html(void *arg, int fd, const char *tmp, char *err, size_t errlen)
{
	const struct ctl_reply *r = arg;

	if (write_all(fd, r->body, r->len) < 0)
		return errf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
	return 0;
}

/* --html FILE: the page, replaced whole (fileio.h) */
static int write_html(const char *file, const struct ctl_reply *r)
{
	char err[ERR_LEN], *tmp;
	size_t n = strlen(file) + 16;
	int rc;

	tmp = malloc(n);
	if (!tmp)
		return 1;
	snprintf(tmp, n, "%s.tmp.XXXXXX", file);
	rc = file_replace(file, tmp, fill_html, (void *)(uintptr_t)r, err, sizeof err);
	free(tmp);
	if (rc < 0) {
		fprintf(stderr, "mailscreen report: %s\n", err);
		return 1;
	}
	return 0;
}

int cmd_ctl(int argc, char **argv)
{
	const struct ctl_cmd *cmd = ctl_cmd_find(argv[0]);
	struct option longopts[4 + CTL_NOPTS];
	const char *cfgpath = NULL, *sockpath = NULL;
	char *optval[CTL_NOPTS] = { NULL }, norm[CTL_MAX_ARGS][sizeof ((struct ctl_val *)0)->buf], optword[CTL_NOPTS][40], optstring[32] = ":c:s:h";
	char *words[CTL_MAX_ARGS + 2 * CTL_NOPTS + 2], *path, err[1024];
	const char *from = "default", *html = NULL;
	struct ctl_reply r;
	int nlong = 0, nwords = 0, npos, nmax, opt, rc;
	bool none;

	if (!cmd)
		log_panic("cmd_ctl: no command '%s' in the table", argv[0]);

	longopts[nlong++] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[nlong++] = (struct option){ "socket", required_argument, NULL, 's' };
	longopts[nlong++] = (struct option){ "help", no_argument, NULL, 'h' };
	for (size_t k = 0; k < CTL_NOPTS; k++) {
		const struct ctl_opt *o = &ctl_opts[k];
		if (!(cmd->flags & o->flag))
			continue;
		longopts[nlong++] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL, OPT_CODE(k) };
		if (o->letter)
			snprintf(optstring + strlen(optstring), sizeof optstring - strlen(optstring), "%c%s", o->letter,
				 o->arg ? ":" : "");
	}
	longopts[nlong] = (struct option){ NULL, 0, NULL, 0 };

	opterr = 0;
	while ((opt = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		size_t k = 0;

		switch (opt) {
		case 'c': cfgpath = optarg; continue;
		case 's': sockpath = optarg; continue;
		case 'h': usage(stdout, cmd); return 0;
		case ':':
			complain(cmd, "option '%s' needs a value", argv[optind - 1]);
			usage(stderr, cmd);
			return 2;
		}
		while (k < CTL_NOPTS && !((cmd->flags & ctl_opts[k].flag) && opt == OPT_CODE(k)))
			k++;
		if (k == CTL_NOPTS) {
			complain(cmd, "unknown option '%s'", argv[optind - 1]);
			usage(stderr, cmd);
			return 2;
		}
		optval[k] = ctl_opts[k].arg ? optarg : "";
	}

	words[nwords++] = argv[0];
	npos = argc - optind;
	nmax = (int)ctl_cmd_max_args(cmd);
	if (npos < (int)cmd->required) {
		fprintf(stderr, "mailscreen %s: missing %s\n", cmd->name, ctl_arg_what(cmd->args[npos]));
		usage(stderr, cmd);
		return 2;
	}
	if (npos > nmax) {
		complain(cmd, "unexpected argument '%s'", argv[optind + nmax]);
		usage(stderr, cmd);
		return 2;
	}
	for (int i = 0; i < npos; i++) {
		if (check_arg(cmd, cmd->args[i], argv[optind + i], &words[nwords], norm[i]) < 0)
			return 2;
		nwords++;
	}
	for (size_t k = 0; k < CTL_NOPTS; k++) {
		char *v = optval[k];
		if (!v)
			continue;
		if (ctl_opts[k].flag == CTL_REASON &&
		    (!*v || strlen(v) > CTL_REASON_MAX || !text_printable(v, strlen(v), NULL))) {
			complain(cmd, "--reason: give one line of UTF-8 text without control characters, at most %d "
				 "bytes", CTL_REASON_MAX);
			return 2;
		}
		snprintf(optword[k], sizeof optword[k], "--%s", ctl_opts[k].name);
		words[nwords++] = optword[k];
		if (ctl_opts[k].flag == CTL_HTML) {
			/* the file is the command line's to write: the daemon gets "-" */
			if (!*v) {
				complain(cmd, "--html: give a file name");
				return 2;
			}
			html = v;
			words[nwords++] = "-";
		} else if (ctl_opts[k].arg) {
			words[nwords++] = v;
		}
	}
	words[nwords] = NULL;

	for (size_t k = 0; k < CTL_NOPTS; k++)
		if (optval[k] && ctl_opts[k].flag == CTL_FROM_FILE && from_file(cfgpath, words[1]) < 0)
			return 1;
	if (socket_path(cfgpath, sockpath, &path, &from) < 0)
		return 1;
	errno = 0;
	rc = control_call(path, nwords, words, &r, err, sizeof err);
	none = rc < 0 && (errno == ENOENT || errno == ECONNREFUSED);
	/* the broken file's 'control' may be a new edit the daemon has not
	 * read: try the built-in socket before giving up */
	if (none && strcmp(from, "broken configuration") == 0 && strcmp(path, CONTROL_DEFAULT_PATH) != 0) {
		fprintf(stderr, "mailscreen: %s; trying the built-in socket " CONTROL_DEFAULT_PATH "\n", err);
		ctl_reply_release(&r);
		free(path);
		if (!(path = strdup(CONTROL_DEFAULT_PATH)))
			return 1;
		from = "built-in";
		errno = 0;
		rc = control_call(path, nwords, words, &r, err, sizeof err);
		none = rc < 0 && (errno == ENOENT || errno == ECONNREFUSED);
	}
	if (rc < 0) {
		fprintf(stderr, "mailscreen: %s\n", err);
		if (none)
			unreachable_hint(path, from);
		free(path);
		return 1;
	}
	free(path);
	if (html && !r.error) {
		rc = write_html(html, &r);
		ctl_reply_release(&r);
		return rc;
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
