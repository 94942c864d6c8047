// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * f2bmacro - see f2bmacro.h. Owns a table of fail2ban's macros and what a
 * mailscreen filter writes instead. Never changes or rejects a pattern:
 * it only says what it found.
 */
#include "f2bmacro.h"

#include <stdio.h>
#include <string.h>

/* fail2ban's macros and interpolations: PCRE2 reads them as literal
 * text that no server writes, so a regex holding one never matches. */
static const struct {
	const char *macro, *instead;
} f2b_macros[] = {
	{ "<HOST>", "capture the address with (?<ip>...) where the server writes it, e.g. \\[(?<ip>[0-9A-Fa-f.:]+)\\]" },
	{ "<ADDR>", "capture the address with (?<ip>...)" },
	{ "<IP4>", "capture the address with (?<ip>...)" },
	{ "<IP6>", "capture the address with (?<ip>...)" },
	{ "<DNS>", "capture the address with (?<ip>...): a host name is never an address to block" },
	{ "<CIDR>", "capture the address with (?<ip>...)" },
	{ "<SUBNET>", "capture the address with (?<ip>...)" },
	{ "<F-USER>", "capture the user with (?<user>...)" },
	{ "<F-ALT_USER>", "capture the user with (?<user>...)" },
	{ "<F-", "use the named groups ip, user, session, count, service: (?<user>...)" },
	{ "<SKIPLINES>", "a regex sees one line: write a regex per line" },
	{ "%(", "remove it: mailscreen parses the syslog header itself and runs the regex on the message after "
		"\"program[pid]: \"" },
};

bool f2bmacro_hint(const char *pattern, char *buf, size_t len)
{
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p != '<' && *p != '%')
			continue;
		for (size_t k = 0; k < sizeof f2b_macros / sizeof f2b_macros[0]; k++) {
			const char *mac = f2b_macros[k].macro;
			size_t n = strlen(mac);
			if (strncmp(p, mac, n) != 0)
				continue;
			/* "(?<F-..." is a named group (the filter loader refuses the name) */
			if (mac[0] == '<' && p > pattern && p[-1] == '?')
				continue;
			/* %(name)s only: "%(" alone is literal text a log may hold */
			if (mac[0] == '%') {
				size_t j = 2;
				while (p[j] && (p[j] == '_' || (p[j] >= 'a' && p[j] <= 'z') ||
						(p[j] >= 'A' && p[j] <= 'Z') || (p[j] >= '0' && p[j] <= '9')))
					j++;
				if (j == 2 || p[j] != ')' || p[j + 1] != 's')
					continue;
				n = j + 2;
			} else if (mac[2] == '-' && mac[3] == '\0') {      /* "<F-": up to its '>' */
				const char *gt = strchr(p, '>');
				n = gt && gt - p < 40 ? (size_t)(gt - p + 1) : n;
			}
			snprintf(buf, len, "regex contains fail2ban's %.*s, which PCRE2 reads as literal text that "
				 "never matches: %s", (int)n, p, f2b_macros[k].instead);
			return true;
		}
	}
	return false;
}
