# Makefile for the afregning extension (PGXS)
#
# afregning--$(EXTVERSION).sql is assembled from src/sql/base/ (what only a
# fresh install does) and src/sql/ (functions, guards, views and grants by
# concern).  The upgrade from 0.1.0 is its prelude in src/sql/upgrade/ and
# the same src/sql/ files, so a fresh install and an upgrade end alike.
# sql/extension/ holds the released, frozen scripts; sql/ + expected/ the
# pg_regress tests.

EXTENSION = afregning
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/p" $(EXTENSION).control)

MODULE_big = afregning
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

BASE_PARTS = $(sort $(wildcard src/sql/base/*.sql))
CODE_PARTS = $(sort $(wildcard src/sql/*.sql))
UPGRADE_0_1_0 = src/sql/upgrade/0.1.0--$(EXTVERSION).sql

DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(EXTENSION)--0.1.0--$(EXTVERSION).sql
DATA = $(wildcard sql/extension/$(EXTENSION)--*.sql)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CPPFLAGS = -I$(srcdir)/src
# PG_ASSERT=1 compiles the C assertions in, also against a release server.
ifeq ($(PG_ASSERT),1)
PG_CPPFLAGS += -DUSE_ASSERT_CHECKING
endif
# CI passes PG_WERROR=1 to turn every warning into an error.
ifeq ($(PG_WERROR),1)
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare -Werror
endif

EXTRA_CLEAN = $(DATA_built) results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(BASE_PARTS) $(CODE_PARTS)
	cat $^ > $@

$(EXTENSION)--0.1.0--$(EXTVERSION).sql: $(UPGRADE_0_1_0) $(CODE_PARTS)
	cat $^ > $@
