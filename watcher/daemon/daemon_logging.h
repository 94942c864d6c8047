/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon_logging - [logging]: what the daemon logs besides its decisions
 * (daemon_logging.c), and the configuration files watched for changes
 * (daemon_cfgwatch.c). Between the daemon's own files: each takes the
 * struct daemon.
 */
#ifndef MS_DAEMON_LOGGING_H
#define MS_DAEMON_LOGGING_H

#include "addr.h"
#include "bundle.h"
#include "event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;

/* daemon_logging.c */
void logging_init(struct daemon *d);
void logging_free(struct daemon *d);
/* One event of a line, live or catching up: auth_failures,
 * auth_successes, connections. */
void logging_event(struct daemon *d, const struct event *ev);
/* Event lines left out since start (status). */
uint64_t logging_suppressed(const struct daemon *d);
/* startup_lists: the counts per rule, the block list, the allow list. */
void logging_startup(struct daemon *d);
/* config_changes: what differs from the bundle in force (old) to the one
 * about to be (new); log: say each change (else only count them).
 * Returns the number of changes. */
size_t logging_config_diff(const struct bundle *old, const struct bundle *new, bool log);
/* block_hits, from each kernel check's dump (sorted by address): begin,
 * one call per element with its drop counter, end. baseline: the first
 * dump after start (counters taken as they are, not reported). */
void logging_hits_begin(struct daemon *d, bool baseline);
void logging_hit(struct daemon *d, const struct cidr *c, uint64_t packets);
void logging_hits_end(struct daemon *d);

/* daemon_cfgwatch.c: watch the files of the bundle in force (again after
 * each reload), and reload after a second of quiet once they change. */
void cfgwatch_update(struct daemon *d);
void cfgwatch_close(struct daemon *d);

#endif
