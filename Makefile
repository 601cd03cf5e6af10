# SPDX-License-Identifier: GPL-2.0-or-later
# sanso: make, make check, make install, make bench.  V=1 shows commands.

VERSION := 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/sanso
LOCALEDIR ?= $(PREFIX)/share/locale
SYSCONFDIR ?= /etc
UNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd \
	2>/dev/null || echo /lib/systemd/system)
DESTDIR ?=
PKG_CONFIG ?= pkg-config

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wformat=2 -Wwrite-strings -MMD -MP
CPPFLAGS += -iquote include -D_GNU_SOURCE -DSANSO_VERSION='"$(VERSION)"'
CPPFLAGS += -DLOCALEDIR='"$(LOCALEDIR)"'

PKGS := yaml-0.1 libnftnl libmnl libcrypto libpsl zlib jansson
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka)

# SANITIZE=1 builds everything with ASan and UBSan into its own tree.
ifeq ($(SANITIZE),1)
BUILD ?= build/san
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

SRCS := $(sort $(wildcard src/*.c))
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libsanso.a
BIN := $(BUILD)/sanso

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

# The message catalogues (po/LANG.po), compiled into a locale tree the
# build's sanso reads with SANSO_LOCALEDIR=$(BUILD)/locale.  `make pot`
# regenerates po/sanso.pot from the marked strings: _() and N_(), and the
# functions that translate the format they are given.
LINGUAS := ja
MOS := $(LINGUAS:%=$(BUILD)/locale/%/LC_MESSAGES/sanso.mo)
XGETTEXT_KEYWORDS := --keyword=_ --keyword=N_ --keyword=diag_add:6 \
	--keyword=diag_note:1 --keyword=cmd_err:2 --keyword=cmd_warn:2 --keyword=err:5 \
	--keyword=finding:4 --keyword=note:3 --keyword=pend_add:4 \
	--keyword=flow_report:6 --keyword=set_message:2 \
	--keyword=raise_alert:4 --keyword=alert_text --keyword=say:3 --keyword=complain:2 \
	--keyword=err_add:3 --keyword=reason_add:4

# Helper programs the lab and the benchmarks use (not installed).
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

all: $(BIN) $(MOS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(LIB) $(PKG_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(LIB) $(PKG_LIBS)

# sanso with the fault points of src/deploy.c compiled in (SANSO_FAULT=STEP
# kills it at STEP), for the lab's fault walk only: never installed.
FAULT_BIN := $(BUILD)/tools/sanso-faults

$(BUILD)/faults/deploy.o: src/deploy.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (faults)")
	$(Q)$(CC) $(CPPFLAGS) -DSANSO_FAULTS $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(FAULT_BIN): $(BUILD)/obj/main.o $(BUILD)/faults/deploy.o \
		$(filter-out $(BUILD)/obj/deploy.o,$(LIB_OBJS))
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

tools: $(TOOL_BINS) $(FAULT_BIN)

# The catalogue directory is compiled in: i18n.o is rebuilt when it
# changes, so that `make install PREFIX=/usr` after a plain `make` does not
# install a binary that looks in /usr/local.
$(BUILD)/obj/i18n.o: $(BUILD)/localedir.stamp
$(BUILD)/localedir.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(LOCALEDIR)' | cmp -s - $@ || echo '$(LOCALEDIR)' >$@

$(BUILD)/locale/%/LC_MESSAGES/sanso.mo: po/%.po
	@mkdir -p $(@D)
	@$(if $(Q),echo "  MSGFMT  $<")
	$(Q)msgfmt --check -o $@ $<

# Only `make pot` rewrites po/sanso.pot (tests/i18n/run.sh fails when it
# is stale); then `msgmerge --update po/ja.po po/sanso.pot` and translate.
pot:
	$(Q)xgettext --from-code=UTF-8 --language=C --add-comments=TRANSLATORS: \
		$(XGETTEXT_KEYWORDS) --package-name=sanso \
		--package-version=$(VERSION) --no-location --sort-output \
		--msgid-bugs-address= -o po/sanso.pot $(SRCS)

# The test suite: unit tests, golden files, a bounded fuzz run, man page
# lint, then the namespace lab (needs root; it says so when it skips).
check: check-unit check-golden check-i18n check-fuzz check-man check-lab

check-unit: $(UNIT_BINS) $(MOS)
	$(Q)SANSO_LOCALEDIR=$(BUILD)/locale tests/run-unit.sh $(UNIT_BINS)

GOLDEN_RUNNERS := $(sort $(wildcard tests/golden*/run.sh))

check-golden: $(BIN)
	$(Q)set -e; for r in $(GOLDEN_RUNNERS); do $$r $(BIN); done

# Rewrites the expected outputs; review `git diff tests/golden*` after.
golden-update: $(BIN)
	$(Q)set -e; for r in $(GOLDEN_RUNNERS); do $$r --update $(BIN); done

# po/ja.po complete and current; Japanese output keeps codes, positions,
# exit status and JSON keys; colour and -j.
check-i18n: $(BIN) $(MOS)
	$(Q)BUILD=$(BUILD) XGETTEXT_KEYWORDS="$(XGETTEXT_KEYWORDS)" \
		tests/i18n/run.sh $(BIN)

FUZZ_SECONDS ?= 20
check-fuzz:
	$(Q)SANSO_PKGS="$(PKGS)" tests/fuzz/run.sh $(FUZZ_SECONDS)

# man/ja: the Japanese pages lint clean, groff can break every line
# (lintian's groff-message check, when man-db is there), and they say
# what the English pages say (tests/man-sync.py, which checks itself).
check-man:
	$(Q)mandoc -Tlint -W warning man/sanso.8 man/sanso-zones.5 \
		man/ja/sanso.8 man/ja/sanso-zones.5
	$(Q)if command -v man >/dev/null && command -v groff >/dev/null; then \
		for f in man/ja/sanso.8 man/ja/sanso-zones.5; do \
		out=$$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings \
			-E UTF-8 -l -Tutf8 -Z $$f 2>&1 >/dev/null); \
		if [ -n "$$out" ]; then echo "$$f: $$out"; exit 1; fi; done; fi
	$(Q)python3 tests/man-sync.py
	$(Q)python3 tests/man-sync.py --self-test >/dev/null

check-lab: $(BIN) $(TOOL_BINS) $(FAULT_BIN)
	$(Q)tests/lab/run.sh $(BIN)

# Operations: units, logrotate, rsyslog, Ansible, static analysis,
# valgrind (tests/ops; each part skips when its tools are missing).
check-ops: $(BIN)
	$(Q)tests/ops/run.sh $(BIN)

check-static:
	$(Q)tests/ops/static-analysis.sh

deb:
	$(Q)contrib/debian/build.sh

demo: $(BIN) $(TOOL_BINS)
	$(Q)tests/lab/demo.sh $(BIN) zones/example-city.yaml

bench: $(BIN) $(TOOL_BINS)
	$(Q)tests/bench/run.sh $(BIN)

install: $(BIN) $(MOS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DATADIR)/zones
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/sanso
	install -m 0644 man/sanso.8 $(DESTDIR)$(MANDIR)/man8/sanso.8
	install -m 0644 man/sanso-zones.5 $(DESTDIR)$(MANDIR)/man5/sanso-zones.5
	install -d $(DESTDIR)$(MANDIR)/ja/man8 $(DESTDIR)$(MANDIR)/ja/man5
	install -m 0644 man/ja/sanso.8 $(DESTDIR)$(MANDIR)/ja/man8/sanso.8
	install -m 0644 man/ja/sanso-zones.5 \
		$(DESTDIR)$(MANDIR)/ja/man5/sanso-zones.5
	install -m 0644 zones/*.yaml $(DESTDIR)$(DATADIR)/zones/
	for l in $(LINGUAS); do \
		install -D -m 0644 $(BUILD)/locale/$$l/LC_MESSAGES/sanso.mo \
			$(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/sanso.mo; done
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	for u in sanso-apply.service sanso-monitor.service \
		sanso-watchdog.service; do \
		sed 's|/usr/sbin/sanso|$(BINDIR)/sanso|g' contrib/systemd/$$u \
			>$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 0644 contrib/logrotate/sanso \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/sanso

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sanso $(DESTDIR)$(MANDIR)/man8/sanso.8 \
		$(DESTDIR)$(MANDIR)/man5/sanso-zones.5 \
		$(DESTDIR)$(MANDIR)/ja/man8/sanso.8 \
		$(DESTDIR)$(MANDIR)/ja/man5/sanso-zones.5
	for l in $(LINGUAS); do \
		rm -f $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/sanso.mo; done
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(UNITDIR)/sanso-apply.service \
		$(DESTDIR)$(UNITDIR)/sanso-monitor.service \
		$(DESTDIR)$(UNITDIR)/sanso-watchdog.service \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/sanso

clean:
	rm -rf build

.PHONY: FORCE all tools pot check-i18n check check-ops check-static deb check-unit check-golden golden-update check-fuzz \
	check-man check-lab demo bench install uninstall clean

-include $(LIB_OBJS:.o=.d) $(BUILD)/obj/main.d $(BUILD)/faults/deploy.d
