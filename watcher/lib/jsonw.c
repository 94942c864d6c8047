// SPDX-License-Identifier: GPL-2.0-or-later
/* jsonw - see jsonw.h. Pure functions; owns nothing. */
#include "jsonw.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_str(FILE *fp, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	putc('"', fp);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l;
		if (c == '"' || c == '\\') {
			putc('\\', fp);
			putc(c, fp);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(fp, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			putc(c, fp);
			i++;
		} else if ((l = utf8_len(s + i, n - i)) == 2 && c == 0xc2 && s[i + 1] < 0xa0) {
			fprintf(fp, "\\u%04x", s[i + 1]);        /* a C1 control */
			i += l;
		} else if (l) {
			fwrite(s + i, 1, l, fp);
			i += l;
		} else {
			fputs("\\ufffd", fp);
			i++;
		}
	}
	putc('"', fp);
}

void text_sanitize(char *dst, size_t dstlen, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0;
	bool cut = false;

	if (!dstlen)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (o + 8 >= dstlen) {
			cut = true;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			dst[o++] = (char)c;
		} else {
			static const char hex[] = "0123456789abcdef";
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (cut && dstlen >= 4) {
		if (o > dstlen - 4)
			o = dstlen - 4;
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

size_t text_char(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t l;

	if (!n || s[0] < 0x20 || s[0] == 0x7f)
		return 0;
	if (s[0] < 0x80)
		return 1;
	l = utf8_len(s, n);
	if (l == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;       /* U+0080-U+009F */
	return l;
}

bool text_printable(const char *s, size_t n, size_t *bad)
{
	for (size_t i = 0; i < n;) {
		size_t l = text_char(s + i, n - i);
		if (!l) {
			if (bad)
				*bad = i;
			return false;
		}
		i += l;
	}
	return true;
}

void text_escape(char *dst, size_t dstlen, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t full = 0, room, o = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i < n;) {
		size_t l = text_char(s + i, n - i);
		full += l ? l : 4;
		i += l ? l : 1;
	}
	/* all of it, or what fits before "..." */
	room = full < dstlen ? full : dstlen > 4 ? dstlen - 4 : 0;
	for (size_t i = 0; i < n;) {
		size_t l = text_char(s + i, n - i);
		if (o + (l ? l : 4) > room)
			break;
		if (l) {
			memcpy(dst + o, s + i, l);
			o += l;
			i += l;
		} else {
			unsigned char c = (unsigned char)s[i++];
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (full >= dstlen && dstlen > 4) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}
