# SPDX-License-Identifier: GPL-2.0-or-later
# mailscreen - build, test, install.
#
#   make            build ./mailscreen
#   make deps       install the Debian packages needed to build and test (root)
#   make check      deps + build + every test (unit, filter samples, netns)
#   make demo       build, then show an attacker blocked inside a private netns
#   make bench      throughput / memory against fail2ban and sshguard; the live
#                   daemon's control latency and memory under a spray of keys
#   make asan       build with AddressSanitizer + UBSan into build-asan/
#   make check-asan the unit tests built with ASan + UBSan (build-asan/), run
#                   with every sanitizer report fatal
#   make fuzz       build the libFuzzer targets with clang into build-fuzz/ and
#                   run each for FUZZ_SECONDS (default 60); a crash fails
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
CC      ?= gcc
BUILD   ?= build
BIN     ?= mailscreen

PKGS    := libpcre2-8 libnftnl libmnl inih libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wundef -Wcast-qual \
           -Wno-unused-parameter
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT     ?= -O2 -g
CFLAGS  ?= $(OPT)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) $(PKG_CFLAGS) $(INCLUDES) \
              -DSYSCONFDIR='"$(SYSCONFDIR)"' -MMD -MP
LDFLAGS ?=
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(LDFLAGS)

# watcher/STAGE/MODULE.c, one folder per stage of the data flow (HACKING.md)
SRCS    := $(sort $(wildcard watcher/*/*.c))
INCLUDES := $(addprefix -I,$(sort $(patsubst %/,%,$(dir $(wildcard watcher/*/*.h)))))
LIBSRCS := $(filter-out watcher/cli/main.c,$(SRCS))
LIBOBJS := $(LIBSRCS:watcher/%.c=$(BUILD)/%.o)
OBJS    := $(SRCS:watcher/%.c=$(BUILD)/%.o)

UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(addprefix $(BUILD)/tests/,$(basename $(notdir $(UNIT_SRCS))))
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)
HELPERS   := $(BUILD)/tests/tcpprobe $(BUILD)/bench/gen

DEBS_BUILD := gcc make pkg-config libpcre2-dev libnftnl-dev libmnl-dev libinih-dev libsystemd-dev check
DEBS_TEST  := nftables iproute2 jq systemd systemd-journal-remote systemd-container util-linux procps dovecot-core clang-14 libclang-rt-14-dev man-db
DEBS_BENCH := fail2ban sshguard time

.PHONY: all deps deps-bench check check-run unit samples netns demo bench asan asan-build check-asan \
	fuzz fuzz-build install clean

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/%.o: watcher/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

# tests/unit/STAGE/test_MODULE.c -> $(BUILD)/tests/test_MODULE
define unit_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(1) $$(LIBOBJS) | $(BUILD)/tests
	$$(CC) $$(ALL_CFLAGS) -Itests/unit -o $$@ $$< $$(LIBOBJS) $$(ALL_LDFLAGS) $$(PKG_LIBS) $$(CHECK_LIBS)
endef
$(foreach t,$(UNIT_SRCS),$(eval $(call unit_rule,$(t))))

$(BUILD)/tests/tcpprobe: tests/netns/tcpprobe.c | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# Install only what is missing, so a machine that has everything needs no
# network; as root and non-interactive.
deps:
	@DEBS="$(DEBS_BUILD) $(DEBS_TEST)" sh tests/deps.sh

deps-bench:
	@DEBS="$(DEBS_BUILD) $(DEBS_BENCH)" sh tests/deps.sh

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

samples: mailscreen
	@./mailscreen test filters/*.conf

netns: mailscreen $(HELPERS)
	@sh tests/netns/run.sh

# make check re-enters make after deps, so pkg-config sees freshly
# installed packages.
check: deps
	@$(MAKE) --no-print-directory check-run

# The ASan build and the fuzz targets are made by make itself (sub-makes),
# one after the other, so that -j never runs two sub-makes in one tree.
check-run: mailscreen $(UNIT_BINS) $(HELPERS)
	@$(MAKE) --no-print-directory asan-build
	@$(MAKE) --no-print-directory fuzz-build
	@ASAN_UNITS="$(ASAN_UNIT_BINS)" ASAN_BIN=$(ASAN_DIR)/mailscreen FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS) \
		sh tests/check.sh $(UNIT_BINS)

demo: deps
	@$(MAKE) --no-print-directory mailscreen $(HELPERS)
	@sh contrib/demo.sh

bench: deps deps-bench
	@$(MAKE) --no-print-directory mailscreen $(BUILD)/bench/gen $(BUILD)/bench/ctltime
	@rc=0; BIN=$(BIN) GEN=$(BUILD)/bench/gen sh tests/bench/bench.sh || rc=1; \
	BIN=$(BIN) CTLTIME=$(BUILD)/bench/ctltime bash tests/bench/spray.sh; s=$$?; \
	[ $$s -eq 0 ] || [ $$s -eq 77 ] || rc=1; exit $$rc

# corpus generator for the benchmark: plain C, no project code or libraries
$(BUILD)/bench/gen: tests/bench/gen.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# the spray benchmark's control client: plain C too
$(BUILD)/bench/ctltime: tests/bench/ctltime.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# ---- sanitizers: gcc, ASan + UBSan, into build-asan/ ----
ASAN_DIR  := build-asan
ASAN_OPT  := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_UNIT_BINS := $(addprefix $(ASAN_DIR)/tests/,$(basename $(notdir $(UNIT_SRCS))))
# every report is fatal (tests/check.sh sets the same)
SAN_ENV   := ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1 \
             UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1

asan:
	@$(MAKE) --no-print-directory BUILD=$(ASAN_DIR) BIN=$(ASAN_DIR)/mailscreen OPT='$(ASAN_OPT)' \
		LDFLAGS='-fsanitize=address,undefined' $(ASAN_DIR)/mailscreen

asan-build:
	@$(MAKE) --no-print-directory BUILD=$(ASAN_DIR) BIN=$(ASAN_DIR)/mailscreen OPT='$(ASAN_OPT)' \
		LDFLAGS='-fsanitize=address,undefined' $(ASAN_DIR)/mailscreen $(ASAN_UNIT_BINS)

check-asan: asan-build
	@$(SAN_ENV) sh tests/run-unit.sh $(ASAN_UNIT_BINS)

# ---- fuzzing: clang + libFuzzer, into build-fuzz/ (never mixed with build/) ----
# Every watcher/ object is built again with clang and
# -fsanitize=fuzzer-no-link,address,undefined into an archive; each target
# tests/fuzz/fuzz_NAME.c links what it needs from it. Warnings are not
# errors here: the gcc build enforces them, and clang warns differently
# (-Wformat-nonliteral of vsnprintf wrappers, libmnl's macros).
FUZZ_CC      ?= $(shell command -v clang-14 || command -v clang || echo clang-14)
FUZZ_DIR     := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 10
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE $(filter-out -Werror,$(WARN)) -Wno-format-nonliteral -Wno-cast-qual \
                -O1 -g $(FUZZ_SAN) $(PKG_CFLAGS) $(INCLUDES) -DSYSCONFDIR='"$(SYSCONFDIR)"' -MMD -MP
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_OBJS    := $(LIBSRCS:watcher/%.c=$(FUZZ_DIR)/obj/%.o)

$(FUZZ_DIR)/obj/%.o: watcher/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/libmailscreen.a: $(FUZZ_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libmailscreen.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DMS_SRCDIR='"$(CURDIR)"' -o $@ $< \
		$(FUZZ_DIR)/libmailscreen.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh -t $(FUZZ_SECONDS) $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)

install: mailscreen
	install -D -m 0755 mailscreen $(DESTDIR)$(PREFIX)/sbin/mailscreen
	install -d $(DESTDIR)$(SYSCONFDIR)/mailscreen/filters $(DESTDIR)$(SYSCONFDIR)/mailscreen/rules
	install -m 0644 filters/*.conf $(DESTDIR)$(SYSCONFDIR)/mailscreen/filters/
	install -m 0644 rules/*.conf $(DESTDIR)$(SYSCONFDIR)/mailscreen/rules/
	test -e $(DESTDIR)$(SYSCONFDIR)/mailscreen/mailscreen.conf || \
		install -m 0644 contrib/mailscreen.conf $(DESTDIR)$(SYSCONFDIR)/mailscreen/mailscreen.conf
	install -D -m 0644 contrib/man/mailscreen.8 $(DESTDIR)$(PREFIX)/share/man/man8/mailscreen.8
	install -D -m 0644 contrib/man/mailscreen.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/mailscreen.conf.5
	install -d $(DESTDIR)/lib/systemd/system
	sed 's,/usr/local/sbin,$(PREFIX)/sbin,g' contrib/mailscreen.service > $(DESTDIR)/lib/systemd/system/mailscreen.service

clean:
	rm -rf build build-asan build-fuzz mailscreen tests/out

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
