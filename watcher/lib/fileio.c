// SPDX-License-Identifier: GPL-2.0-or-later
/* fileio - see fileio.h. Owns nothing. */
#include "fileio.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fsync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (dfd < 0)
		return -1;
	rc = fsync(dfd);
	close(dfd);
	return rc;
}

/* The directory path is in: "." for a bare name, "/" for one at the root. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static int create_tmp(char *tmp)
{
	size_t n = strlen(tmp);

	if (n >= 6 && strcmp(tmp + n - 6, "XXXXXX") == 0)
		return mkostemp(tmp, O_CLOEXEC);
	return open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int file_replace(const char *path, char *tmp, file_fill_fn *fill, void *arg, char *err, size_t errlen)
{
	char *dir = dir_of(path);
	int fd, rc = -1;

	fd = create_tmp(tmp);
	if (fd < 0) {
		errf(err, errlen, "cannot create a temporary file in '%s' for '%s': %s", dir, path, strerror(errno));
		free(dir);
		return -1;
	}
	if (fill(arg, fd, tmp, err, errlen) < 0)
		goto fail;
	if (fsync(fd) < 0) {
		errf(err, errlen, "cannot sync '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		errf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		errf(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		rc = -1;
		goto fail;
	}
	rc = 0;
	if (fsync_dir(dir) < 0) {
		errf(err, errlen, "cannot sync directory '%s': %s", dir, strerror(errno));
		rc = 1;
	}
	free(dir);
	return rc;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(dir);
	return -1;
}
