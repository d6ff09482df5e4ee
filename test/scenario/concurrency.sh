#!/usr/bin/env bash
# Settlements run concurrently (SPEC §7): two real sessions at once.
#
#   a) bill_direct of the same month in two sessions: the second waits for
#      the first, then posts nothing; the month is posted once.
#   b) run_settlement of the same job and period while one is running: the
#      second is refused and logged as refused; nothing is posted twice.
#   c) announce_price of the same year at once: one announcement, one
#      invoice per municipality; both get the same price.
#   d) close_year of the same year at once: one close; both get the same
#      difference.
#
# Session 1 does its settlement in an open transaction and keeps it open
# until it sees session 2 wait for a lock (or be refused), so the overlap
# is certain, not a matter of sleeps; every wait is bounded.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names a database this script creates and drops. Prints TAP.
#
# Fixture: municipalities 101, 147, 751; service CPR per call at 0.50,
# SAG pool-billed at 0.01 a call. 2021: citizens 600,000 + 100,000 +
# 300,000 = 1,000,000; expected support_admin 1,234,567.89, so the price
# is 1.2345... -> 1.23; CPR calls Jan 101 1000, 147 100, 751 400 (500.00,
# 50.00, 200.00), Feb 101 10, 751 2 (5.00, 1.00), Mar 147 4 (2.00); SAG Jan
# 101 5000 (pool, 50.00); actual support_admin 1,200,000.00.

set -u

. "$(dirname "$0")/../lib/tap.sh"

PSQL="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}/psql"
[ -x "$PSQL" ] || PSQL=psql
DB=${AF_SCENARIO_DB:-scenario_concurrency}
WAIT=20            # seconds any one wait may take
TMP=$(mktemp -d)
declare -A PID=()

cleanup() {
	for p in "${PID[@]}"; do kill "$p" 2>/dev/null; done
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# one statement in a session of its own; output unaligned, tuples only
q() {
	timeout "$WAIT" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"
}

# start a session in the background: bg NAME SCRIPT
bg() {
	PGAPPNAME=$1 timeout $((3 * WAIT)) "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" \
		>"$TMP/$1.out" 2>"$TMP/$1.err" <<<"$2" &
	PID[$1]=$!
}

# wait for a background session; its exit status goes to RC
finish() {
	RC=0
	wait "${PID[$1]}" || RC=$?
	unset "PID[$1]"
}

# poll (from a third session) until a query returns t, at most WAIT seconds
poll() {
	local i
	for ((i = 0; i < WAIT * 10; i++)); do
		[ "$(q "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}

# line LABEL FILE: the value printed as LABEL=value by a session
line() { sed -n "s/^$1=//p" "$TMP/$2.out" | head -1; }

# the two-session choreography: session 1 runs S1 and then, inside its
# transaction, waits until HOLD is true; session 2 starts once session 1
# is holding
pair() {		# pair S1 HOLD S2
	bg s1 "BEGIN;
$1
SELECT 'held=' || public.wait_until(\$cond\$$2\$cond\$, '$WAIT s');
COMMIT;"
	poll "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
						  WHERE application_name = 's1' AND query LIKE '%wait_until%' AND state = 'active')" ||
		echo "# session 1 never got to hold its transaction: $(cat "$TMP/s1.err")"
	bg s2 "$3"
	finish s1
	rc1=$RC
	finish s2
	rc2=$RC
}

S2_WAITS="EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 's2' AND wait_event_type = 'Lock')"

echo "1..21"

# ---- database and fixture --------------------------------------------------

"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$(dirname "$0")/../lib/wait_until.sql" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL' || exit 1
CREATE EXTENSION afregning;
SET search_path = afregning;
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden'),
	('751', 'Aarhus', 'Midtjylland');
INSERT INTO consumer_system (code, name, class) VALUES ('KOMM', 'Kommunalt sagssystem', 'municipal');
INSERT INTO service (code, name, platform, funding, billing) VALUES
	('CPR', 'CPR-opslag', 'serviceplatform', 'ordered', 'per_call'),
	('SAG', 'Sagsoverblik', 'serviceplatform', 'ordered', 'pool');
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
	('CPR', '2020-01-01', 0.50), ('SAG', '2020-01-01', 0.01);
INSERT INTO billing_year (year) VALUES (2021);
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2021, '101', 600000), (2021, '147', 100000), (2021, '751', 300000);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('e21-sa-exp', 2021, 'support_admin', 'expected', 1234567.89);
BEGIN;
INSERT INTO usage_batch (batch_key) VALUES ('u2021');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'KOMM', 'CPR', 1000, 'u2021'),
	('2021-01-01', '147', 'KOMM', 'CPR', 100, 'u2021'),
	('2021-01-01', '751', 'KOMM', 'CPR', 400, 'u2021'),
	('2021-02-01', '101', 'KOMM', 'CPR', 10, 'u2021'),
	('2021-02-01', '751', 'KOMM', 'CPR', 2, 'u2021'),
	('2021-03-01', '147', 'KOMM', 'CPR', 4, 'u2021'),
	('2021-01-01', '101', 'KOMM', 'SAG', 5000, 'u2021');
COMMIT;
SQL

# ---- a) bill_direct twice at once -------------------------------------------

pair "SELECT 'posted=' || count(*) FROM afregning.bill_direct('2021-01-01');" \
	"$S2_WAITS" \
	"SELECT 'posted=' || count(*) FROM afregning.bill_direct('2021-01-01');"
is "$rc1/$rc2" "0/0" "bill_direct: both sessions end without error"
is "$(line posted s1)" "3" "bill_direct: session 1 posts the 3 January lines"
is "$(line held s1)" "true" "bill_direct: session 2 waits for session 1's lock"
is "$(line posted s2)" "0" "bill_direct: session 2, let through after the commit, posts nothing"
# 500.00 + 50.00 + 200.00 = 750.00, one line per municipality
is "$(q "SELECT count(*) || ' lines, ' || count(DISTINCT municipality_code) || ' keys, ' || sum(amount)
		   FROM afregning.direct_charge_line WHERE month = '2021-01-01'")" \
	"3 lines, 3 keys, 750.00" "bill_direct: January is posted exactly once"

# ---- b) run_settlement while the same run is in progress ---------------------

RUN="SELECT 'run=' || r.status || ':' || coalesce(r.rows_posted::text, '-')
	   FROM afregning.run_settlement('bill_direct', '2021-02-01') r;"
pair "$RUN" \
	"EXISTS (SELECT 1 FROM afregning.settlement_run WHERE status = 'refused')" \
	"$RUN"
is "$rc1/$rc2" "0/0" "run_settlement: both sessions end without error"
is "$(line run s1)" "succeeded:2" "run_settlement: session 1 posts the 2 February lines"
is "$(line held s1)" "true" "run_settlement: session 2 is refused while session 1 is still running"
is "$(line run s2)" "refused:-" "run_settlement: session 2 returns a refused run that posted nothing"
is "$(q "SELECT string_agg(job || ' ' || period || ' ' || status || ' ' || coalesce(rows_posted::text, '-')
				   || ' ' || coalesce(error_message, '-'), '; ' ORDER BY run_id)
		   FROM afregning.settlement_run WHERE entry = 'function'")" \
	"bill_direct 2021-02-01 succeeded 2 -; bill_direct 2021-02-01 refused - bill_direct for 2021-02-01 is already running" \
	"run_settlement: the log holds the succeeded and the refused run"
# 10 × 0.50 + 2 × 0.50 = 6.00
is "$(q "SELECT count(*) || ' lines, ' || sum(amount) FROM afregning.direct_charge_line WHERE month = '2021-02-01'")" \
	"2 lines, 6.00" "run_settlement: February is posted exactly once"

# ---- c) announce_price twice at once -----------------------------------------

pair "SELECT 'price=' || afregning.announce_price(2021);" \
	"$S2_WAITS" \
	"SELECT 'price=' || afregning.announce_price(2021);"
is "$rc1/$rc2" "0/0" "announce_price: both sessions end without error"
is "$(line price s1)/$(line price s2)" "1.23/1.23" "announce_price: both sessions get the price 1.23"
is "$(line held s1)" "true" "announce_price: session 2 waits for session 1"
# 1.23 × (600,000 + 100,000 + 300,000) = 1,230,000.00
is "$(q "SELECT (SELECT count(*) FROM afregning.price_announcement) || ' announcement, '
		   || (SELECT count(*) || ' invoices of ' || sum(amount) FROM afregning.buffet_invoice) || ', '
		   || (SELECT count(*) FROM afregning.installment) || ' installments, '
		   || (SELECT status FROM afregning.billing_year WHERE year = 2021)")" \
	"1 announcement, 3 invoices of 1230000.00, 12 installments, announced" \
	"announce_price: one announcement with one invoice per municipality"

# ---- d) close_year twice at once ---------------------------------------------

q "INSERT INTO afregning.cost_entry (entry_key, year, cost_type, basis, amount)
   VALUES ('e21-sa-act', 2021, 'support_admin', 'actual', 1200000.00)" >/dev/null
pair "SELECT 'difference=' || afregning.close_year(2021);" \
	"$S2_WAITS" \
	"SELECT 'difference=' || afregning.close_year(2021);"
is "$rc1/$rc2" "0/0" "close_year: both sessions end without error"
# 1,200,000.00 + 50.00 (SAG) + 0 - 1,230,000.00 = -29,950.00
is "$(line difference s1)/$(line difference s2)" "-29950.00/-29950.00" \
	"close_year: both sessions get the difference -29,950.00"
is "$(line held s1)" "true" "close_year: session 2 waits for session 1"
is "$(q "SELECT count(*) || ' close to ' || min(to_year) FROM afregning.year_close")" "1 close to 2023" \
	"close_year: one year_close row, carried into 2023"
# pool SAG + CPR Jan 101, 147, 751, Feb 101, 751, Mar 147 = 7 lines
is "$(q "SELECT (SELECT count(*) FROM afregning.usage_line) || ' usage lines, '
		   || (SELECT count(*) || ' March line of ' || sum(amount) FROM afregning.direct_charge_line
			   WHERE month = '2021-03-01') || ', '
		   || (SELECT count(*) FROM afregning.billing_year WHERE year = 2023) || ' row for 2023'")" \
	"7 usage lines, 1 March line of 2.00, 1 row for 2023" \
	"close_year: the year is rated, March is posted and 2023 created, each once"
is "$(q "SELECT string_agg(year || ' ' || status, ', ' ORDER BY year) FROM afregning.billing_year")" \
	"2021 closed, 2023 open" "close_year: 2021 is closed"
