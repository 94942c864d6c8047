// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * denyfile - see denyfile.h for the format, the permissions and why.
 *
 * One call builds the whole new content in memory and replaces the target
 * with it through file_replace (fileio.h): a fresh temporary file beside
 * the target (".NAME.XXXXXX", made O_CREAT|O_EXCL), which gets the old
 * file's owner, group and mode (or 0644) and an mtime later than the old
 * one, then fsync, rename over the target and fsync of the directory.
 * Owns nothing between calls.
 *
 * Must never: touch the target other than by rename (a reader sees the old
 * file or the new one, whole), leave its temporary file behind on an
 * error, or log a refused name without escaping it.
 */
#include "denyfile.h"
#include "fileio.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool denyfile_valid_user(const char *user, size_t len)
{
	if (!user || len == 0 || len > DENYFILE_USER_MAX || user[0] == '#')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)user[i];

		if (c < 0x20 || c == 0x7f || c == ':')
			return false;
	}
	return true;
}

/* A refused name as it may appear in a log line: printable ASCII as is
 * (backslash doubled), every other byte as \xNN, cut after 64 bytes. */
static void escape(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < 64 && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, outlen - o, "\\x%02x", c);
			o += 4;
		}
	}
	if (len > 64 && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

struct uname {
	const char *s;
	size_t i;               /* position in the caller's list */
};

static int uname_cmp(const void *a, const void *b)
{
	const struct uname *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The file's content: the valid names in the given order, each once.
 * *refused counts (and logs) the invalid ones. */
static char *render(const char *const *users, size_t n, size_t *lenp, int *refused)
{
	struct uname *sorted = xcalloc(n ? n : 1, sizeof *sorted);
	bool *skip = xcalloc(n ? n : 1, sizeof *skip);
	size_t nv = 0, total = 0, o = 0;
	char *buf;

	*refused = 0;
	for (size_t i = 0; i < n; i++) {
		const char *u = users[i];
		size_t len = u ? strlen(u) : 0;

		if (!denyfile_valid_user(u, len)) {
			char shown[64 * 4 + 8];

			escape(u ? u : "", len, shown, sizeof shown);
			log_warnx("account deny list: refusing user name '%s'%s (empty, over %d bytes, "
				  "a control character, ':' or a leading '#')",
				  shown, u ? "" : " (null)", DENYFILE_USER_MAX);
			skip[i] = true;
			(*refused)++;
			continue;
		}
		sorted[nv].s = u;
		sorted[nv].i = i;
		nv++;
	}
	qsort(sorted, nv, sizeof *sorted, uname_cmp);
	for (size_t k = 0; k < nv; k++) {
		if (k > 0 && strcmp(sorted[k].s, sorted[k - 1].s) == 0)
			skip[sorted[k].i] = true;       /* a later duplicate */
		else
			total += strlen(sorted[k].s) + 1;
	}
	buf = xmalloc(total + 1);
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (skip[i])
			continue;
		len = strlen(users[i]);
		memcpy(buf + o, users[i], len);
		o += len;
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	free(sorted);
	free(skip);
	*lenp = o;
	return buf;
}

/* The old file's owner, group and permission bits, or 0644 for a first
 * file (mkostemp made it 0600, whatever the umask). */
static int set_owner_mode(int fd, const struct stat *old, const char *path, char *err, size_t errlen)
{
	mode_t mode = 0644;

	if (old) {
		struct stat st;

		if (fstat(fd, &st) < 0)
			return errf(err, errlen, "cannot stat the new '%s': %s", path, strerror(errno));
		if ((st.st_uid != old->st_uid || st.st_gid != old->st_gid) &&
		    fchown(fd, old->st_uid, old->st_gid) < 0)
			return errf(err, errlen, "cannot give the new '%s' the owner and group of the old one "
				    "(uid %u, gid %u): %s (run as root, or own the file)", path,
				    (unsigned)old->st_uid, (unsigned)old->st_gid, strerror(errno));
		mode = old->st_mode & 0777;
	}
	if (fchmod(fd, mode) < 0)
		return errf(err, errlen, "cannot set mode %04o on the new '%s': %s", (unsigned)mode, path,
			    strerror(errno));
	return 0;
}

/* An mtime Dovecot cannot mistake for the old file's: it compares whole
 * seconds (and the size), so never the same second as the file replaced. */
static int set_mtime(int fd, const struct stat *old, const char *path, char *err, size_t errlen)
{
	struct timespec ts[2] = { { .tv_sec = 0, .tv_nsec = UTIME_OMIT } };

	if (clock_gettime(CLOCK_REALTIME, &ts[1]) < 0)
		return errf(err, errlen, "cannot read the clock: %s", strerror(errno));
	if (old && old->st_mtim.tv_sec >= ts[1].tv_sec) {
		ts[1].tv_sec = old->st_mtim.tv_sec + 1;
		ts[1].tv_nsec = 0;
	}
	if (futimens(fd, ts) < 0)
		return errf(err, errlen, "cannot set the mtime of the new '%s': %s", path, strerror(errno));
	return 0;
}

struct content {
	char *buf;
	size_t len;
	const struct stat *old;         /* the file replaced, or NULL */
	const char *path;
};

/* The temporary file: the names, then the old file's owner and mode and a
 * later mtime. */
static int fill(void *arg, int fd, const char *tmp, char *err, size_t errlen)
{
	const struct content *c = arg;

	if (write_all(fd, c->buf, c->len) < 0)
		return errf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
	if (set_owner_mode(fd, c->old, c->path, err, errlen) < 0 || set_mtime(fd, c->old, c->path, err, errlen) < 0)
		return -1;
	return 0;
}

int denyfile_write(const char *path, const char *const *users, size_t n, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *tmp, why[512];
	struct stat old;
	struct content c = { NULL, 0, NULL, path };
	int refused = 0, rc;

	if (*base == '\0')
		return errf(err, errlen, "'%s' names a directory, not a file", path);
	if (stat(path, &old) == 0) {
		if (!S_ISREG(old.st_mode))
			return errf(err, errlen, "'%s' exists and is not a regular file", path);
		c.old = &old;
	} else if (errno != ENOENT) {
		return errf(err, errlen, "cannot stat '%s': %s", path, strerror(errno));
	}
	tmp = xasprintf("%.*s.%s.XXXXXX", (int)(base - path), path, base);
	c.buf = render(users, n, &c.len, &refused);
	rc = file_replace(path, tmp, fill, &c, why, sizeof why);
	if (rc < 0)
		errf(err, errlen, "%s", why);
	else if (rc > 0)
		log_warnx("account deny list: %s", why);
	free(c.buf);
	free(tmp);
	return rc < 0 ? -1 : refused;
}
