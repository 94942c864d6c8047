/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * expo - metrics in the Prometheus text exposition format (0.0.4): a set
 * of families (name, type, help), each with its series (label values and
 * one number), collected in any order and written grouped, each family's
 * HELP and TYPE lines once, before its samples.
 *
 * A series is named by its family and its label pairs; adding to a series
 * that is already there sums into it (expo_add) or replaces its value
 * (expo_set), so no series is ever written twice. Label values and help
 * texts are escaped as the format says (backslash, double quote in label
 * values, newline); bytes that are not UTF-8 become '?'. Metric and label
 * names come from the program (checked: a bad one is a bug and aborts);
 * label values may come from anywhere.
 *
 * Owns its families and series; never writes anything but the FILE it is
 * given; never sorts (the order is the order of first use).
 */
#ifndef MS_EXPO_H
#define MS_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum expo_type { EXPO_COUNTER, EXPO_GAUGE, EXPO_UNTYPED };

struct expo_series {
	char *labels;           /* the written label set: k="v",k2="v2" (escaped), "" for none */
	double value;
};

struct expo_family {
	char *name, *help;
	enum expo_type type;
	struct expo_series *series;
	size_t nseries, aseries;
};

struct expo {
	struct expo_family *fam;
	size_t nfam, afam;
};

void expo_init(struct expo *e);
void expo_release(struct expo *e);
/* Declare a family (again: nothing changes; a different type aborts). */
void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help);
/* The series of family name (declared before) with labels: NULL, or
 * pairs name, value, ..., NULL. expo_add sums, expo_set replaces. */
void expo_add(struct expo *e, const char *name, const char *const *labels, double v);
void expo_set(struct expo *e, const char *name, const char *const *labels, double v);
/* Every family with at least one series, in the order declared. */
void expo_write(const struct expo *e, FILE *out);
/* [a-zA-Z_:][a-zA-Z0-9_:]* (a label name: no ':') */
bool expo_name_ok(const char *name, bool label);

#endif
