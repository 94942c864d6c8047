// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * geo - see geo.h. Owns one MMDB_s (memory-mapped by libmaxminddb), the
 * identity of the file it was read from, and a direct-mapped cache of
 * answers. Never writes anything.
 */
#include "geo.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ISO 3166-1 alpha-2 codes in use, and XK (Kosovo), which the country
 * databases use too. */
static const char iso3166[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV "
	"BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES "
	"ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE "
	"IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU "
	"NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM "
	"SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE "
	"VG VI VN VU WF WS XK YE YT ZA ZM ZW";

#define GEO_MAX_SIZE (256 << 20)       /* country databases are a few MiB */

struct slot {
	struct ipaddr a;
	uint16_t code;
	bool used;
};

struct geo {
	char *path;
	MMDB_s db;
	bool open;
	bool seen;              /* the file was looked at: */
	dev_t dev;              /* the file last read (or tried: a broken one is */
	ino_t ino;              /* tried again only once it changes) */
	struct timespec mtime;
	off_t size;
	uint64_t checked_ms;    /* last look at the file */
	struct slot cache[GEO_CACHE];
	struct geo_stats st;
};

void geo_code_text(uint16_t code, char out[3])
{
	if (code == GEO_NONE) {
		out[0] = '\0';
		return;
	}
	out[0] = (char)(code >> 8);
	out[1] = (char)(code & 0xff);
	out[2] = '\0';
}

int geo_code_parse(const char *s, uint16_t *code)
{
	char up[3];

	if (strcmp(s, "--") == 0 || strcasecmp(s, "unknown") == 0) {
		*code = GEO_UNKNOWN;
		return 0;
	}
	if (strlen(s) != 2)
		return -1;
	for (int i = 0; i < 2; i++) {
		char c = s[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			return -1;
		up[i] = c;
	}
	up[2] = '\0';
	for (const char *p = iso3166; *p; p += p[2] ? 3 : 2)
		if (p[0] == up[0] && p[1] == up[1]) {
			*code = geo_code(up[0], up[1]);
			return 0;
		}
	return -1;
}

struct geo *geo_new(const char *path)
{
	struct geo *g = xcalloc(1, sizeof *g);

	g->path = xstrdup(path);
	return g;
}

void geo_free(struct geo *g)
{
	if (!g)
		return;
	if (g->open)
		MMDB_close(&g->db);
	free(g->path);
	free(g);
}

const char *geo_path(const struct geo *g)
{
	return g->path;
}

const char *geo_type(const struct geo *g)
{
	return g->open ? g->db.metadata.database_type : NULL;
}

static bool same_file(const struct geo *g, const struct stat *sb)
{
	return sb->st_dev == g->dev && sb->st_ino == g->ino && sb->st_size == g->size &&
	       sb->st_mtim.tv_sec == g->mtime.tv_sec && sb->st_mtim.tv_nsec == g->mtime.tv_nsec;
}

/* Does the database answer for countries? A city or country database
 * has "country" in its type; anything else is refused. */
static bool country_type(const MMDB_s *db)
{
	const char *t = db->metadata.database_type;

	return t && (strstr(t, "Country") || strstr(t, "country") || strstr(t, "City") || strstr(t, "city"));
}

/* The database is read into a sealed memory file of its own and opened
 * from there: libmaxminddb maps what it opens, and a file written over
 * in place (cp, where geoipupdate renames) would change under the mapping
 * -- truncated, a lookup would fault (SIGBUS). A rename leaves the old
 * file whole, but not everybody renames. The memory file's descriptor,
 * or -1 (errno; *short_read when the file changed while it was read). */
static int private_copy(int fd, off_t size, bool *short_read)
{
	char buf[65536];
	off_t done = 0;
	int mfd = memfd_create("mailscreen-geo", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	*short_read = false;
	if (mfd < 0)
		return -1;
	while (done < size) {
		size_t want = size - done < (off_t)sizeof buf ? (size_t)(size - done) : sizeof buf;
		ssize_t n = read(fd, buf, want), w = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*short_read = n == 0;
			close(mfd);
			return -1;
		}
		while (w < n) {
			ssize_t k = write(mfd, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				close(mfd);
				return -1;
			}
			w += k;
		}
		done += n;
	}
	(void)fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	return mfd;
}

int geo_load(struct geo *g, char *err, size_t errlen)
{
	struct stat sb;
	MMDB_s db;
	char proc[64];
	bool short_read;
	int rc, fd, mfd;

	fd = open(g->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return errf(err, errlen, "[location] database '%s': %s (get a country database, e.g. GeoLite2-Country "
			    "with geoipupdate or DB-IP's IP to Country Lite, put it there, or remove the key)", g->path,
			    strerror(errno));
	if (fd < 0)
		return errf(err, errlen, "[location] database '%s': cannot read it: %s (make it readable by the "
			    "daemon)", g->path, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return errf(err, errlen, "[location] database '%s': %s", g->path, strerror(e));
	}
	g->seen = true;
	g->dev = sb.st_dev;
	g->ino = sb.st_ino;
	g->size = sb.st_size;
	g->mtime = sb.st_mtim;
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return errf(err, errlen, "[location] database '%s' is not a file (name a MaxMind DB country database, "
			    "e.g. /var/lib/GeoIP/GeoLite2-Country.mmdb)", g->path);
	}
	if (sb.st_size == 0) {
		close(fd);
		return errf(err, errlen, "[location] database '%s' is empty (download it again, e.g. with "
			    "geoipupdate)", g->path);
	}
	if (sb.st_size > GEO_MAX_SIZE) {
		close(fd);
		return errf(err, errlen, "[location] database '%s' is larger than %d MiB: not a country database "
			    "(use GeoLite2-Country or the like)", g->path, GEO_MAX_SIZE >> 20);
	}
	mfd = private_copy(fd, sb.st_size, &short_read);
	close(fd);
	if (mfd < 0 && short_read)
		return errf(err, errlen, "[location] database '%s' changed while it was read (being written? it is "
			    "read again once it changes)", g->path);
	rc = MMDB_FILE_OPEN_ERROR;
	if (mfd >= 0) {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", mfd);
		rc = MMDB_open(proc, MMDB_MODE_MMAP, &db);
		close(mfd);     /* the mapping stays */
	}
	/* no memory file (a system call filter without memfd_create, no
	 * /proc): the file itself, as libmaxminddb maps it */
	if (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR)
		rc = MMDB_open(g->path, MMDB_MODE_MMAP, &db);
	if (rc != MMDB_SUCCESS) {
		if (rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR)
			return errf(err, errlen, "[location] database '%s': cannot read it: %s (make it readable by the "
				    "daemon)", g->path, strerror(errno));
		return errf(err, errlen, "[location] database '%s' is not a MaxMind DB file: %s (download it again, "
			    "e.g. with geoipupdate)", g->path, MMDB_strerror(rc));
	}
	if (!country_type(&db)) {
		errf(err, errlen, "[location] database '%s' is a '%s' database, without countries (use a country "
		     "database such as GeoLite2-Country)", g->path, db.metadata.database_type ? db.metadata.database_type :
		     "(unnamed)");
		MMDB_close(&db);
		return -1;
	}
	if (g->open)
		MMDB_close(&g->db);
	g->db = db;
	g->open = true;
	memset(g->cache, 0, sizeof g->cache);
	return 0;
}

int geo_refresh(struct geo *g, uint64_t now_ms, char *err, size_t errlen)
{
	struct stat sb;

	if (g->checked_ms && now_ms >= g->checked_ms && now_ms - g->checked_ms < GEO_RECHECK_MS)
		return 0;
	g->checked_ms = now_ms ? now_ms : 1;
	if (stat(g->path, &sb) < 0)
		return 0;       /* gone for now (being replaced?): the one in force stays */
	if (g->seen && same_file(g, &sb))
		return 0;
	if (geo_load(g, err, errlen) < 0)
		return -1;
	g->st.reopened++;
	return 1;
}

static uint16_t entry_code(MMDB_entry_s *e, const char *field)
{
	MMDB_entry_data_s d;

	if (MMDB_get_value(e, &d, field, "iso_code", NULL) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return GEO_NONE;
	return geo_code(d.utf8_string[0], d.utf8_string[1]);
}

static uint16_t db_lookup(struct geo *g, const struct ipaddr *a)
{
	struct sockaddr_storage ss;
	MMDB_lookup_result_s r;
	int mmerr;
	uint16_t code;

	memset(&ss, 0, sizeof ss);
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->b, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->b, 16);
	}
	r = MMDB_lookup_sockaddr(&g->db, (const struct sockaddr *)&ss, &mmerr);
	if (mmerr != MMDB_SUCCESS || !r.found_entry)
		return GEO_UNKNOWN;
	code = entry_code(&r.entry, "country");
	if (code == GEO_NONE)
		code = entry_code(&r.entry, "registered_country");
	if (code == GEO_NONE)
		return GEO_UNKNOWN;
	/* only letters ever leave here: the database is data, not trusted */
	if ((code >> 8) < 'A' || (code >> 8) > 'Z' || (code & 0xff) < 'A' || (code & 0xff) > 'Z')
		return GEO_UNKNOWN;
	return code;
}

static size_t slot_of(const struct ipaddr *a)
{
	uint32_t h = 2166136261u;

	h = (h ^ a->family) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ a->b[i]) * 16777619u;
	return h % GEO_CACHE;
}

uint16_t geo_lookup(struct geo *g, const struct ipaddr *in)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct ipaddr a = *in;
	struct slot *s;

	if (!g || !g->open)
		return GEO_NONE;
	if (a.family == AF_INET6 && memcmp(a.b, v4mapped, sizeof v4mapped) == 0) {
		memset(&a, 0, sizeof a);
		a.family = AF_INET;
		memcpy(a.b, in->b + 12, 4);
	} else if (a.family == AF_INET) {
		memset(a.b + 4, 0, 12);
	}
	g->st.lookups++;
	s = &g->cache[slot_of(&a)];
	if (s->used && s->a.family == a.family && memcmp(s->a.b, a.b, 16) == 0) {
		g->st.cached++;
	} else {
		s->a = a;
		s->code = db_lookup(g, &a);
		s->used = true;
	}
	g->st.unknown += s->code == GEO_UNKNOWN;
	return s->code;
}

void geo_stats(const struct geo *g, struct geo_stats *st)
{
	*st = g->st;
	st->loaded = g->open;
}

uint16_t geo_block_country(const char *origin, const char *reason)
{
	uint16_t code;
	char cc[3];

	if (strcmp(origin, GEO_ORIGIN) != 0 || strncmp(reason, "location ", 9) != 0 || !reason[9] || !reason[10] ||
	    reason[11] != ':')
		return GEO_NONE;
	cc[0] = reason[9];
	cc[1] = reason[10];
	cc[2] = '\0';
	return geo_code_parse(cc, &code) == 0 ? code : GEO_NONE;
}

bool geo_block_of_rule(const char *origin, const char *reason, const char *name)
{
	size_t rl, nl = strlen(name);

	if (strcmp(origin, GEO_ORIGIN) != 0)
		return false;
	rl = strlen(reason);
	/* "... (rule NAME)" */
	return rl > nl + 7 && reason[rl - 1] == ')' && memcmp(reason + rl - 1 - nl, name, nl) == 0 &&
	       memcmp(reason + rl - 1 - nl - 6, "(rule ", 6) == 0;
}
