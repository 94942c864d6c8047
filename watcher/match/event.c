// SPDX-License-Identifier: GPL-2.0-or-later
/* event - names of the event kinds (see event.h). */
#include "event.h"

#include <string.h>

static const char *const kind_names[EV_NKINDS] = {
	[EV_CONNECT] = "connect",
	[EV_AUTH_FAIL] = "auth-fail",
	[EV_AUTH_OK] = "auth-ok",
	[EV_RCPT_FAIL] = "rcpt-fail",
	[EV_RSET] = "rset",
	[EV_ABUSE] = "abuse",
	[EV_DISCONNECT] = "disconnect",
};

const char *ev_kind_name(enum ev_kind k)
{
	return (unsigned)k < EV_NKINDS ? kind_names[k] : "?";
}

int ev_kind_parse(const char *name, size_t len)
{
	for (int k = 0; k < EV_NKINDS; k++)
		if (strlen(kind_names[k]) == len && memcmp(kind_names[k], name, len) == 0)
			return k;
	return -1;
}
