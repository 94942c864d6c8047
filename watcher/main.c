// SPDX-License-Identifier: GPL-2.0-or-later
/* main - placeholder until the commands land. */
#include "log.h"
int main(void) { log_init("mailscreen", LOG_LVL_INFO); return 0; }
