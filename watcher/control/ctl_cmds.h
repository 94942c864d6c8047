/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_cmds - the one table of control commands (status, list, block, ...):
 * per command its name, its arguments and their kinds, whether it changes
 * the daemon's state, the options it takes, and its help. Everything else
 * reads it: 'mailscreen -h' (main.c), the command line's options, checks
 * and help (cmd_ctl.c), and the daemon's dispatch and checks
 * (daemon_ctl.c). The synopsis ("ADDR[/LEN] [DURATION] [--reason TEXT]")
 * is derived from the row, never written by hand.
 *
 * It also parses a request's words as the daemon receives them
 * (ctl_req_parse): the socket is the trust boundary, so every word is
 * checked again there, whatever the command line checked before.
 *
 * Owns nothing (the table is constant). Never does what a command does:
 * the handlers are the daemon's (daemon_ctl.c, one per enum ctl_cmd_id),
 * and nothing here depends on the daemon.
 *
 * A new command: an id here, a row in ctl_cmds.c (the command line and
 * its help follow), and its case in daemon_ctl.c's switch (the build
 * fails without it); then its line in README's Commands table and in
 * mailscreen.8 (tests/man.sh checks that the page names it).
 */
#ifndef MS_CTL_CMDS_H
#define MS_CTL_CMDS_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_cmd_id {
	CTL_STATUS,
	CTL_LIST,
	CTL_BLOCK,
	CTL_UNBLOCK,
	CTL_ALLOW,
	CTL_UNALLOW,
	CTL_BLOCK_ACCOUNT,
	CTL_UNBLOCK_ACCOUNT,
	CTL_RESET,
	CTL_PAUSE,
	CTL_RESUME,
	CTL_RELOAD,
	CTL_HISTORY,
	CTL_REPORT,
	CTL_NCMDS
};

/* What a positional argument is. */
enum ctl_arg {
	CTL_ARG_NONE,
	CTL_ARG_TARGET,         /* an address or range: ADDR[/LEN] */
	CTL_ARG_DURATION,       /* 30s, 1h30m, 7d, permanent */
	CTL_ARG_ACCOUNT,        /* an account name: the mail server's bytes */
	CTL_ARG_WORD,           /* one of the row's words */
	CTL_ARG_RULE,           /* a rule's name: printable, no space, at most CTL_RULE_MAX bytes */
	CTL_ARG_WHO             /* an address or range, or else an account name */
};

/* flags of a command */
#define CTL_CHANGES 0x1         /* changes the daemon's state (saved at once) */
#define CTL_JSON 0x2            /* takes --json */
#define CTL_REASON 0x4          /* takes --reason TEXT */
#define CTL_FROM_FILE 0x8       /* takes --from-file */
#define CTL_UTC 0x10            /* takes --utc: times in UTC, not local time */
#define CTL_SINCE 0x20          /* takes --since DURATION */
#define CTL_HTML 0x40           /* takes --html FILE: the command line writes the page to FILE (the
				 * daemon gets "--html -") */
#define CTL_MAIL 0x80           /* takes --mail */

/* The options a command may take, as its flags say: the same words on
 * the command line and in a request ("--json"; "--reason", then the
 * value as the next word). */
struct ctl_opt {
	unsigned flag;          /* CTL_JSON, CTL_REASON, CTL_FROM_FILE */
	const char *name;       /* "json" for --json */
	char letter;            /* the command line's short option, or 0 */
	const char *arg;        /* its value's name in the help; NULL: takes none */
	const char *help;
};
#define CTL_NOPTS 7
extern const struct ctl_opt ctl_opts[CTL_NOPTS];

#define CTL_MAX_ARGS 2          /* positional arguments of any command */
#define CTL_REASON_MAX 159      /* bytes of a --reason: what a block keeps */
#define CTL_ACCOUNT_MAX 256     /* bytes of an account name the command line sends */
#define CTL_RULE_MAX 128        /* bytes of a rule's name in a request */

struct ctl_cmd {
	enum ctl_cmd_id id;
	const char *name;
	enum ctl_arg args[CTL_MAX_ARGS];        /* in order; CTL_ARG_NONE ends them */
	unsigned required;                      /* the first `required` must be given */
	const char *words;                      /* CTL_ARG_WORD: the words, space-separated */
	unsigned flags;
	const char *summary;                    /* one line, for 'mailscreen -h' */
	const char *doc;                        /* for 'mailscreen NAME -h' */
};

extern const struct ctl_cmd ctl_cmds[CTL_NCMDS];

/* The row of a command word, or NULL. */
const struct ctl_cmd *ctl_cmd_find(const char *name);
/* How many positional arguments the command takes at most. */
unsigned ctl_cmd_max_args(const struct ctl_cmd *c);
/* The arguments and options after the name, as the help shows them:
 * "ADDR[/LEN] [DURATION] [--reason TEXT]", "" for none. */
void ctl_cmd_synopsis(const struct ctl_cmd *c, char *buf, size_t len);
/* "an address or range (ADDR[/LEN])", "a duration", ... */
const char *ctl_arg_what(enum ctl_arg kind);

/* One argument, parsed. Not to be copied: text may point into buf. */
struct ctl_val {
	const char *text;       /* the normal form ("192.0.2.0/24", "1h30m"): what
				 * the command line sends, what replies show */
	char buf[CIDR_STRLEN + 32];
	struct cidr target;     /* CTL_ARG_TARGET, CTL_ARG_WHO (is_target) */
	bool is_target;         /* CTL_ARG_WHO: an address or range; else an account name */
	uint64_t ms;            /* CTL_ARG_DURATION (DURATION_PERMANENT) */
};

/* Parse word w as an argument of kind `kind` of command c into *v. 0, or
 * -1 with a message that quotes w as it is (escape it to show it). */
int ctl_arg_parse(const struct ctl_cmd *c, enum ctl_arg kind, const char *w, struct ctl_val *v, char *err,
		  size_t errlen);
/* What the command line refuses beyond ctl_arg_parse, before sending:
 * an account name (CTL_ARG_ACCOUNT, CTL_ARG_WHO) that is empty, longer than CTL_ACCOUNT_MAX bytes, or
 * holds a control character, a space or a tab (a quoting slip more
 * likely than a name; the daemon itself takes any name the deny file
 * can hold). 0, or -1 with a message quoting w. */
int ctl_arg_lint(enum ctl_arg kind, const char *w, char *err, size_t errlen);

/* A request's words, parsed. Points into the words it was parsed from. */
struct ctl_req {
	const struct ctl_cmd *cmd;
	unsigned nargs;
	struct ctl_val arg[CTL_MAX_ARGS];
	bool json;              /* --json */
	bool utc;               /* --utc */
	const char *reason;     /* --reason TEXT, or NULL */
	bool from_file;         /* --from-file: the command line has deleted the
				 * target's line from the block list file */
	bool since;             /* --since DURATION: since_ms */
	uint64_t since_ms;
	bool html;              /* --html (its value is the command line's) */
	bool mail;              /* --mail */
};

/* Parse argv[0..argc), a request as the daemon receives it (control.h:
 * no word is empty or holds a control character): the command word, its
 * positional arguments, and the options of its row (--json; --reason and
 * the word after it), anywhere after the command word, each at most once.
 * Refused: an unknown command ("unknown command 'x'"); an option the
 * command does not take, a missing option value, too few or too many
 * arguments ("usage: block ADDR[/LEN] [DURATION] [--reason TEXT]"); an
 * argument that does not parse (ctl_arg_parse's message); a reason that
 * is not UTF-8 text or is over CTL_REASON_MAX bytes. 0, or -1 with a
 * message in err (it may quote a word as it is). */
int ctl_req_parse(int argc, char *const *argv, struct ctl_req *req, char *err, size_t errlen);

#endif
