/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz - helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Every target defines LLVMFuzzerTestOneInput and checks invariants with
 * FUZZ_ASSERT, which prints what broke and aborts, so that libFuzzer
 * records the input as a crash. The loaders that take a path (config,
 * filter and rule files) get the input through fuzz_file(), a file in a
 * private temporary directory made once per process and removed at exit.
 */
#ifndef MS_FUZZ_H
#define MS_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Provided by the sanitizer runtime: prints "SUMMARY: msg" where the
 * sanitizers report, which stays visible when libFuzzer runs with
 * -close_fd_mask=2 (the targets' own warnings silenced). */
void __sanitizer_report_error_summary(const char *error_summary) __attribute__((weak));

#define FUZZ_ASSERT(cond, ...) do { \
	if (!(cond)) \
		fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
} while (0)

__attribute__((noreturn, format(printf, 4, 5)))
static void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof msg, "%s:%d: invariant failed: %s: ", file, line, cond);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof msg)
		vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", msg);
	if (__sanitizer_report_error_summary)
		__sanitizer_report_error_summary(msg);
	abort();
}

static char fuzz_dir[64];

static void fuzz_cleanup(void)
{
	char cmd[128];

	if (!fuzz_dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir);
}

/* A private directory for this process's files. */
static inline const char *fuzz_tmpdir(void)
{
	if (!fuzz_dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fuzz_dir, sizeof fuzz_dir, "%s/msfuzz.XXXXXX", t && *t && strlen(t) < 40 ? t : "/tmp");
		if (!mkdtemp(fuzz_dir)) {
			perror("fuzz: mkdtemp");
			exit(2);
		}
		atexit(fuzz_cleanup);
	}
	return fuzz_dir;
}

/* Write data to NAME in the private directory; returns its path (a static
 * buffer, valid until the next call). */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", fuzz_tmpdir(), name);
	fp = fopen(path, "we");
	if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
		perror("fuzz: cannot write the input file");
		exit(2);
	}
	return path;
}

#endif
