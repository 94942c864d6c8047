// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * state - see state.h. The snapshot is text, one record a line, so that
 * an admin can read it and a damaged one is easy to recognise:
 *
 *   mailscreen-state 1 SAVED_MS
 *   block CIDR START_MS EXPIRY_MS|- TIMES ORIGIN REASON
 *   allow CIDR EXPIRY_MS|-
 *   account USER START_MS EXPIRY_MS|- ORIGIN REASON
 *   offender HEXKEY T,T,...
 *   window TABLE HEXKEY T,T,...
 *   file SOURCE PATH DEV INO OFFSET FP FP_LEN
 *   journal SOURCE CURSOR
 *   end HASH
 *
 * Strings are %-escaped (every byte outside '!'..'~', and '%'); HASH is
 * FNV-1a 64 of every byte before the "end" line, so a torn or edited file
 * is refused. Owns only the file; everything it reads back goes into the
 * daemon through the same functions a live event would use. Text read
 * back is trusted no more than a control request: a reason or origin with
 * a control character (older versions took them from the control socket)
 * is restored escaped (\xNN), never raw, and an account name the deny
 * file cannot hold is skipped with a warning.
 */
#include "state.h"
#include "daemon.h"
#include "duration.h"
#include "fileio.h"
#include "journal.h"
#include "jsonw.h"
#include "log.h"
#include "window.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_VERSION 1
#define STATE_MAX_SIZE (1ULL << 30)

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static void put_str(FILE *fp, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	if (!n)
		fputc('%', fp), fputc('-', fp);         /* "%-": the empty string */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c > ' ' && c < 0x7f && c != '%')
			fputc(c, fp);
		else
			fprintf(fp, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

static void put_hex(FILE *fp, const void *key, size_t n)
{
	const unsigned char *k = key;

	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%02x", k[i]);
	if (!n)
		fputc('-', fp);
}

static void put_times(FILE *fp, const uint64_t *t, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		fprintf(fp, "%s%llu", i ? "," : "", (unsigned long long)t[i]);
	if (!n)
		fputc('-', fp);
}

static void put_expiry(FILE *fp, uint64_t ms)
{
	if (ms == UINT64_MAX)
		fputc('-', fp);
	else
		fprintf(fp, "%llu", (unsigned long long)ms);
}

struct wctx {
	FILE *fp;
};

static void dump_window(void *arg, const char *table, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	FILE *fp = arg;

	fputs("window ", fp);
	put_str(fp, table, strlen(table));
	fputc(' ', fp);
	put_hex(fp, key, klen);
	fputc(' ', fp);
	put_times(fp, times, n);
	fputc('\n', fp);
}

static void dump_offender(void *arg, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	FILE *fp = arg;

	fputs("offender ", fp);
	put_hex(fp, key, klen);
	fputc(' ', fp);
	put_times(fp, times, n);
	fputc('\n', fp);
}

static void dump_block(void *arg, const struct block *b)
{
	FILE *fp = arg;
	char t[CIDR_STRLEN];

	cidr_format(&b->target, t);
	fprintf(fp, "block %s %llu ", t, (unsigned long long)b->start_ms);
	put_expiry(fp, b->expiry_ms);
	fprintf(fp, " %u ", b->times);
	put_str(fp, b->origin, strlen(b->origin));
	fputc(' ', fp);
	put_str(fp, b->reason, strlen(b->reason));
	fputc('\n', fp);
}

struct pctx {
	FILE *fp;
};

static void dump_pos(void *arg, const struct tail_pos *p)
{
	FILE *fp = arg;
	const struct src *s = p->cookie;

	if (!s)
		return;
	fputs("file ", fp);
	put_str(fp, s->name, strlen(s->name));
	fputc(' ', fp);
	put_str(fp, p->path, strlen(p->path));
	fprintf(fp, " %llu %llu %llu %llu %u\n", (unsigned long long)p->dev, (unsigned long long)p->ino,
		(unsigned long long)p->offset, (unsigned long long)p->fp, p->fp_len);
}

int state_save(struct daemon *d, char *err, size_t errlen)
{
	const char *dir = d->b.cfg.state_dir;
	char *text = NULL, *path, *tmp;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	const struct allowlist *al = screen_allowlist(d->screen);
	int fd, rc = -1;

	if (!fp)
		return errf(err, errlen, "out of memory");
	fprintf(fp, "mailscreen-state %d %llu\n", STATE_VERSION, (unsigned long long)daemon_now_ms());
	blocks_foreach(d->blocks, dump_block, fp);
	for (size_t i = 0; i < al->n; i++) {
		char t[CIDR_STRLEN];
		if (al->v[i].origin != ALLOW_MANUAL)
			continue;
		cidr_format(&al->v[i].target, t);
		fprintf(fp, "allow %s ", t);
		put_expiry(fp, al->v[i].expiry_ms);
		fputc('\n', fp);
	}
	for (size_t i = 0; i < d->naccounts; i++) {
		const struct account_block *a = &d->accounts[i];
		fputs("account ", fp);
		put_str(fp, a->user, strlen(a->user));
		fprintf(fp, " %llu ", (unsigned long long)a->start_ms);
		put_expiry(fp, a->expiry_ms);
		fputc(' ', fp);
		put_str(fp, a->origin, strlen(a->origin));
		fputc(' ', fp);
		put_str(fp, a->reason, strlen(a->reason));
		fputc('\n', fp);
	}
	window_dump(d->offenders, dump_offender, fp);
	screen_dump(d->screen, dump_window, fp);
	if (d->tail)
		tail_foreach_file(d->tail, dump_pos, fp);
	for (size_t i = 0; i < d->nsrcs; i++) {
		char *cur;
		if (!d->srcs[i]->j || !(cur = journal_cursor(d->srcs[i]->j)))
			continue;
		fputs("journal ", fp);
		put_str(fp, d->srcs[i]->name, strlen(d->srcs[i]->name));
		fputc(' ', fp);
		put_str(fp, cur, strlen(cur));
		fputc('\n', fp);
		free(cur);
	}
	fflush(fp);
	fprintf(fp, "end %016llx\n", (unsigned long long)fnv(text, len));
	if (fclose(fp) != 0) {
		free(text);
		return errf(err, errlen, "out of memory");
	}
	path = xasprintf("%s/state", dir);
	tmp = xasprintf("%s/.state.tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		errf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, text, len) < 0 || fsync(fd) < 0) {
		errf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		errf(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	fsync_dir(dir);         /* the new content is in place either way */
	rc = 0;
out:
	free(path);
	free(tmp);
	free(text);
	return rc;
}

/* ---- reading ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape s in place; returns its length or -1. */
static long get_str(char *s)
{
	size_t o = 0;

	if (strcmp(s, "%-") == 0) {
		*s = '\0';
		return 0;
	}
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '%') {
			int a = hexval(s[i + 1]), b = a < 0 ? -1 : hexval(s[i + 2]);
			if (a < 0 || b < 0)
				return -1;
			s[o++] = (char)(a << 4 | b);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return (long)o;
}

static long get_hex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	for (; s[0] && s[1] && n < max; s += 2) {
		int a = hexval(s[0]), b = hexval(s[1]);
		if (a < 0 || b < 0)
			return -1;
		out[n++] = (unsigned char)(a << 4 | b);
	}
	return *s ? -1 : (long)n;
}

/* s (n bytes, unescaped) as printable text: s itself when it is, else
 * escaped into buf (counted in *escaped). Keeps the record and its
 * meaning; drops only the power of its bytes over a log or a terminal. */
static const char *printable(const char *s, long n, char *buf, size_t buflen, size_t *escaped)
{
	if (text_printable(s, (size_t)n, NULL))
		return s;
	text_escape(buf, buflen, s, (size_t)n);
	(*escaped)++;
	return buf;
}

static bool get_u64(const char *s, uint64_t *v)
{
	char *end;

	if (strcmp(s, "-") == 0) {
		*v = UINT64_MAX;
		return true;
	}
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && end != s && !*end;
}

static uint32_t get_times(char *s, uint64_t *out, uint32_t max)
{
	uint32_t n = 0;
	char *save = NULL;

	if (strcmp(s, "-") == 0)
		return 0;
	for (char *t = strtok_r(s, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
		if (get_u64(t, &out[n]))
			n++;
	return n;
}

/* Split a line into at most max space-separated fields. */
static int fields(char *line, char **f, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	return n;
}

static void set_aside(const char *path, const char *why)
{
	char *bad = xasprintf("%s.bad-%lld", path, (long long)time(NULL));

	if (rename(path, bad) == 0)
		log_warnx("%s: %s; set aside as '%s', starting without saved state", path, why, bad);
	else
		log_warnx("%s: %s; starting without saved state (cannot set it aside: %s)", path, why, strerror(errno));
	free(bad);
}

void state_load(const char *state_dir, struct saved_state *s)
{
	char *path = xasprintf("%s/state", state_dir), *text = NULL, *end, *p;
	struct stat st;
	int fd;
	size_t len = 0;
	unsigned long long hash;
	int version;

	memset(s, 0, sizeof *s);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("cannot read saved state '%s'", path);
		free(path);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > STATE_MAX_SIZE) {
		close(fd);
		set_aside(path, "not a regular file, or too big");
		free(path);
		return;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, text + len, (size_t)st.st_size - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	text[len] = '\0';
	/* the last line must be "end HASH" over everything before it */
	end = len >= 2 ? memrchr(text, '\n', len - 1) : NULL;
	if (len < 2 || text[len - 1] != '\n' || !end || sscanf(end + 1, "end %16llx", &hash) != 1 ||
	    memchr(text, '\0', len) || fnv(text, (size_t)(end + 1 - text)) != hash) {
		free(text);
		set_aside(path, len ? "torn or damaged (its checksum does not match)" : "empty");
		free(path);
		return;
	}
	if (sscanf(text, "mailscreen-state %d %llu", &version, &hash) != 2 || version != STATE_VERSION) {
		free(text);
		set_aside(path, "not a state file of this version");
		free(path);
		return;
	}
	end[1] = '\0';
	s->saved_ms = hash;
	s->text = text;
	s->len = (size_t)(end + 1 - text);
	s->loaded = true;
	/* positions now: they are needed when the sources open */
	for (p = strchr(text, '\n') + 1; p && *p;) {
		char *nl = strchr(p, '\n'), *line, *f[9];
		int n;
		if (!nl)
			break;
		if (strncmp(p, "file ", 5) && strncmp(p, "journal ", 8)) {
			p = nl + 1;
			continue;
		}
		line = xstrndup(p, (size_t)(nl - p));
		n = fields(line, f, 9);
		if (n == 8 && strcmp(f[0], "file") == 0 && get_str(f[1]) >= 0 && get_str(f[2]) >= 0) {
			struct saved_file sf = { .source = xstrdup(f[1]), .path = xstrdup(f[2]) };
			uint64_t fplen;
			sf.pos.path = sf.path;
			if (get_u64(f[3], &sf.pos.dev) && get_u64(f[4], &sf.pos.ino) && get_u64(f[5], &sf.pos.offset) &&
			    get_u64(f[6], &sf.pos.fp) && get_u64(f[7], &fplen) && fplen <= TAIL_FP_LEN) {
				sf.pos.fp_len = (uint32_t)fplen;
				XGROW(s->files, s->afiles, s->nfiles + 1);
				s->files[s->nfiles++] = sf;
			} else {
				free(sf.source);
				free(sf.path);
			}
		} else if (n == 3 && strcmp(f[0], "journal") == 0 && get_str(f[1]) >= 0 && get_str(f[2]) >= 0) {
			XGROW(s->journals, s->ajournals, s->njournals + 1);
			s->journals[s->njournals++] = (struct saved_journal){ xstrdup(f[1]), xstrdup(f[2]) };
		}
		free(line);
		p = nl + 1;
	}
	free(path);
}

size_t state_apply(struct daemon *d, const struct saved_state *s)
{
	uint64_t now = daemon_now_ms(), times[1024];
	size_t blocks = 0, bad = 0, escaped = 0, names = 0, aexpired = 0;
	char *copy, *p, first[256] = "";

	if (!s->loaded)
		return 0;
	copy = xstrndup(s->text, s->len);
	for (p = strchr(copy, '\n') + 1; p && *p;) {
		char *nl = strchr(p, '\n'), *f[8];
		unsigned char key[WINDOW_KEY_MAX];
		int n;
		long kl;

		if (!nl)
			break;
		*nl = '\0';
		n = fields(p, f, 8);
		p = nl + 1;
		if (n == 7 && strcmp(f[0], "block") == 0) {
			struct cidr c;
			uint64_t start, expiry, t;
			struct block *b;
			char err[512], origin[sizeof b->origin], reason[sizeof b->reason];
			long ol, rl;
			if (cidr_parse(f[1], &c, NULL, 0) < 0 || !get_u64(f[2], &start) || !get_u64(f[3], &expiry) ||
			    !get_u64(f[4], &t) || (ol = get_str(f[5])) < 0 || (rl = get_str(f[6])) < 0) {
				bad++;
				continue;
			}
			if (expiry <= now) {
				/* ended while the daemon was down; the kernel may still
				 * hold it for what it covered (kernel_check) */
				XGROW(d->expired_saved, aexpired, d->nexpired_saved + 1);
				d->expired_saved[d->nexpired_saved++] = c;
				continue;
			}
			if (daemon_block(d, &c, expiry == UINT64_MAX ? DURATION_PERMANENT : expiry - now,
					 printable(f[5], ol, origin, sizeof origin, &escaped),
					 printable(f[6], rl, reason, sizeof reason, &escaped), err, sizeof err) < 0) {
				log_warnx("saved block of %s not restored: %s", f[1], err);
				continue;
			}
			/* daemon_block made the entry (and queued it for the kernel):
			 * give it back its history */
			if ((b = blocks_find(d->blocks, &c))) {
				b->start_ms = start;
				b->times = (uint32_t)t;
			}
			blocks++;
		} else if (n == 3 && strcmp(f[0], "allow") == 0) {
			struct cidr c;
			uint64_t expiry;
			if (cidr_parse(f[1], &c, NULL, 0) < 0 || !get_u64(f[2], &expiry)) {
				bad++;
				continue;
			}
			if (expiry > now)
				allow_add(screen_allowlist(d->screen), &c, expiry);
		} else if (n == 6 && strcmp(f[0], "account") == 0) {
			uint64_t start, expiry;
			long ul = get_str(f[1]), ol, rl;
			char err[256], origin[sizeof d->accounts->origin], reason[sizeof d->accounts->reason];
			if (ul <= 0 || !get_u64(f[2], &start) || !get_u64(f[3], &expiry) || (ol = get_str(f[4])) < 0 ||
			    (rl = get_str(f[5])) < 0) {
				bad++;
				continue;
			}
			if (expiry <= now)
				continue;
			if (daemon_block_account(d, f[1], (size_t)ul, expiry == UINT64_MAX ? DURATION_PERMANENT :
						 expiry - now, printable(f[4], ol, origin, sizeof origin, &escaped),
						 printable(f[5], rl, reason, sizeof reason, &escaped), err,
						 sizeof err) < 0) {
				/* a name with a control character (or ':') can be
				 * in no deny file: that block cannot be kept */
				if (!names++)
					snprintf(first, sizeof first, "%s", err);
				continue;
			}
			for (size_t i = 0; i < d->naccounts; i++)
				if (strcmp(d->accounts[i].user, f[1]) == 0) {
					d->accounts[i].start_ms = start;
					d->accounts[i].expiry_ms = expiry;
				}
		} else if (n == 3 && strcmp(f[0], "offender") == 0) {
			uint32_t nt;
			bool reached;
			if ((kl = get_hex(f[1], key, sizeof key)) < 0) {
				bad++;
				continue;
			}
			nt = get_times(f[2], times, 1024);
			for (uint32_t i = 0; i < nt; i++)
				window_hit(d->offenders, key, (size_t)kl, times[i], 1, &reached);
		} else if (n == 4 && strcmp(f[0], "window") == 0) {
			uint32_t nt;
			if (get_str(f[1]) < 0 || (kl = get_hex(f[2], key, sizeof key)) < 0) {
				bad++;
				continue;
			}
			nt = get_times(f[3], times, 1024);
			screen_load(d->screen, f[1], key, (size_t)kl, times, nt);
		} else if (n > 0 && strcmp(f[0], "file") && strcmp(f[0], "journal")) {
			bad++;
		}
	}
	free(copy);
	if (bad)
		log_warnx("saved state: %zu records not understood, skipped", bad);
	if (escaped)
		log_warnx("saved state: %zu reasons or origins held control characters or bytes that are not UTF-8; "
			  "restored escaped (\\xNN)", escaped);
	if (names)
		log_warnx("saved state: %zu account blocks not restored (the first: %s)", names, first);
	return blocks;
}

size_t state_file_positions(const struct saved_state *s, const char *source, struct tail_pos *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nfiles && n < max; i++)
		if (strcmp(s->files[i].source, source) == 0)
			out[n++] = s->files[i].pos;
	return n;
}

const char *state_journal_cursor(const struct saved_state *s, const char *source)
{
	for (size_t i = 0; i < s->njournals; i++)
		if (strcmp(s->journals[i].source, source) == 0)
			return s->journals[i].cursor;
	return NULL;
}

void saved_state_release(struct saved_state *s)
{
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].source);
		free(s->files[i].path);
	}
	for (size_t i = 0; i < s->njournals; i++) {
		free(s->journals[i].source);
		free(s->journals[i].cursor);
	}
	free(s->files);
	free(s->journals);
	free(s->text);
	memset(s, 0, sizeof *s);
}
