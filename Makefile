# Makefile for the afregning extension (PGXS)
#
# The install script afregning--$(EXTVERSION).sql is assembled from the
# files in sql/install/, one file per concern, concatenated in name order.
# pg_regress inputs live in sql/*.sql with their output in expected/.

EXTENSION = afregning
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/p" $(EXTENSION).control)

MODULE_big = afregning
OBJS = \
	src/afregning.o \
	src/amount.o \
	src/apportion.o \
	src/rating.o \
	src/pricing.o \
	src/ledger_guard.o \
	src/usage_guard.o

INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard sql/extension/$(EXTENSION)--*--*.sql)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CPPFLAGS = -I$(srcdir)/src
# CI passes PG_WERROR=1 to turn every warning into an error.
ifeq ($(PG_WERROR),1)
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare -Werror
endif

EXTRA_CLEAN = $(DATA_built) results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $^ > $@
