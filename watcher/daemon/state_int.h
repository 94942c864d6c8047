/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state_int - what the files of the state module share, and nothing else:
 * state_write.c (formatting a snapshot and writing it, in the daemon or a
 * forked child) and state_read.c (reading it back, checking it and
 * handing its records on). Private to them: callers include state.h, the
 * module's whole public surface, which also describes the file's format.
 *
 * Owns: the format's version and its checksum (FNV-1a 64 of every byte
 * before the "end" line), which the writer computes and the reader checks.
 * The files' names are STATE_DIR/state and, while a writer works,
 * STATE_DIR/.state.PID.tmp (the reader removes those a killed writer left).
 *
 * Must never: be included outside state_*.c.
 */
#ifndef MS_STATE_INT_H
#define MS_STATE_INT_H

#include "state.h"

#include <stddef.h>
#include <stdint.h>

#define STATE_VERSION 1
#define FNV_SEED 1469598103934665603ULL

static inline uint64_t fnv_more(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

#endif
