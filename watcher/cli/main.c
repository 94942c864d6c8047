// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * main - the mailscreen command line: a table of the subcommands that run
 * here (run, match, replay, check, test, options), then the control commands, which
 * talk to the daemon and are listed in ctl_cmds.h's table.
 */
#include "cmd.h"
#include "ctl_cmds.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#ifndef MS_VERSION
#define MS_VERSION "0.1"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "run the daemon: watch logs, count, block" },
	{ "match", cmd_match, "run filters over a log file or the journal and print the events" },
	{ "replay", cmd_replay, "run the whole configuration over past logs: the blocks that would have happened" },
	{ "check", cmd_check, "validate the configuration, filters and rules" },
	{ "test", cmd_test, "check filter files against their annotated sample logs" },
	{ "options", cmd_options, "print the configuration file reference" },
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: mailscreen COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-16s %s\n", commands[i].name, commands[i].help);
	for (size_t i = 0; i < CTL_NCMDS; i++)
		fprintf(fp, "  %-16s %s\n", ctl_cmds[i].name, ctl_cmds[i].summary);
	fprintf(fp, "  %-16s %s\n\n'mailscreen COMMAND -h' describes a command.\n", "version", "print the version");
}

int main(int argc, char **argv)
{
	log_init("mailscreen", LOG_LVL_INFO);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("mailscreen %s\n", MS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	if (ctl_cmd_find(argv[1]))
		return cmd_ctl(argc - 1, argv + 1);
	fprintf(stderr, "mailscreen: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
