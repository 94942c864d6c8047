// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * privs - see privs.h. Owns nothing between calls; talks to the kernel
 * directly (capget/capset, prctl, set*id) and reads back what it did.
 *
 * Must never: chown anything reached through a symbolic link or with more
 * than one hard link (a link planted by the user the directory is given to
 * must not make root hand over a file elsewhere), or treat "could not
 * drop" as "dropped".
 */
#include "privs.h"
#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAPBIT(c) ((uint64_t)1 << (c))
/* what the daemon keeps: see privs.h for why each */
#define KEEP (CAPBIT(CAP_NET_ADMIN) | CAPBIT(CAP_DAC_READ_SEARCH))
#define MAX_CAPS 64
#define MAX_LINKS 40            /* as the kernel's own limit on a path */

/* ---- trusted files ---- */

static int check_dir(const char *dir, const char *file, uid_t me, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return errf(err, errlen, "cannot check directory '%s' (on the path to '%s'): %s", dir, file, strerror(errno));
	if (st.st_uid != 0 && st.st_uid != me)
		return errf(err, errlen, "directory '%s' (on the path to '%s') belongs to uid %u; only root (or the daemon's "
			    "user) may own it", dir, file, (unsigned)st.st_uid);
	if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
		return errf(err, errlen, "directory '%s' (on the path to '%s') is writable by others (chmod go-w '%s')", dir,
			    file, dir);
	return 0;
}

/* Every directory above path, links resolved: whoever may rename an entry
 * on the way may swap the file. file names the file in the messages. */
static int check_dirs(const char *path, const char *file, uid_t me, char *err, size_t errlen)
{
	char *dir, *slash, *real;
	int rc = 0;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	real = realpath(dir, NULL);
	if (!real)
		rc = errf(err, errlen, "cannot resolve directory '%s' (of '%s'): %s", dir, file, strerror(errno));
	while (real && rc == 0) {
		rc = check_dir(real, file, me, err, errlen);
		if (strcmp(real, "/") == 0)
			break;
		slash = strrchr(real, '/');
		if (slash == real)
			real[1] = '\0';
		else
			*slash = '\0';
	}
	free(real);
	free(dir);
	return rc;
}

int privs_check_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	uid_t me = geteuid();

	if (lstat(path, &st) < 0)
		return errf(err, errlen, "cannot check '%s': %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return errf(err, errlen, "'%s' is a symbolic link; name the file itself", path);
	if (!S_ISREG(st.st_mode))
		return errf(err, errlen, "'%s' is not a regular file", path);
	if (st.st_uid != 0 && st.st_uid != me)
		return errf(err, errlen, "'%s' belongs to uid %u; only root (or the daemon's user) may own it", path,
			    (unsigned)st.st_uid);
	if (st.st_mode & 022)
		return errf(err, errlen, "'%s' is writable by others (chmod go-w '%s')", path, path);
	return check_dirs(path, path, me, err, errlen);
}

int privs_check_target(const char *path, char *err, size_t errlen)
{
	struct stat st;
	uid_t me = geteuid();
	char *cur = xstrdup(path);
	int rc = 0, hops = 0;

	/* each link on the way: whoever may replace it (its directories) may
	 * point it elsewhere */
	while (rc == 0 && lstat(cur, &st) == 0 && S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n;

		if (++hops > MAX_LINKS) {
			rc = errf(err, errlen, "'%s': too many levels of symbolic links", path);
			break;
		}
		rc = check_dirs(cur, cur, me, err, errlen);
		if (rc < 0)
			break;
		n = readlink(cur, target, sizeof target - 1);
		if (n < 0) {
			rc = errf(err, errlen, "cannot read symbolic link '%s': %s", cur, strerror(errno));
			break;
		}
		target[n] = '\0';
		if (target[0] != '/' && strchr(cur, '/')) {
			char *next = xasprintf("%.*s/%s", (int)(strrchr(cur, '/') - cur), cur, target);
			free(cur);
			cur = next;
		} else {
			free(cur);
			cur = xstrdup(target);
		}
	}
	if (rc == 0)
		rc = privs_check_file(cur, err, errlen);
	free(cur);
	return rc;
}

/* ---- capabilities, through the raw system calls ---- */

static int caps_get(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {
		{ .effective = (uint32_t)eff, .permitted = (uint32_t)prm, .inheritable = (uint32_t)inh },
		{ .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(prm >> 32),
		  .inheritable = (uint32_t)(inh >> 32) },
	};

	return (int)syscall(SYS_capset, &h, d);
}

static uint64_t bounding_set(void)
{
	uint64_t b = 0;

	for (int c = 0; c < MAX_CAPS; c++) {
		int r = prctl(PR_CAPBSET_READ, (unsigned long)c, 0UL, 0UL, 0UL);
		if (r < 0)
			break;  /* EINVAL: past the kernel's last capability */
		if (r > 0)
			b |= CAPBIT(c);
	}
	return b;
}

/* The user to become: 0 with *uid, *gid and name filled, or -1. */
static int lookup_user(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return errf(err, errlen, "user '%s' is unknown%s%s (create it, e.g. adduser --system --group %s)", user,
			    errno ? ": " : "", errno ? strerror(errno) : "", user);
	if (pw->pw_uid == 0)
		return errf(err, errlen, "user '%s' is root; name an unprivileged user, or leave 'user' empty", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int become(const char *user, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == 0 && getresgid(&rg, &eg, &sg) == 0 && ru == uid && eu == uid && su == uid &&
	    rg == gid && eg == gid && sg == gid)
		return 0;       /* started as that user already (systemd's User=) */
	if (prctl(PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL) < 0)
		return errf(err, errlen, "cannot keep capabilities across the switch to '%s': %s", user, strerror(errno));
	if (initgroups(user, gid) < 0 || setresgid(gid, gid, gid) < 0)
		return errf(err, errlen, "cannot switch to the groups of user '%s': %s (that needs CAP_SETGID at start; "
			    "under systemd, see the comments in mailscreen.service)", user,
			    strerror(errno));
	if (setresuid(uid, uid, uid) < 0)
		return errf(err, errlen, "cannot switch to user '%s': %s (that needs CAP_SETUID at start; under "
			    "systemd, see the comments in mailscreen.service)", user,
			    strerror(errno));
	if (prctl(PR_SET_KEEPCAPS, 0UL, 0UL, 0UL, 0UL) < 0)
		return errf(err, errlen, "PR_SET_KEEPCAPS: %s", strerror(errno));
	/* for good: no way back to root */
	if (setresuid(0, 0, 0) == 0 || geteuid() != uid || getuid() != uid || getegid() != gid)
		return errf(err, errlen, "the switch to user '%s' did not hold", user);
	return 0;
}

int privs_drop(const char *user, char *err, size_t errlen)
{
	uint64_t eff, prm, inh, keep, bset;
	uid_t uid = 0;
	gid_t gid = 0;
	bool switching = user && *user;

	if (switching && lookup_user(user, &uid, &gid, err, errlen) < 0)
		return -1;
	if (caps_get(&eff, &prm, &inh) < 0)
		return errf(err, errlen, "capget: %s", strerror(errno));
	keep = KEEP & prm;
	/* everything permitted effective for a moment: CAP_SETPCAP for the
	 * bounding set, CAP_SETUID / CAP_SETGID for the switch */
	if (caps_set(prm, prm, 0) < 0)
		return errf(err, errlen, "capset: %s", strerror(errno));
	if (prm & CAPBIT(CAP_SETPCAP)) {
		bset = bounding_set();
		for (int c = 0; c < MAX_CAPS; c++)
			if ((bset & CAPBIT(c)) && !(KEEP & CAPBIT(c)) &&
			    prctl(PR_CAPBSET_DROP, (unsigned long)c, 0UL, 0UL, 0UL) < 0)
				return errf(err, errlen, "cannot drop capability %d from the bounding set: %s", c,
					    strerror(errno));
	}
	/* without CAP_SETPCAP the bounding set stays as it is (a systemd unit
	 * has set it); no_new_privs keeps the rest from ever coming back */
	if (prctl(PR_CAP_AMBIENT, (unsigned long)PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0 && errno != EINVAL)
		return errf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(errno));
	if (switching && become(user, uid, gid, err, errlen) < 0)
		return -1;
	if (caps_set(keep, keep, 0) < 0)
		return errf(err, errlen, "capset: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
		return errf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	/* read back */
	if (caps_get(&eff, &prm, &inh) < 0)
		return errf(err, errlen, "capget: %s", strerror(errno));
	if (eff != keep || prm != keep || inh != 0 || prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL) != 1)
		return errf(err, errlen, "the kernel did not take the reduced capabilities (effective %#llx, permitted "
			    "%#llx)", (unsigned long long)eff, (unsigned long long)prm);
	return 0;
}

static void cap_names(uint64_t set, char *buf, size_t len)
{
	static const struct {
		int cap;
		const char *name;
	} names[] = {
		{ CAP_NET_ADMIN, "cap_net_admin" }, { CAP_DAC_READ_SEARCH, "cap_dac_read_search" },
		{ CAP_DAC_OVERRIDE, "cap_dac_override" }, { CAP_CHOWN, "cap_chown" },
		{ CAP_SETUID, "cap_setuid" }, { CAP_SETGID, "cap_setgid" }, { CAP_SETPCAP, "cap_setpcap" },
		{ CAP_SYS_ADMIN, "cap_sys_admin" },
	};
	size_t off = 0;

	buf[0] = '\0';
	if (!set) {
		snprintf(buf, len, "none");
		return;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (set & CAPBIT(names[i].cap)) {
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s", off ? " " : "", names[i].name);
			set &= ~CAPBIT(names[i].cap);
		}
	if (set && off < len)
		snprintf(buf + off, len - off, "%sand %#llx", off ? " " : "", (unsigned long long)set);
}

void privs_describe(char *buf, size_t len)
{
	uint64_t eff = 0, prm = 0, inh = 0, bset = bounding_set();
	char caps[256], bnd[256];

	caps_get(&eff, &prm, &inh);
	cap_names(eff, caps, sizeof caps);
	if (bset == eff)
		snprintf(bnd, sizeof bnd, "the same");
	else
		cap_names(bset, bnd, sizeof bnd);
	snprintf(buf, len, "capabilities %s%s (bounding set: %s), %s, uid %u gid %u", caps,
		 prm != eff ? " (more permitted)" : "", bnd,
		 prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL) == 1 ? "no_new_privs" : "new privileges possible",
		 (unsigned)geteuid(), (unsigned)getegid());
}

/* ---- handing the state directory over ---- */

/* Give one entry of the directory to uid (and gid where it was root's
 * group): a regular file with one link, opened without following links. */
static int give_file(int dfd, const char *dir, const char *name, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return 0;       /* a link, a socket, gone: not ours to give */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_uid == 0 &&
	    fchown(fd, uid, st.st_gid == 0 ? gid : (gid_t)-1) < 0)
		rc = errf(err, errlen, "cannot give '%s/%s' to uid %u: %s", dir, name, (unsigned)uid, strerror(errno));
	close(fd);
	return rc;
}

int privs_give_dir(const char *user, const char *dir, char *err, size_t errlen)
{
	struct stat st, root;
	uid_t uid;
	gid_t gid;
	DIR *dp;
	struct dirent *de;
	int dfd, fd2, rc = 0;

	if (!user || !*user)
		return 0;
	if (lookup_user(user, &uid, &gid, err, errlen) < 0)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if ((errno == ELOOP || errno == ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
			return errf(err, errlen, "state directory '%s' is a symbolic link; name the directory itself", dir);
		return errf(err, errlen, "cannot open state directory '%s': %s", dir, strerror(errno));
	}
	if (fstat(dfd, &st) < 0 || stat("/", &root) < 0) {
		rc = errf(err, errlen, "cannot stat state directory '%s': %s", dir, strerror(errno));
	} else if (st.st_dev == root.st_dev && st.st_ino == root.st_ino) {
		rc = errf(err, errlen, "state directory '%s' is /; give the daemon a directory of its own", dir);
	} else if ((st.st_mode & 002) || (st.st_mode & S_ISVTX)) {
		rc = errf(err, errlen, "state directory '%s' is writable by everyone; give the daemon a directory of "
			  "its own (e.g. /var/lib/mailscreen)", dir);
	} else if ((st.st_uid != uid || st.st_gid != gid) && fchown(dfd, uid, gid) < 0) {
		rc = errf(err, errlen, "cannot give state directory '%s' to user '%s': %s (that needs CAP_CHOWN at "
			  "start; under systemd, see the comments in mailscreen.service)", dir, user, strerror(errno));
	}
	if (rc < 0) {
		close(dfd);
		return rc;
	}
	fd2 = dup(dfd);
	dp = fd2 < 0 ? NULL : fdopendir(fd2);
	if (!dp) {
		rc = errf(err, errlen, "cannot read state directory '%s': %s", dir, strerror(errno));
		if (fd2 >= 0)
			close(fd2);
		close(dfd);
		return rc;
	}
	while (rc == 0 && (de = readdir(dp)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = give_file(dfd, dir, de->d_name, uid, gid, err, errlen);
	closedir(dp);
	close(dfd);
	return rc;
}
