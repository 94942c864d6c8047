// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * state_read - a snapshot read back (the format: state.h): state_load
 * reads STATE_DIR/state whole, checks its checksum and version, and parses
 * the sources' read positions at once (they are needed when the sources
 * open); state_apply hands every other record to the callbacks of a sink
 * (struct state_sink), which put it where it belongs. A torn, damaged or
 * foreign file is set aside (state.bad-TIME) and not used; the temporary
 * files of writers killed half-way are removed.
 *
 * Text read back is trusted no more than a control request: every field
 * is parsed whole and its length bounded; a reason or origin with a
 * control character (older versions took them from the control socket) is
 * handed on escaped (\xNN), never raw; a block or an account block the
 * sink refuses (a target it must never block, a name the deny file cannot
 * hold) is reported and skipped; records not understood are counted and
 * reported in one warning.
 *
 * Owns: a loaded snapshot (struct saved_state: its text and positions,
 * until saved_state_release).
 *
 * Must never: reach into the daemon (no daemon.h: only the sink), write a
 * snapshot (state_write.c), or hand a sink a record it did not check
 * (fields parsed whole, lengths bounded, texts made printable).
 */
#include "state_int.h"
#include "hex.h"
#include "jsonw.h"
#include "log.h"
#include "window.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX_SIZE (1ULL << 30)
/* what an origin and a reason are cut to when read back: a block's sizes
 * (an account block's are the same) */
#define ORIGIN_LEN sizeof(((struct block *)NULL)->origin)
#define REASON_LEN sizeof(((struct block *)NULL)->reason)

static uint64_t fnv(const char *p, size_t n)
{
	return fnv_more(FNV_SEED, p, n);
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
			int a = hex_value(s[i + 1]), b = a < 0 ? -1 : hex_value(s[i + 2]);
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
		int a = hex_value(s[0]), b = hex_value(s[1]);
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

/* Temporary files of writers that were killed half-way (.state.PID.tmp,
 * and .state.tmp of earlier versions): never a snapshot, only litter. */
static void remove_leftovers(const char *state_dir)
{
	DIR *dir = opendir(state_dir);
	struct dirent *de;

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		if (n >= 10 && strncmp(de->d_name, ".state.", 7) == 0 && strcmp(de->d_name + n - 4, ".tmp") == 0)
			unlinkat(dirfd(dir), de->d_name, 0);
	}
	closedir(dir);
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
	remove_leftovers(state_dir);
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
		if (strncmp(p, "file ", 5) && strncmp(p, "journal ", 8) && strncmp(p, "cluster ", 8)) {
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
		} else if ((n == 2 || n == 3) && strcmp(f[0], "cluster") == 0 && get_str(f[1]) > 0 &&
			   strlen(f[1]) < sizeof s->cluster_pos && strspn(f[1], "0123456789-") == strlen(f[1]) &&
			   (n == 2 || (get_str(f[2]) > 0 && strlen(f[2]) < sizeof s->cluster_stream))) {
			snprintf(s->cluster_pos, sizeof s->cluster_pos, "%s", f[1]);
			snprintf(s->cluster_stream, sizeof s->cluster_stream, "%s", n == 3 ? f[2] : "");
		}
		free(line);
		p = nl + 1;
	}
	free(path);
}

size_t state_apply(const struct saved_state *s, uint64_t now, const struct state_sink *to)
{
	uint64_t times[1024];
	size_t blocks = 0, bad = 0, escaped = 0, names = 0;
	char *copy, *p, first[ERR_LEN] = "";

	if (!s->loaded)
		return 0;
	copy = xstrndup(s->text, s->len);
	for (p = strchr(copy, '\n') + 1; p && *p;) {
		char *nl = strchr(p, '\n'), *f[9];
		unsigned char key[WINDOW_KEY_MAX];
		int n;
		long kl;

		if (!nl)
			break;
		*nl = '\0';
		n = fields(p, f, 9);
		p = nl + 1;
		if (n == 7 && strcmp(f[0], "block") == 0) {
			struct block b = { 0 };
			uint64_t t;
			char err[ERR_LEN], origin[ORIGIN_LEN], reason[REASON_LEN];
			long ol, rl;
			if (cidr_parse(f[1], &b.target, NULL, 0) < 0 || !get_u64(f[2], &b.start_ms) ||
			    !get_u64(f[3], &b.expiry_ms) || !get_u64(f[4], &t) || (ol = get_str(f[5])) < 0 ||
			    (rl = get_str(f[6])) < 0) {
				bad++;
				continue;
			}
			b.times = (uint32_t)t;
			snprintf(b.origin, sizeof b.origin, "%s", printable(f[5], ol, origin, sizeof origin, &escaped));
			snprintf(b.reason, sizeof b.reason, "%s", printable(f[6], rl, reason, sizeof reason, &escaped));
			if (b.expiry_ms <= now) {
				/* ended while the daemon was down; the kernel may still
				 * hold it for what it covered */
				if (to->expired_block)
					to->expired_block(to->arg, &b);
				continue;
			}
			if (!to->block)
				continue;
			if (to->block(to->arg, &b, err, sizeof err) < 0) {
				log_warnx("saved block of %s not restored: %s", f[1], err);
				continue;
			}
			blocks++;
		} else if (n == 3 && strcmp(f[0], "allow") == 0) {
			struct cidr c;
			uint64_t expiry;
			if (cidr_parse(f[1], &c, NULL, 0) < 0 || !get_u64(f[2], &expiry)) {
				bad++;
				continue;
			}
			if (expiry > now && to->allow)
				to->allow(to->arg, &c, expiry);
		} else if (n == 6 && strcmp(f[0], "account") == 0) {
			struct state_account a = { .user = f[1] };
			long ul = get_str(f[1]), ol, rl;
			char err[ERR_LEN], origin[ORIGIN_LEN], reason[REASON_LEN];
			if (ul <= 0 || !get_u64(f[2], &a.start_ms) || !get_u64(f[3], &a.expiry_ms) ||
			    (ol = get_str(f[4])) < 0 || (rl = get_str(f[5])) < 0) {
				bad++;
				continue;
			}
			if (a.expiry_ms <= now || !to->account)
				continue;
			a.len = (size_t)ul;
			a.origin = printable(f[4], ol, origin, sizeof origin, &escaped);
			a.reason = printable(f[5], rl, reason, sizeof reason, &escaped);
			if (to->account(to->arg, &a, err, sizeof err) < 0) {
				/* a name with a control character (or ':') can be
				 * in no deny file: that block cannot be kept */
				if (!names++)
					snprintf(first, sizeof first, "%s", err);
				continue;
			}
		} else if (n == 3 && strcmp(f[0], "offender") == 0) {
			uint32_t nt;
			if ((kl = get_hex(f[1], key, sizeof key)) < 0) {
				bad++;
				continue;
			}
			nt = get_times(f[2], times, 1024);
			if (to->offender)
				to->offender(to->arg, key, (size_t)kl, times, nt);
		} else if (n == 4 && strcmp(f[0], "window") == 0) {
			uint32_t nt;
			if (get_str(f[1]) < 0 || (kl = get_hex(f[2], key, sizeof key)) < 0) {
				bad++;
				continue;
			}
			nt = get_times(f[3], times, 1024);
			if (to->window)
				to->window(to->arg, f[1], key, (size_t)kl, times, nt);
		} else if (n == 8 && strcmp(f[0], "ended") == 0) {
			struct history_entry e = { 0 };
			long ul, hl, ol, rl;
			char ubuf[sizeof e.user], obuf[ORIGIN_LEN], rbuf[REASON_LEN], hbuf[sizeof e.how];
			e.account = strcmp(f[1], "account") == 0;
			if ((!e.account && strcmp(f[1], "addr")) || (ul = get_str(f[2])) <= 0 ||
			    (!e.account && cidr_parse(f[2], &e.target, NULL, 0) < 0) || !get_u64(f[3], &e.start_ms) ||
			    !get_u64(f[4], &e.end_ms) || (hl = get_str(f[5])) < 0 || (ol = get_str(f[6])) < 0 ||
			    (rl = get_str(f[7])) < 0) {
				bad++;
				continue;
			}
			if (e.account)
				snprintf(e.user, sizeof e.user, "%s", printable(f[2], ul, ubuf, sizeof ubuf, &escaped));
			snprintf(e.how, sizeof e.how, "%s", printable(f[5], hl, hbuf, sizeof hbuf, &escaped));
			snprintf(e.origin, sizeof e.origin, "%s", printable(f[6], ol, obuf, sizeof obuf, &escaped));
			snprintf(e.reason, sizeof e.reason, "%s", printable(f[7], rl, rbuf, sizeof rbuf, &escaped));
			if (to->ended)
				to->ended(to->arg, &e);
		} else if (n == 3 && strcmp(f[0], "total") == 0) {
			uint64_t total;
			if (get_str(f[1]) <= 0 || !get_u64(f[2], &total) || total == UINT64_MAX) {
				bad++;
				continue;
			}
			if (to->total)
				to->total(to->arg, f[1], total);
		} else if (n == 2 && strcmp(f[0], "stats") == 0) {
			long sl = get_str(f[1]);
			if (sl <= 0 || !text_printable(f[1], (size_t)sl, NULL)) {
				bad++;
				continue;
			}
			if (to->stats)
				to->stats(to->arg, f[1]);
		} else if (n > 0 && strcmp(f[0], "file") && strcmp(f[0], "journal") && strcmp(f[0], "cluster")) {
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
