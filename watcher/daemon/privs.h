/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * privs - least privilege: which files the daemon may trust, and what it
 * keeps of root's powers once it has started.
 *
 * Trusted files (privs_check_file): `run` (at start and at every reload)
 * and `check` load a configuration, filter or rule file only if nobody but
 * root (or the daemon's own user) can change it: a regular file, not a
 * symbolic link, owned by root or the effective user, not writable by group
 * or others (mode & 022, which also covers a POSIX ACL's mask); and every
 * directory above it (after resolving links) owned by root or that user and
 * not writable by group or others, unless it is sticky (/tmp: others can add
 * files there but not replace ours, and a file they add is theirs, so it is
 * refused by the owner rule). The block list is checked the same way
 * before each reading, except that it may be a symbolic link to such a
 * file (privs_check_target). `match` does not check: it is the filter
 * author's offline tester, run on their own files.
 *
 * Dropping (privs_drop): after start-up the daemon keeps only
 *   CAP_NET_ADMIN        nftables over netlink, SOCK_DESTROY (sock_diag),
 *                        SO_RCVBUFFORCE / SO_SNDBUFFORCE;
 *   CAP_DAC_READ_SEARCH  reading the logs, the journal, the configuration
 *                        and the block list whatever their modes;
 * in its effective and permitted sets (those of the two it had at all),
 * none inheritable or ambient, clears every other capability from the
 * bounding set (when it may: that needs CAP_SETPCAP, which a systemd unit
 * with a CapabilityBoundingSet has already taken away, and set that way
 * already), sets no_new_privs, and with a user named switches to that
 * user, its group and supplementary groups for good (real, effective and
 * saved ids), keeping the two capabilities across the switch
 * (PR_SET_KEEPCAPS, then capset). Raw capget/capset system calls, not
 * libcap: three calls on two 64-bit masks need no library.
 *
 * What still works afterwards: reloads (reading files: CAP_DAC_READ_SEARCH;
 * nftables set-up: CAP_NET_ADMIN), blocking, closing sessions, putting a
 * flushed table back, writing the state and the deny file where the user
 * may write (privs_give_dir hands the state directory over first). What no
 * longer does: writing files of other users (no CAP_DAC_OVERRIDE), chown,
 * binding privileged ports, and anything else root could.
 *
 * Owns nothing. Must never: follow a symbolic link when it checks or hands
 * over a file, leave a process half-switched (a failure is reported and the
 * caller exits), or report success without having read back from the
 * kernel that the capabilities and ids are what was asked.
 */
#ifndef MS_PRIVS_H
#define MS_PRIVS_H

#include <stddef.h>

/* 0 if path may be loaded by the daemon (see above), or -1 with a message
 * in err: "'F' is a symbolic link; name the file itself", "'F' is
 * writable by others (chmod go-w 'F')", "'F' belongs to uid N; only root
 * (or the daemon's user) may own it", or the same about a directory above
 * it. */
int privs_check_file(const char *path, char *err, size_t errlen);

/* The same check for a file that may be reached through symbolic links
 * (the block list): every link on the way must sit in directories that
 * pass the check (whoever may replace a link may point it elsewhere), and
 * the file it leads to must pass privs_check_file, whose messages then
 * name that file. Without a link, the same as privs_check_file. */
int privs_check_target(const char *path, char *err, size_t errlen);

/* Before privs_drop: give user the directory dir (the state directory) and
 * the regular files directly in it that have one link (not symlinks), so
 * that it can still write its state and deny file there. Refuses a
 * symbolic link, "/", and a directory writable by others. 0, or -1 with a
 * message. */
int privs_give_dir(const char *user, const char *dir, char *err, size_t errlen);

/* Keep CAP_NET_ADMIN and CAP_DAC_READ_SEARCH only, set no_new_privs, and
 * with user non-empty become that user (see above). 0, or -1 with a
 * message, after which the caller must exit: the process may be half-way. */
int privs_drop(const char *user, char *err, size_t errlen);

/* What the kernel says this process holds, for the log: "capabilities
 * cap_net_admin cap_dac_read_search (bounding set: the same), no_new_privs,
 * uid 0 gid 0". */
void privs_describe(char *buf, size_t len);

#endif
