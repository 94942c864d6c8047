// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_cmds - see ctl_cmds.h. The table, what each kind of argument
 * accepts, and the daemon's parse of a request. Pure functions over
 * constant data: no state, no I/O, no daemon.
 */
#include "ctl_cmds.h"

#include "duration.h"
#include "jsonw.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#define ROW(id_, ...) [id_] = { id_, __VA_ARGS__ }
#define ARGS(...) { __VA_ARGS__ }

const struct ctl_cmd ctl_cmds[CTL_NCMDS] = {
	ROW(CTL_STATUS, "status", ARGS(CTL_ARG_RULE), 0, NULL, CTL_JSON | CTL_UTC,
	    "show the running daemon's state and counters, or one rule's",
	    "Show the daemon's state: sources, rules (events counted, keys tracked, blocks in force and\n"
	    "made), blocks, counters. With RULE, that rule in detail: its counters, the blocks in force it\n"
	    "made and the keys it tracks with the highest counts."),
	ROW(CTL_LIST, "list", ARGS(CTL_ARG_WORD), 1, "blocks allows failures accounts", CTL_JSON | CTL_UTC,
	    "list blocks, allows, failures or blocked accounts",
	    "List the current blocks, dynamic allow entries, counted failures or blocked accounts.\n"
	    "Times are the daemon's local time with its UTC offset (UTC with --utc); --json gives them\n"
	    "in UTC (ISO 8601)."),
	ROW(CTL_BLOCK, "block", ARGS(CTL_ARG_TARGET, CTL_ARG_DURATION), 1, NULL, CTL_CHANGES | CTL_REASON,
	    "block an address or range",
	    "Block an address or range (for DURATION, e.g. 1h, 7d or permanent; without it, the\n"
	    "daemon's default)."),
	ROW(CTL_UNBLOCK, "unblock", ARGS(CTL_ARG_TARGET), 1, NULL, CTL_CHANGES | CTL_FROM_FILE,
	    "lift the block of an address or range",
	    "Lift the block of an address or range. A block from the block list file is refused (it\n"
	    "would come back at the next start), saying which line holds it; --from-file first deletes\n"
	    "the lines naming exactly that address or range from the file (the configuration's\n"
	    "[daemon] blocklist), atomically, keeping every other byte, then unblocks. A line of a\n"
	    "wider range that covers it is never cut: it is named, and stays."),
	ROW(CTL_ALLOW, "allow", ARGS(CTL_ARG_TARGET, CTL_ARG_DURATION), 1, NULL, CTL_CHANGES,
	    "allow an address or range (never counted nor blocked)",
	    "Never count nor block an address or range (for DURATION, or until unallowed)."),
	ROW(CTL_UNALLOW, "unallow", ARGS(CTL_ARG_TARGET), 1, NULL, CTL_CHANGES,
	    "remove an address or range from the allow list",
	    "Remove an address or range from the dynamic allow list."),
	ROW(CTL_BLOCK_ACCOUNT, "block-account", ARGS(CTL_ARG_ACCOUNT, CTL_ARG_DURATION), 1, NULL, CTL_CHANGES,
	    "refuse logins of an account",
	    "Refuse logins of an account (for DURATION, or the daemon's default)."),
	ROW(CTL_UNBLOCK_ACCOUNT, "unblock-account", ARGS(CTL_ARG_ACCOUNT), 1, NULL, CTL_CHANGES,
	    "lift the block of an account",
	    "Lift the block of an account."),
	ROW(CTL_RESET, "reset", ARGS(CTL_ARG_WORD), 1, "failures blocks allows all", CTL_CHANGES,
	    "forget failures, blocks, allows, or all",
	    "Forget counted failures, lift every block (but the block list file's), empty the dynamic allow list, or all "
	    "of these."),
	ROW(CTL_PAUSE, "pause", ARGS(CTL_ARG_NONE), 0, NULL, CTL_CHANGES,
	    "stop blocking until resume",
	    "Stop blocking (events are still counted and logged) until 'resume'."),
	ROW(CTL_RESUME, "resume", ARGS(CTL_ARG_NONE), 0, NULL, CTL_CHANGES,
	    "block again after pause",
	    "Block again after 'pause'."),
	ROW(CTL_RELOAD, "reload", ARGS(CTL_ARG_NONE), 0, NULL, CTL_CHANGES,
	    "reload configuration, filters and rules",
	    "Reload the configuration, filters and rules (as SIGHUP does); a broken file is reported\n"
	    "and the running configuration stays."),
	ROW(CTL_HISTORY, "history", ARGS(CTL_ARG_WHO), 0, NULL, CTL_JSON | CTL_UTC,
	    "show past blocks, newest first",
	    "Show the blocks and account blocks that ended (the last [daemon] history of them, kept\n"
	    "across restarts) and those in force, newest first: of an address (and the ranges that\n"
	    "cover it), of a range (and what lies in it), or of an account."),
	ROW(CTL_REPORT, "report", ARGS(CTL_ARG_NONE), 0, NULL, CTL_JSON | CTL_UTC | CTL_SINCE | CTL_HTML | CTL_MAIL,
	    "summarise what happened (default: the last day)",
	    "Summarise what happened since DURATION ago (default 1d): events by kind and service, blocks\n"
	    "made and lifted by rule or origin, allow-list hits, the top addresses and accounts. Within\n"
	    "the last hour it counts by the minute; beyond, by whole hours (the hour DURATION ago falls\n"
	    "in is counted whole), for up to a week. --json prints JSON; --html FILE writes a\n"
	    "self-contained HTML page (no script) to FILE; --mail mails the text to [notify] mail_to\n"
	    "as the periodic report mail is sent."),
};

const struct ctl_opt ctl_opts[CTL_NOPTS] = {
	{ CTL_JSON, "json", 0, NULL, "print JSON" },
	{ CTL_REASON, "reason", 'r', "TEXT", "why, for the log and the block list" },
	{ CTL_FROM_FILE, "from-file", 0, NULL, "delete its line from the block list file first" },
	{ CTL_UTC, "utc", 0, NULL, "times in UTC, not the daemon's local time" },
	{ CTL_SINCE, "since", 0, "DURATION", "the period: since this long ago (30m, 6h, 1d, 7d)" },
	{ CTL_HTML, "html", 0, "FILE", "write a self-contained HTML page to FILE" },
	{ CTL_MAIL, "mail", 0, NULL, "mail it to [notify] mail_to instead" },
};

/* each kind: how the synopsis names it, how a complaint does */
static const struct {
	const char *metavar;    /* NULL: the row's words, '|'-separated */
	const char *what;
} kinds[] = {
	[CTL_ARG_NONE] = { "", "nothing" },
	[CTL_ARG_TARGET] = { "ADDR[/LEN]", "an address or range (ADDR[/LEN])" },
	[CTL_ARG_DURATION] = { "DURATION", "a duration" },
	[CTL_ARG_ACCOUNT] = { "USER", "an account name" },
	[CTL_ARG_WORD] = { NULL, "a subcommand" },
	[CTL_ARG_RULE] = { "RULE", "a rule's name" },
	[CTL_ARG_WHO] = { "ADDR[/LEN]|USER", "an address, a range or an account name" },
};

const struct ctl_cmd *ctl_cmd_find(const char *name)
{
	for (size_t i = 0; i < CTL_NCMDS; i++)
		if (strcmp(name, ctl_cmds[i].name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

unsigned ctl_cmd_max_args(const struct ctl_cmd *c)
{
	unsigned n = 0;

	while (n < CTL_MAX_ARGS && c->args[n] != CTL_ARG_NONE)
		n++;
	return n;
}

const char *ctl_arg_what(enum ctl_arg kind)
{
	return kinds[kind].what;
}

/* Append to buf[len] (always NUL-terminated; cut if it does not fit). */
static void append(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, "%s", s);
}

void ctl_cmd_synopsis(const struct ctl_cmd *c, char *buf, size_t len)
{
	unsigned nargs = ctl_cmd_max_args(c);

	if (!len)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < nargs; i++) {
		bool opt = i >= c->required;

		if (i)
			append(buf, len, " ");
		if (opt)
			append(buf, len, "[");
		if (kinds[c->args[i]].metavar) {
			append(buf, len, kinds[c->args[i]].metavar);
		} else {
			char alt[128];
			snprintf(alt, sizeof alt, "%s", c->words ? c->words : "");
			for (char *p = alt; (p = strchr(p, ' ')) != NULL;)
				*p = '|';
			append(buf, len, alt);
		}
		if (opt)
			append(buf, len, "]");
	}
	for (size_t k = 0; k < CTL_NOPTS; k++) {
		const struct ctl_opt *o = &ctl_opts[k];
		if (!(c->flags & o->flag))
			continue;
		append(buf, len, *buf ? " [--" : "[--");
		append(buf, len, o->name);
		if (o->arg) {
			append(buf, len, " ");
			append(buf, len, o->arg);
		}
		append(buf, len, "]");
	}
}

/* Whether w is one of the space-separated words. */
static bool is_word(const char *words, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = words; p && *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, w, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

int ctl_arg_parse(const struct ctl_cmd *c, enum ctl_arg kind, const char *w, struct ctl_val *v, char *err,
		  size_t errlen)
{
	memset(v, 0, sizeof *v);
	v->text = w;
	switch (kind) {
	case CTL_ARG_TARGET:
		if (cidr_parse(w, &v->target, err, errlen) < 0)
			return -1;
		cidr_format(&v->target, v->buf);
		v->text = v->buf;
		return 0;
	case CTL_ARG_DURATION:
		if (duration_parse(w, &v->ms, 0, true, err, errlen) < 0)
			return -1;
		duration_format(v->ms, v->buf, sizeof v->buf);
		v->text = v->buf;
		return 0;
	case CTL_ARG_ACCOUNT:
		/* whether it can be an account is the accounts' business (the
		 * deny file's rules): a name a rule blocked must be unblockable */
		if (!*w)
			return errf(err, errlen, "an account name cannot be empty");
		return 0;
	case CTL_ARG_RULE: {
		size_t n = strlen(w);
		if (!n || n > CTL_RULE_MAX || strchr(w, ' ') || !text_printable(w, n, NULL))
			return errf(err, errlen, "'%s' is not a rule name (printable text without spaces, at most %d "
				    "bytes)", w, CTL_RULE_MAX);
		return 0;
	}
	case CTL_ARG_WHO: {
		size_t n = strlen(w);
		/* what looks like an address must be one (digits and dots, or
		 * hex digits with colons); the rest is a name ("cafe.de") */
		if (n && ((strspn(w, "0123456789./") == n && strchr(w, '.')) ||
			  (strspn(w, "0123456789abcdefABCDEF.:/") == n && strchr(w, ':')))) {
			if (cidr_parse(w, &v->target, err, errlen) < 0)
				return -1;
			v->is_target = true;
			cidr_format(&v->target, v->buf);
			v->text = v->buf;
			return 0;
		}
		/* an account name is the mail server's bytes, as block-account
		 * takes them (the socket refused control characters) */
		if (!n || n > CTL_ACCOUNT_MAX)
			return errf(err, errlen, "'%s' is neither an address nor an account name (at most %d bytes)", w,
				    CTL_ACCOUNT_MAX);
		return 0;
	}
	case CTL_ARG_WORD:
		if (!is_word(c->words, w))
			return errf(err, errlen, "unknown subcommand '%s' (one of: %s)", w, c->words ? c->words : "");
		return 0;
	case CTL_ARG_NONE:
		break;
	}
	return errf(err, errlen, "unexpected argument '%s'", w);
}

int ctl_arg_lint(enum ctl_arg kind, const char *w, char *err, size_t errlen)
{
	if (kind != CTL_ARG_ACCOUNT && kind != CTL_ARG_WHO)
		return 0;
	for (const unsigned char *u = (const unsigned char *)w; *u; u++)
		if (*u < 0x20 || *u == 0x7f || *u == ' ' || (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f))
			goto bad;
	if (*w && strlen(w) <= CTL_ACCOUNT_MAX)
		return 0;
bad:
	return errf(err, errlen, "'%s' is not an account name (no spaces or control characters, at most %d bytes)", w,
		    CTL_ACCOUNT_MAX);
}

static int usage(const struct ctl_cmd *c, char *err, size_t errlen)
{
	char syn[256];

	ctl_cmd_synopsis(c, syn, sizeof syn);
	return errf(err, errlen, "usage: %s%s%s", c->name, *syn ? " " : "", syn);
}

/* A reason is one line of UTF-8 text, as the block list shows it and the
 * state keeps it: control characters were refused by the socket already;
 * what is left to refuse is bytes that are not UTF-8, and length. */
static int check_reason(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s), bad;

	if (!text_printable(s, n, &bad))
		return errf(err, errlen, "--reason is not UTF-8 text (byte 0x%02x at position %zu)",
			    (unsigned char)s[bad], bad + 1);
	if (n > CTL_REASON_MAX)
		return errf(err, errlen, "--reason is too long (%zu bytes; at most %d)", n, CTL_REASON_MAX);
	return 0;
}

/* The option a request's word names ("--json"), or NULL. */
static const struct ctl_opt *find_opt(const char *w)
{
	if (strncmp(w, "--", 2) != 0)
		return NULL;
	for (size_t k = 0; k < CTL_NOPTS; k++)
		if (strcmp(w + 2, ctl_opts[k].name) == 0)
			return &ctl_opts[k];
	return NULL;
}

int ctl_req_parse(int argc, char *const *argv, struct ctl_req *req, char *err, size_t errlen)
{
	const struct ctl_cmd *c;
	const char *pos[CTL_MAX_ARGS + 1];
	unsigned npos = 0, seen = 0;

	memset(req, 0, sizeof *req);
	if (argc < 1 || !argv[0])
		return errf(err, errlen, "no command");
	c = ctl_cmd_find(argv[0]);
	if (!c)
		return errf(err, errlen, "unknown command '%s'", argv[0]);
	req->cmd = c;
	for (int i = 1; i < argc; i++) {
		const struct ctl_opt *o = find_opt(argv[i]);
		if (o) {
			/* an option of another command is not an argument either */
			if (!(c->flags & o->flag) || (seen & o->flag) || (o->arg && i + 1 >= argc))
				return usage(c, err, errlen);
			seen |= o->flag;
			if (o->flag == CTL_REASON)
				req->reason = argv[++i];
			else if (o->flag == CTL_FROM_FILE)
				req->from_file = true;
			else if (o->flag == CTL_UTC)
				req->utc = true;
			else if (o->flag == CTL_HTML)
				req->html = argv[++i] != NULL;
			else if (o->flag == CTL_MAIL)
				req->mail = true;
			else if (o->flag == CTL_SINCE) {
				char msg[ERR_LEN];
				if (duration_parse(argv[++i], &req->since_ms, 0, false, msg, sizeof msg) < 0)
					return errf(err, errlen, "--since: %s", msg);
				req->since = true;
			}
			else
				req->json = true;
		} else {
			if (npos > CTL_MAX_ARGS)
				return usage(c, err, errlen);
			pos[npos++] = argv[i];
		}
	}
	if (npos < c->required || npos > ctl_cmd_max_args(c))
		return usage(c, err, errlen);
	for (unsigned i = 0; i < npos; i++)
		if (ctl_arg_parse(c, c->args[i], pos[i], &req->arg[i], err, errlen) < 0)
			return -1;
	req->nargs = npos;
	if (req->reason && check_reason(req->reason, err, errlen) < 0)
		return -1;
	return 0;
}
