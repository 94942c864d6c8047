// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blocklist_edit - see blocklist_edit.h. Owns nothing between calls. Each
 * line is parsed with the daemon's own parser (blockfile_parse), so a line
 * is deleted only if the daemon reads it as an entry for the target; a
 * line it would skip (bad, a comment) is never touched. Must never follow
 * a symbolic link blindly (the target of a link is replaced, after the
 * same check as the daemon's), nor leave a partly written file.
 */
#include "blocklist_edit.h"
#include "blockfile.h"
#include "fileio.h"
#include "jsonw.h"
#include "log.h"
#include "privs.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct kept {
	const char *text;       /* the file's bytes */
	const bool *drop;       /* per line: deleted */
	size_t len;
	struct stat st;         /* the original's owner and mode */
};

static int fill(void *arg, int fd, const char *tmp, char *err, size_t errlen)
{
	const struct kept *k = arg;
	const char *p = k->text, *end = k->text + k->len;

	for (size_t line = 0; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (!k->drop[line] && write_all(fd, p, n) < 0)
			return errf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		p += n;
	}
	if (fchown(fd, k->st.st_uid, k->st.st_gid) < 0 || fchmod(fd, k->st.st_mode & 07777) < 0)
		return errf(err, errlen, "cannot give '%s' the owner and mode of the block list file: %s", tmp,
			    strerror(errno));
	return 0;
}

static bool same(const struct cidr *a, const struct cidr *b)
{
	return a->len == b->len && addr_equal(&a->addr, &b->addr);
}

/* The entry line (without its newline) holds, if the daemon reads one. */
static bool line_entry(const char *line, size_t n, struct cidr *out)
{
	struct bf_list l;
	enum log_level lvl = log_get_level();
	bool found;

	log_set_level(LOG_LVL_ERR);     /* bad lines were reported by the whole-file pass */
	blockfile_parse("-", line, n, &l);
	log_set_level(lvl);
	found = l.n == 1;
	if (found)
		*out = l.v[0].target;
	bf_list_release(&l);
	return found;
}

int blocklist_remove(const char *path, const struct cidr *target, FILE *report, char *err, size_t errlen)
{
	char real[PATH_MAX], tmp[PATH_MAX + 32], tb[CIDR_STRLEN], msg[ERR_LEN];
	struct kept k = { 0 };
	char *text = NULL;
	bool *drop = NULL;
	size_t len = 0, nlines = 0, ndrop = 0;
	int fd, rc = -1;

	cidr_format(target, tb);
	if (!realpath(path, real)) {
		if (errno == ENOENT) {
			fprintf(report, "%s: no such file: no line to delete\n", path);
			return 0;
		}
		return errf(err, errlen, "cannot resolve '%s': %s", path, strerror(errno));
	}
	if (privs_check_target(path, msg, sizeof msg) < 0)
		return errf(err, errlen, "%s (the daemon does not read it either; nothing deleted)", msg);
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &k.st) < 0 || !S_ISREG(k.st.st_mode) || (uintmax_t)k.st.st_size > BLOCKFILE_SIZE_MAX) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return errf(err, errlen, "cannot read '%s': %s", real,
			    fd < 0 ? strerror(e) : "not a regular file of at most " "128 MiB");
	}
	text = xmalloc((size_t)k.st.st_size + 1);
	while (len < (size_t)k.st.st_size) {
		ssize_t r = read(fd, text + len, (size_t)k.st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len != (size_t)k.st.st_size) {
		free(text);
		return errf(err, errlen, "cannot read '%s' whole (it changed while read?)", real);
	}
	for (size_t i = 0; i < len; i++)
		nlines += text[i] == '\n';
	drop = xcalloc(nlines + 1, sizeof *drop);
	{
		const char *p = text, *end = text + len;
		for (size_t line = 0; p < end; line++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			char shown[4 * BLOCKFILE_LINE_MAX + 1], eb[CIDR_STRLEN];
			struct cidr e;
			if (n <= BLOCKFILE_LINE_MAX && line_entry(p, n, &e)) {
				text_escape(shown, sizeof shown, p, n);
				cidr_format(&e, eb);
				if (same(&e, target)) {
					drop[line] = true;
					ndrop++;
					fprintf(report, "%s:%zu: deleted: %s\n", real, line + 1, shown);
				} else if (e.addr.family == target->addr.family && cidr_overlap(&e, target)) {
					fprintf(report, "%s:%zu: kept: %s (%s %s %s: only a line naming %s exactly is "
						"deleted; edit this one by hand)\n", real, line + 1, shown, eb,
						e.len < target->len ? "covers" : "lies in", tb, tb);
				}
			}
			p = nl ? nl + 1 : end;
		}
	}
	if (ndrop == 0) {
		fprintf(report, "%s: no line names %s\n", real, tb);
		rc = 0;
		goto out;
	}
	k.text = text;
	k.len = len;
	k.drop = drop;
	snprintf(tmp, sizeof tmp, "%s.unblock-XXXXXX", real);
	rc = file_replace(real, tmp, fill, &k, err, errlen);
	if (rc == 1) {
		fprintf(report, "warning: %s\n", err);
		rc = 0;
	}
	if (rc == 0)
		rc = (int)ndrop;
out:
	free(drop);
	free(text);
	return rc;
}
