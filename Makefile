# kiln: build, test and install.
#
#   make            build build/kiln and build/kiln-init
#   make deps       install missing Debian packages (root), or print the command
#   make run        deps + build + open the dashboard on a real example
#   make check      deps + build + unit tests (plain and ASan+UBSan) + integration tests
#   make asan       unit tests under ASan+UBSan only
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR      = $(PREFIX)/bin
LIBEXECDIR  = $(PREFIX)/libexec/kiln
DATADIR     = $(PREFIX)/share/kiln
MANDIR      = $(PREFIX)/share/man
VERSION     = 0.1.0

CC       ?= cc
MUSLCC   ?= musl-gcc
PKGS      = libvirt libxml-2.0 jansson yaml-0.1 ncursesw vterm libarchive libelf libkmod libcrypto
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
            -Wformat=2 -Wno-format-nonliteral -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -pthread
CPPFLAGS += -Isrc -I. -DKILN_VERSION='"$(VERSION)"' -DKILN_DATADIR='"$(DATADIR)"' \
            -DKILN_LIBEXECDIR='"$(LIBEXECDIR)"'
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS   += $(PKG_LIBS) -lm

ifeq ($(ASAN),1)
  BUILDDIR ?= build/asan
  CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS  += -fsanitize=address,undefined
else
  BUILDDIR ?= build
endif

# Every .c file under src/, backends/ and ui/ is part of kiln, except the guest
# program (built with musl, runs inside the VM) and main.c (kept out of the
# unit test binaries).
SRCS  := $(filter-out src/guest/% src/main.c,$(wildcard src/*.c src/*/*.c backends/*.c backends/*/*.c ui/*.c))
OBJS  := $(SRCS:%.c=$(BUILDDIR)/obj/%.o)
MAIN  := $(BUILDDIR)/obj/src/main.o
TESTS := $(patsubst tests/unit/%.c,$(BUILDDIR)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all tests deps run check asan unit integration tui bench install clean

all: $(BUILDDIR)/kiln $(BUILDDIR)/kiln-init $(BUILDDIR)/kiln.1

# The man page is generated from the same verb tables as --help.
$(BUILDDIR)/kiln.1: $(BUILDDIR)/kiln
	$(BUILDDIR)/kiln help --man > $@

tests: $(TESTS)

$(BUILDDIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILDDIR)/libkiln.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILDDIR)/kiln: $(MAIN) $(BUILDDIR)/libkiln.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# kiln-init is PID 1 inside every image: static, musl, no other library.
$(BUILDDIR)/kiln-init: src/guest/init.c $(wildcard src/guest/*.h)
	@mkdir -p $(dir $@)
	$(MUSLCC) -static -Os -std=gnu11 $(WARN) -o $@ src/guest/init.c

$(BUILDDIR)/tests/%: tests/unit/%.c $(BUILDDIR)/libkiln.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags cmocka) $(CFLAGS) -Itests/unit \
	    $(LDFLAGS) -o $@ $< $(BUILDDIR)/libkiln.a $(LDLIBS) $(shell pkg-config --libs cmocka)

-include $(OBJS:.o=.d) $(MAIN:.o=.d)

deps:
	@sh tests/deps.sh

unit: all tests
	@sh tests/run-unit.sh $(BUILDDIR)

asan:
	@$(MAKE) --no-print-directory ASAN=1 unit

integration: all
	@sh tests/run-integration.sh $(BUILDDIR)

check: deps
	@$(MAKE) --no-print-directory all tests
	@$(MAKE) --no-print-directory ASAN=1 all tests
	@sh tests/run-all.sh

run: deps all
	@sh tests/run-demo.sh $(BUILDDIR)

bench: all
	@for b in tests/bench/*.sh; do sh $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/themes \
	    $(DESTDIR)$(DATADIR)/examples $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BUILDDIR)/kiln $(DESTDIR)$(BINDIR)/kiln
	install -m 755 $(BUILDDIR)/kiln-init $(DESTDIR)$(LIBEXECDIR)/kiln-init
	install -m 644 themes/*.yaml $(DESTDIR)$(DATADIR)/themes/
	cp -R examples/. $(DESTDIR)$(DATADIR)/examples/
	install -m 644 $(BUILDDIR)/kiln.1 $(DESTDIR)$(MANDIR)/man1/kiln.1

clean:
	rm -rf build
