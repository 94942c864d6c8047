# SPDX-License-Identifier: GPL-2.0-or-later
# mailscreen - build, test, install.
#
#   make            build ./mailscreen
#   make deps       install the Debian packages needed to build (root): no
#                   test tools
#   make deps-test  the packages the tests need besides (root; make check,
#                   demo and fuzz install them themselves)
#   make check      deps-test + build + every test (unit, filter samples,
#                   netns, the package, install/uninstall)
#   make demo       build, then show an attacker blocked inside a private netns
#   make bench      throughput / memory against fail2ban and sshguard; the live
#                   daemon's control latency and memory under a spray of keys
#   make bench-cluster  3 nodes + redis-server: blocks propagated per second,
#                   propagation latency p50/p99 beside a polling design's
#   make asan       build with AddressSanitizer + UBSan into build-asan/
#   make check-asan the unit tests built with ASan + UBSan (build-asan/), run
#                   with every sanitizer report fatal
#   make fuzz       build the libFuzzer targets with clang into build-fuzz/ and
#                   run each for FUZZ_SECONDS (default 60); a crash fails
#   make deb        the Debian package, built with dpkg-buildpackage from
#                   contrib/debian/ in a scratch tree: build/deb/*.deb
#   make install    the runtime only (binary, man pages, unit, completion,
#                   /etc/mailscreen, locally changed files kept):
#                   PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc UNITDIR=
#   make uninstall  remove what make install installed (its manifest,
#                   PREFIX/share/mailscreen/installed-files), keeping
#                   locally changed configuration files
#
# The version is the file VERSION: mailscreen --version prints it, and the
# package's changelog is made from it.

PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
VERSION := $(shell cat VERSION)
DESTDIR ?=
CC      ?= gcc
BUILD   ?= build
BIN     ?= mailscreen

PKGS    := libpcre2-8 libnftnl libmnl inih libsystemd libmaxminddb hiredis
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
HELPERS   := $(BUILD)/tests/tcpprobe $(BUILD)/tests/clockshift.so $(BUILD)/bench/gen

# What building needs (contrib/debian/control's Build-Depends says the same
# for the package: tests/build-deps.sh checks it); what make deb needs
# besides; what the tests need besides.
DEBS_BUILD := gcc make pkg-config libpcre2-dev libnftnl-dev libmnl-dev libinih-dev libsystemd-dev libmaxminddb-dev libhiredis-dev
DEBS_DEB   := debhelper dpkg-dev
DEBS_TEST  := check nftables iproute2 jq curl prometheus systemd systemd-journal-remote systemd-container util-linux procps redis-server \
              dovecot-core dovecot-imapd \
              dovecot-pop3d postfix python3 clang-14 \
              libclang-rt-14-dev man-db $(DEBS_DEB) lintian adduser libmaxmind-db-writer-perl mmdb-bin zsh
DEBS_BENCH := fail2ban sshguard time

.PHONY: all deps deps-test deps-deb deps-bench check check-run unit samples netns demo bench bench-cluster geobench asan \
	asan-build check-asan fuzz fuzz-build deb install uninstall clean

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

# the version is compiled into main.o only
$(BUILD)/cli/main.o: VERSION
$(BUILD)/cli/main.o $(BUILD)/daemon/daemon_metrics.o: ALL_CFLAGS += -DMS_VERSION='"$(VERSION)"'

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

# a preloaded library that moves a test daemon's wall clock (netns tests)
$(BUILD)/tests/clockshift.so: tests/netns/clockshift.c | $(BUILD)/tests
	$(CC) -std=c11 $(WARN) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

# Install only what is missing, so a machine that has everything needs no
# network; as root and non-interactive.
# make deps is what the README's install line runs on a production server:
# a compiler and the libraries' headers, never a test tool.
deps:
	@DEBS="$(DEBS_BUILD)" sh tests/deps.sh

deps-test:
	@DEBS="$(DEBS_BUILD) $(DEBS_TEST)" sh tests/deps.sh

deps-deb:
	@DEBS="$(DEBS_BUILD) $(DEBS_DEB)" sh tests/deps.sh

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
check: deps-test
	@$(MAKE) --no-print-directory check-run

# The ASan build and the fuzz targets are made by make itself (sub-makes),
# one after the other, so that -j never runs two sub-makes in one tree.
check-run: mailscreen $(UNIT_BINS) $(HELPERS)
	@$(MAKE) --no-print-directory asan-build
	@$(MAKE) --no-print-directory fuzz-build
	@ASAN_UNITS="$(ASAN_UNIT_BINS)" ASAN_BIN=$(ASAN_DIR)/mailscreen FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS) \
		sh tests/check.sh $(UNIT_BINS)

demo: deps-test
	@$(MAKE) --no-print-directory mailscreen $(HELPERS)
	@sh contrib/demo.sh

bench: deps deps-bench
	@$(MAKE) --no-print-directory mailscreen $(BUILD)/bench/gen $(BUILD)/bench/ctltime
	@rc=0; BIN=$(BIN) GEN=$(BUILD)/bench/gen sh tests/bench/bench.sh || rc=1; \
	BIN=$(BIN) CTLTIME=$(BUILD)/bench/ctltime bash tests/bench/spray.sh; s=$$?; \
	[ $$s -eq 0 ] || [ $$s -eq 77 ] || rc=1; exit $$rc

# a cluster of 3 nodes and redis-server in namespaces: decisions per second
# propagated and the propagation latency, beside a polling design's
bench-cluster: deps deps-test
	@$(MAKE) --no-print-directory mailscreen
	@BIN=$(BIN) bash tests/bench/cluster.sh

# corpus generator for the benchmark: plain C, no project code or libraries
$(BUILD)/bench/gen: tests/bench/gen.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# the spray benchmark's control client: plain C too
$(BUILD)/bench/ctltime: tests/bench/ctltime.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# what a country lookup costs ([location]): geo.c alone, on a database
# built with make-country-mmdb.pl --random
$(BUILD)/bench/geobench: tests/bench/geobench.c $(BUILD)/decide/geo.o $(BUILD)/lib/log.o $(BUILD)/lib/xalloc.o \
		$(BUILD)/lib/jsonw.o
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS)

geobench: $(BUILD)/bench/geobench
	@perl tests/tools/make-country-mmdb.pl $(BUILD)/bench/geo.mmdb --random 100000
	@$(BUILD)/bench/geobench $(BUILD)/bench/geo.mmdb

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

fuzz: deps-test
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh -t $(FUZZ_SECONDS) $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)

# contrib/install.sh holds the one list of what is installed (the package
# installs through it too).
INSTALL_ENV = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' UNITDIR='$(UNITDIR)'

install: mailscreen
	@$(INSTALL_ENV) sh contrib/install.sh install

uninstall:
	@$(INSTALL_ENV) sh contrib/install.sh uninstall

# ---- the Debian package ----
# A scratch tree build/deb/mailscreen-VERSION/ links the source folders
# (files are copied: dh_installdocs would keep a link as a link) and gets
# debian/ as a copy of contrib/debian/ plus a changelog made from VERSION
# (dated by the last commit, so a rebuild of one commit is the same
# package). dpkg-buildpackage leaves the .deb in build/deb/, replacing
# those of an earlier build (apt install ./build/deb/mailscreen_*.deb must
# find one version). The scratch tree's own build/ directory is kept
# between runs: debian/rules leaves it alone at clean.
DEB_DIR  := $(BUILD)/deb
DEB_TREE := $(DEB_DIR)/mailscreen-$(VERSION)
DEB_FILES := Makefile VERSION COPYING README.md HACKING.md
DEB_DIRS  := watcher filters rules contrib docs
DEB_DATE  = $(shell t=$$(git log -1 --format=%ct 2>/dev/null) && [ -n "$$t" ] && date -R -u -d "@$$t" || date -R -u)

deb: deps-deb
	@mkdir -p $(DEB_TREE)
	@for d in $(DEB_DIRS); do ln -sfn "$(CURDIR)/$$d" "$(DEB_TREE)/$$d"; done
	@for f in $(DEB_FILES); do rm -f "$(DEB_TREE)/$$f" && cp -p "$$f" "$(DEB_TREE)/$$f"; done
	@rm -rf $(DEB_TREE)/debian && cp -R contrib/debian $(DEB_TREE)/debian
	@rm -f $(DEB_DIR)/*.deb $(DEB_DIR)/*.changes $(DEB_DIR)/*.buildinfo
	@printf 'mailscreen (%s) unstable; urgency=medium\n\n  * mailscreen %s, built from its source tree.\n\n -- %s  %s\n' \
		'$(VERSION)' '$(VERSION)' "$$(sed -n 's/^Maintainer: //p' contrib/debian/control)" '$(DEB_DATE)' \
		>$(DEB_TREE)/debian/changelog
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/mailscreen_$(VERSION)_*.deb

clean:
	rm -rf build build-asan build-fuzz mailscreen tests/out

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
