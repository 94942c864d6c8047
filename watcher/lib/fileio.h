/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fileio - writing files crash-safely: the one way every file the daemon
 * writes (the state snapshot, the account deny file) replaces the old one,
 * and the two steps it is made of.
 *
 * Owns nothing between calls. Must never: touch the target other than by
 * rename (a reader sees the old file or the new one, whole), leave its
 * temporary file behind on an error, or log (a forked child calls it; it
 * reports instead).
 */
#ifndef MS_FILEIO_H
#define MS_FILEIO_H

#include <stddef.h>

/* Write all n bytes (retrying short writes and EINTR). 0, or -1 with errno. */
int write_all(int fd, const void *buf, size_t n);
/* fsync the directory, so that a rename in it survives a crash. 0, or -1
 * with errno. */
int fsync_dir(const char *dir);

/* Write the new content into fd, the temporary file named tmp (for
 * messages). 0, or -1 with a message. */
typedef int file_fill_fn(void *arg, int fd, const char *tmp, char *err, size_t errlen);

/* Replace the file at path: tmp, a temporary file in the same directory,
 * is created (a name ending in "XXXXXX" is made unique and created
 * O_EXCL, as mkostemp does; another name is created or truncated; a
 * symbolic link is never followed; mode 0600), filled by fill, fsynced,
 * closed and renamed over path, and the directory is fsynced. 0: replaced;
 * 1: replaced, but the directory could not be synced (err says why; the
 * new content is what readers see, only a crash could still bring back
 * the old one); -1 with a message: not replaced, the old file untouched
 * and tmp gone. */
int file_replace(const char *path, char *tmp, file_fill_fn *fill, void *arg, char *err, size_t errlen);

#endif
