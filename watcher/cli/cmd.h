/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd - the subcommands of the mailscreen binary, one function each,
 * dispatched from main.c's table (and ctl_cmds.h's for cmd_ctl). Each parses its own options, prints
 * its own -h, and returns the process exit status.
 */
#ifndef MS_CMD_H
#define MS_CMD_H

int cmd_run(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_options(int argc, char **argv);
/* The control commands (ctl_cmds.h: status, list, block, ...): argv[0]
 * names which. */
int cmd_ctl(int argc, char **argv);

#endif
