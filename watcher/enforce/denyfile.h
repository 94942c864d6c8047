/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * denyfile - the account deny list: a file of user names that Dovecot reads
 * through a passwd-file passdb with "deny = yes" (contrib/dovecot/), so a
 * blocked account is refused for IMAP, POP3, ManageSieve and for SMTP AUTH
 * done through Dovecot SASL, whatever address the attempt comes from.
 *
 * Format: one user name per line, "bob\n", nothing else. A passwd-file
 * line is user:password:uid:gid:gecos:home:shell:extra_fields, but a line
 * with the user field only is valid, and a deny passdb needs no more:
 * Dovecot refuses the login as soon as the lookup finds the user (found
 * means refused, whatever the password; result_* rules do not apply to a
 * deny passdb). An empty list is an empty file, which denies no one.
 *
 * Names: user names come from attacker-controlled log text, so each is
 * checked (denyfile_valid_user) and a bad one is skipped with a warning
 * instead of being written: empty, longer than DENYFILE_USER_MAX bytes,
 * any control byte (NUL, CR, LF, TAB, ... and DEL), ':' (the field
 * separator) or a leading '#' (Dovecot reads that line as a comment).
 * Exact duplicates are written once (Dovecot logs an error for a user that
 * appears twice). Names are written byte for byte as given: this module
 * does not lowercase. Dovecot looks a user up by the name that
 * auth_username_format made of the login name - "%Lu" (2.3) or
 * "%{user | lower}" (2.4) by default, i.e. lowercased - so under the
 * default a line "Bob" never matches anything and the caller must pass
 * "bob". That normalisation belongs with the code that counts failures per
 * account (so that "Bob" and "bob" count as one account), not here, where
 * lowercasing would be wrong for a server whose auth_username_format keeps
 * case. Likewise a name must be whole as Dovecot sees it: "bob@example.org"
 * when users log in with addresses, unless auth_username_format strips
 * the domain (%Ln).
 *
 * Permissions: a new file is mode 0644. The passwd-file passdb is not a
 * blocking one, so it is read by Dovecot's "auth" process, which runs as
 * $default_internal_user ("dovecot" on Debian), not as root and not by the
 * root auth-worker; the login processes (dovenull) never read passdbs. A
 * file "dovecot" cannot read does not fail open: every login then fails
 * with a temporary error. When the target exists, its owner, group and
 * permission bits are kept, so an administrator who wants 0640
 * root:dovecot sets that once; if they cannot be kept (not root), the
 * write fails and the old file stays. (A missing file, by contrast, denies
 * no one: Dovecot treats it as "user unknown".)
 *
 * Freshness: Dovecot rereads the file when its mtime (in whole seconds) or
 * its size differs from what it last read, checking at most once a second.
 * Two rewrites in the same second with the same size ("bob" -> "eve")
 * would go unseen, so each new file gets an mtime later than the one it
 * replaces: now, or the old mtime + 1 s if that is not earlier. Callers
 * should still coalesce changes (one write per loop turn), which also keeps
 * that mtime from running ahead of the clock.
 *
 * A symbolic link at path is replaced by the new file, not followed. A
 * crash between the temporary file's creation and the rename can leave a
 * ".NAME.XXXXXX" beside the target: harmless (Dovecot reads only the
 * target), and not removed by a later call.
 *
 * Must never: leave the target missing, empty by accident or partly
 * written (temp file in the same directory, O_CREAT|O_EXCL, fsync, rename,
 * directory fsync), write a name it has not checked, or put an unchecked
 * name into a log line unescaped.
 */
#ifndef MS_DENYFILE_H
#define MS_DENYFILE_H

#include <stdbool.h>
#include <stddef.h>

#define DENYFILE_USER_MAX 255           /* bytes; Dovecot's own limit is larger */

/* True if user[0..len) may be written as a line of the deny file (see
 * above); user need not be NUL-terminated, and an embedded NUL is refused. */
bool denyfile_valid_user(const char *user, size_t len);

/* Replace the file at path, atomically, with the n names of users (NUL-
 * terminated strings; NULL entries are refused like bad names), in the
 * given order, duplicates once. Returns how many names were refused (0 or
 * more; each was logged with log_warnx), or -1 with a message in err if
 * the file could not be replaced, in which case the old file is untouched
 * and no temporary file is left behind. */
int denyfile_write(const char *path, const char *const *users, size_t n, char *err, size_t errlen);

#endif
