// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * main - the mailscreen command line: a table of subcommands.
 */
#include "cmd.h"
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
	{ "match", cmd_match, "run filters over a log file and print the events" },
	{ "check", cmd_check, "validate the configuration, filters and rules" },
	{ "options", cmd_options, "print the configuration file reference" },
	{ "status", cmd_ctl, "show the running daemon's state and counters" },
	{ "list", cmd_ctl, "list blocks, allows, failures or blocked accounts" },
	{ "block", cmd_ctl, "block an address or range" },
	{ "unblock", cmd_ctl, "lift the block of an address or range" },
	{ "allow", cmd_ctl, "allow an address or range (never counted nor blocked)" },
	{ "unallow", cmd_ctl, "remove an address or range from the allow list" },
	{ "block-account", cmd_ctl, "refuse logins of an account" },
	{ "unblock-account", cmd_ctl, "lift the block of an account" },
	{ "reset", cmd_ctl, "forget failures, blocks, allows, or all" },
	{ "pause", cmd_ctl, "stop blocking until resume" },
	{ "resume", cmd_ctl, "block again after pause" },
	{ "reload", cmd_ctl, "reload configuration, filters and rules" },
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: mailscreen COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-16s %s\n", commands[i].name, commands[i].help);
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
	fprintf(stderr, "mailscreen: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
