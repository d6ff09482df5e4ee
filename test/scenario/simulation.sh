#!/usr/bin/env bash
# A seeded simulation (test/sim/simulate.py): 20 seeds × 300 random
# operations — usage loads (late, duplicate and bad), cost entries and
# corrections, announce_price, close_year, bill_direct, and pairs of these
# racing in two sessions at every isolation level — with R10, the direct
# charges of closed years, S11 and "a refused step changes nothing" checked
# after every step, and verify_ledger() when the extension has it.
#
# Each seed runs in its own copy of a template database; the whole run is
# bounded: seeds not started after 150 seconds count as failures.
# One TAP line per seed; a failure prints the seed, the step, what broke
# and the operations before it. Rerun one seed with SIM_FIRST_SEED=7
# SIM_SEEDS=1, or fewer steps with SIM_STEPS=120 (see simulate.py for the
# other settings).
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names the databases this script creates and drops (a template and one
# per seed). Needs python3 with psycopg2 (Debian: python3-psycopg2).

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
DB=${AF_SCENARIO_DB:-scenario_simulation}

PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import psycopg2' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	echo "1..1"
	echo "not ok 1 - simulation: python3 with psycopg2 is needed (Debian: python3-psycopg2)"
	exit 1
fi

exec "$PY" "$HERE/../sim/simulate.py" --db "$DB"
