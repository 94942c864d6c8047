/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd - the subcommands of the mailscreen binary, one function each,
 * dispatched from main.c's table. Each parses its own options, prints
 * its own -h, and returns the process exit status.
 */
#ifndef MS_CMD_H
#define MS_CMD_H

int cmd_run(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_options(int argc, char **argv);
/* status, list, block, unblock, allow, unallow, block-account,
 * unblock-account, reset, pause, resume, reload: argv[0] names which. */
int cmd_ctl(int argc, char **argv);

#endif
