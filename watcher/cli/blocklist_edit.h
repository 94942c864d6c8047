/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blocklist_edit - `mailscreen unblock --from-file`: delete the lines of
 * the hand-edited block list file (blockfile.h) that name exactly one
 * address or range, so that its block does not come back at the next
 * start. The daemon never writes that file (it is the admin's, and the
 * daemon has dropped the right to); the command line does, as the admin.
 *
 * Safe for an admin-owned file: the file is checked as the daemon checks
 * it (privs_check_target) and replaced atomically (fileio.h file_replace)
 * with its owner and mode; every other byte - comments, blank lines,
 * other entries, a missing final newline - stays as it was. A line of a
 * wider range that covers the target, or of a narrower one inside it, is
 * never cut: it is named in the report and stays.
 */
#ifndef MS_BLOCKLIST_EDIT_H
#define MS_BLOCKLIST_EDIT_H

#include "addr.h"

#include <stddef.h>
#include <stdio.h>

/* Delete from the block list file at path every line whose entry is
 * exactly target; say on report what was deleted ("FILE:N: deleted: LINE")
 * and which lines overlap target and stay. Returns the number of lines
 * deleted (0: the file was not touched; a missing file holds none), or -1
 * with a message (the file untouched). */
int blocklist_remove(const char *path, const struct cidr *target, FILE *report, char *err, size_t errlen);

#endif
