/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fileio - the two steps every crash-safe file write of the daemon shares
 * (the state snapshot, the account deny file): writing a buffer whole, and
 * making a rename in a directory durable.
 */
#ifndef MS_FILEIO_H
#define MS_FILEIO_H

#include <stddef.h>

/* Write all n bytes (retrying short writes and EINTR). 0, or -1 with errno. */
int write_all(int fd, const void *buf, size_t n);
/* fsync the directory, so that a rename in it survives a crash. 0, or -1
 * with errno. */
int fsync_dir(const char *dir);

#endif
