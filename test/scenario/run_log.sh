#!/usr/bin/env bash
# The run log seen from other sessions while steps run (SPEC §6
# settlement_status, §7).
#
#   a) CALL run_settlement_step commits its running row first: while the
#      step waits for a lock, a reader's session sees it running with its
#      live phase; afterwards it has succeeded, and the caller got a NOTICE
#      with the rows and seconds.
#   b) report_phase() shows the phase as the backend's activity; a reader
#      sees it through settlement_status's live phase, never other query
#      texts.
#   c) a failing step is logged (SQLSTATE, message, DETAIL, HINT) and its
#      error raised to the caller with the same SQLSTATE, DETAIL and HINT.
#   d) the same step while it runs elsewhere: refused with 55P03, logged.
#   e) a step whose session ends while it runs: failed with 57P01.
#   f) an upgrade from 0.1.0 keeps the old runs, with their SQLSTATE.
#
# Every role statement runs in a fresh connection as a login role of
# afregning_admin or afregning_reader (created here, dropped at the end).
# Overlaps are made certain with a lock held by a third session and
# released on a signal row, never by sleeps; every wait is bounded.
#
# Fixture: municipalities 101, 147, 751; service CPR per call at 0.50.
# January 2021 calls 101 1000, 147 100, 751 400 -> 500.00 + 50.00 +
# 200.00 = 750.00 in 3 lines; February 101 10 -> 5.00. 2021 open with
# population; 2022 open without population (announcing it fails with a
# DETAIL naming 101, 147, 751).

set -u

. "$(dirname "$0")/../lib/tap.sh"

PSQL="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}/psql"
[ -x "$PSQL" ] || PSQL=psql
DB=${AF_SCENARIO_DB:-scenario_run_log}
OLD_DB=${DB}_upgrade
ADMIN=afregning_runlog_admin
READER=afregning_runlog_reader
WAIT=20
TMP=$(mktemp -d)
declare -A PID=()

cleanup() {
	for p in "${PID[@]}"; do kill "$p" 2>/dev/null; done
	PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -d postgres \
		-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
		-c "DROP DATABASE IF EXISTS \"$OLD_DB\" WITH (FORCE)" \
		-c "DROP ROLE IF EXISTS $ADMIN" -c "DROP ROLE IF EXISTS $READER" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# one statement in a fresh session as the superuser / as a role
q() { timeout "$WAIT" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
as() {		# as ROLE SQL: fresh login; stderr (errors, notices) goes with stdout
	PGUSER=$1 timeout "$WAIT" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
		-d "$DB" -c "$2" 2>&1
}

# start a session in the background: bg NAME USER SQL
bg() {
	PGAPPNAME=$1 PGUSER=$2 timeout $((3 * WAIT)) "$PSQL" -X -q -At -v ON_ERROR_STOP=1 \
		-v VERBOSITY=verbose -d "$DB" >"$TMP/$1.out" 2>"$TMP/$1.err" <<<"$3" &
	PID[$1]=$!
}
finish() {
	RC=0
	wait "${PID[$1]}" || RC=$?
	unset "PID[$1]"
}
poll() {		# poll CONDITION: until it holds, at most WAIT seconds
	local i
	for ((i = 0; i < WAIT * 10; i++)); do
		[ "$(q "SELECT $1" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}
# hold NAME KEY1 KEY2: a superuser session takes a session advisory lock and
# keeps it until a row with that name is in public.release
hold() {
	bg "$1" "$PGUSER" "SELECT pg_advisory_lock($2, $3);
SELECT 'released=' || public.wait_until(\$c\$EXISTS (SELECT 1 FROM public.release WHERE name = '$1')\$c\$, '$WAIT s');"
	poll "EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
				   WHERE a.application_name = '$1' AND l.locktype = 'advisory' AND l.granted)" ||
		echo "# $1 never took its lock: $(cat "$TMP/$1.err")"
}
# hold_month NAME MONTH: a superuser session locks the month's posting row,
# as a running bill_direct does, until a row with that name is in
# public.release; it then rolls back, leaving nothing behind
hold_month() {
	bg "$1" "$PGUSER" "BEGIN;
INSERT INTO afregning.direct_posting (month) VALUES ('$2') ON CONFLICT (month) DO NOTHING;
SELECT 1 FROM afregning.direct_posting WHERE month = '$2' FOR UPDATE;
SELECT 'released=' || public.wait_until(\$c\$EXISTS (SELECT 1 FROM public.release WHERE name = '$1')\$c\$, '$WAIT s');
ROLLBACK;"
	poll "EXISTS (SELECT 1 FROM pg_stat_activity a
				   WHERE a.application_name = '$1' AND a.query LIKE '%wait_until%')" ||
		echo "# $1 never took its lock: $(cat "$TMP/$1.err")"
}
release() { q "INSERT INTO public.release VALUES ('$1')" >/dev/null; finish "$1"; }
err() { sed -n 's/^ERROR:  //p;s/^DETAIL:  /DETAIL: /p;s/^HINT:  /HINT: /p' <<<"$1" | paste -sd'|'; }

echo "1..27"

# ---- database, roles and fixture --------------------------------------------

PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" \
	-c "DROP ROLE IF EXISTS $ADMIN" -c "DROP ROLE IF EXISTS $READER" >/dev/null 2>&1 || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$(dirname "$0")/../lib/wait_until.sql" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL || exit 1
CREATE EXTENSION afregning;
CREATE ROLE $ADMIN LOGIN IN ROLE afregning_admin;
CREATE ROLE $READER LOGIN IN ROLE afregning_reader;
CREATE TABLE public.release (name text);
GRANT SELECT ON public.release TO PUBLIC;
SET search_path = afregning;
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden'),
	('751', 'Aarhus', 'Midtjylland');
INSERT INTO consumer_system (code, name, class) VALUES ('KOMM', 'Kommunalt sagssystem', 'municipal');
INSERT INTO service (code, name, platform, funding, billing) VALUES
	('CPR', 'CPR-opslag', 'serviceplatform', 'ordered', 'per_call');
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES ('CPR', '2020-01-01', 0.50);
INSERT INTO billing_year (year) VALUES (2021), (2022);
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2021, '101', 600000), (2021, '147', 100000), (2021, '751', 300000);
BEGIN;	-- a batch is loaded by the transaction that registers it (S11)
INSERT INTO usage_batch (batch_key) VALUES ('u2021');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'KOMM', 'CPR', 1000, 'u2021'),
	('2021-01-01', '147', 'KOMM', 'CPR', 100, 'u2021'),
	('2021-01-01', '751', 'KOMM', 'CPR', 400, 'u2021'),
	('2021-02-01', '101', 'KOMM', 'CPR', 10, 'u2021');
COMMIT;
SQL

LEDGERS="SELECT (SELECT count(*) || '/' || coalesce(sum(amount), 0) FROM afregning.direct_charge_line) || ' '
			|| (SELECT count(*) FROM afregning.buffet_invoice) || ' '
			|| (SELECT count(*) FROM afregning.usage_line) || ' '
			|| (SELECT string_agg(year || ':' || status, ',' ORDER BY year) FROM afregning.billing_year)"

# ---- a) the running row is visible while the step runs ---------------------------

# bill_direct of January waits for this lock of the month (post_direct's own)
hold_month h1 2021-01-01
bg s1 "$ADMIN" "SET client_min_messages = notice;
CALL afregning.run_settlement_step('bill_direct', '2021-01-01');"
poll "EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 's1' AND wait_event_type = 'Lock')" ||
	echo "# s1 never waited: $(cat "$TMP/s1.err")"
S1_PID=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 's1'")
is "$(as "$READER" "SELECT job || ' ' || period || ' ' || state || ' ' || phase || ' ' || who || ' '
						   || entry || ' ' || (finished IS NULL) || ' ' || coalesce(sqlstate, '-')
					  FROM afregning.settlement_status")" \
	"bill_direct 2021-01-01 running started $ADMIN procedure true -" \
	"a reader's session sees the step running, with its live phase, while it waits"
is "$(q "SELECT status || ' ' || (backend_pid = $S1_PID) || ' ' || session_role || ' ' || acting_role
		   FROM afregning.settlement_run")" \
	"running true $ADMIN $ADMIN" "the committed row names the backend and the admin login that runs it"
is "$(as "$READER" "SELECT query FROM pg_stat_activity WHERE pid = $S1_PID")" "<insufficient privilege>" \
	"(the reader cannot read that backend's query text in pg_stat_activity itself)"
is "$(q "SELECT query FROM pg_stat_activity WHERE pid = $S1_PID")" "afregning: bill_direct 2021-01: started" \
	"the backend's activity names the step"
release h1
finish s1
is "$RC" "0" "the step ends without error once the lock is released"
is "$(as "$READER" "SELECT state || ' ' || phase || ' ' || rows_posted || ' ' || result || ' '
						   || (finished >= started) || ' ' || coalesce(sqlstate, '-') || coalesce(message, '-')
					  FROM afregning.settlement_status")" \
	"succeeded done 3 750.00 true --" "then it has succeeded: 3 lines of 750.00"
like "$(sed -n 's/^NOTICE:  //p' "$TMP/s1.err" | grep ': done, ' | head -1)" '^00000: bill_direct 2021-01: done, 3 rows, [0-9]+\.[0-9] s$' \
	"the caller got a NOTICE with the step, its rows and the seconds since it began"
# the lock was held at least until the reader had looked: never 0.0 s
like "$(sed -n 's/^NOTICE:  .*: done, .*rows, \([0-9.]*\) s$/\1/p' "$TMP/s1.err" | head -1)" '^([1-9][0-9]*\.[0-9]|0\.[1-9])$' \
	"its seconds count from the start of the step, including the wait"
is "$(q "$LEDGERS")" "3/750.00 0 0 2021:open,2022:open" "January is posted, once"

# ---- b) report_phase: NOTICE and live activity --------------------------------------

bg s2 "$ADMIN" "SET client_min_messages = notice;
SELECT afregning.report_phase('close_year', 'carry-forward', 1);
SELECT afregning.report_phase('close_year', 'rating usage', 12345),
	   public.wait_until(\$c\$EXISTS (SELECT 1 FROM public.release WHERE name = 's2')\$c\$, '$WAIT s');"
poll "EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 's2' AND query LIKE 'afregning: %')" ||
	echo "# s2 never reported: $(cat "$TMP/s2.err")"
S2_PID=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 's2'")
like "$(q "SELECT query FROM pg_stat_activity WHERE pid = $S2_PID")" \
	'^afregning: close_year: rating usage, 12345 rows, [0-9]+\.[0-9] s$' \
	"report_phase shows the phase, its rows and seconds as the backend's activity"
like "$(as "$READER" "SELECT afregning.live_phase($S2_PID, now())")" '^rating usage, 12345 rows, [0-9]+\.[0-9] s$' \
	"a reader reads it through live_phase()"
hold h2 1 2
H2_PID=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'h2'")
is "$(as "$READER" "SELECT afregning.live_phase($H2_PID, now())")" "running" \
	"but never another backend's query text"
is "$(as "$READER" "SELECT coalesce(afregning.live_phase($H2_PID, '2000-01-01'), 'gone')")" "gone" \
	"and a backend started after the run is not the run's"
release h2
q "INSERT INTO public.release VALUES ('s2')" >/dev/null
finish s2
like "$(sed -n 's/^NOTICE:  //p' "$TMP/s2.err" | paste -sd'|')" \
	'^00000: close_year: carry-forward, 1 row, [0-9]+\.[0-9] s\|00000: close_year: rating usage, 12345 rows, [0-9]+\.[0-9] s$' \
	"and the caller got each phase as a NOTICE (1 row, 12345 rows)"

# ---- c) a failing step: logged, then raised with its parts -----------------------------

before=$(q "$LEDGERS")
got=$(as "$ADMIN" "CALL afregning.run_settlement_step('close_year', '2021-01-01')")
is "$(err "$got")" \
	"55000: cannot close 2021 before its price is announced|HINT: Announce it first with afregning.announce_price(2021)." \
	"CALL of a close of an open year raises the step's 55000 error with its HINT"
is "$(as "$READER" "SELECT state || '|' || sqlstate || '|' || message || '|' || coalesce(detail, '-') || '|' || hint
						   || '|' || rows_posted || '|' || (finished >= started)
					  FROM afregning.settlement_status WHERE job = 'close_year'")" \
	"failed|55000|cannot close 2021 before its price is announced|-|Announce it first with afregning.announce_price(2021).|0|true" \
	"and logs it as failed with SQLSTATE, message and HINT"
got=$(as "$ADMIN" "CALL afregning.run_settlement_step('announce_price', '2022-06-01')")
is "$(err "$got")" \
	"55000: population of 2022 is missing for 3 municipalities|DETAIL: No citizens for: 101, 147, 751.|HINT: Load afregning.population for every municipality of the year." \
	"announcing a year without population raises 55000 with its DETAIL and HINT"
is "$(as "$READER" "SELECT period || '|' || state || '|' || sqlstate || '|' || detail || '|' || hint
					  FROM afregning.settlement_status WHERE job = 'announce_price'")" \
	"2022-01-01|failed|55000|No citizens for: 101, 147, 751.|Load afregning.population for every municipality of the year." \
	"and logs the DETAIL too, under the first day of its year"
is "$(q "$LEDGERS")" "$before" "the failed steps changed no ledger"
got=$(as "$ADMIN" "CALL afregning.run_settlement_step('frobnicate', '2021-01-01')")
is "$(err "$got")" \
	"22023: unknown settlement job frobnicate|HINT: Use one of bill_direct, announce_price, close_year, preview_price." \
	"an unknown job is refused with 22023 before anything is logged"
is "$(q "SELECT count(*) FROM afregning.settlement_run")" "3" "(3 runs logged)"

# ---- d) the same step while it runs elsewhere ---------------------------------------

hold h3 "hashtext('afregning.run_settlement')" "hashtext('bill_direct:2021-02-01')"
got=$(as "$ADMIN" "CALL afregning.run_settlement_step('bill_direct', '2021-02-01')")
release h3
is "$(err "$got")" \
	"55P03: bill_direct for 2021-02-01 is already running|HINT: Wait for the running step to finish (afregning.settlement_status shows it); a run afterwards posts only what is still missing." \
	"a step already running elsewhere is refused with 55P03"
is "$(q "SELECT r.status || ' ' || s.state || ' ' || s.sqlstate FROM afregning.settlement_run r
		   JOIN afregning.settlement_status s USING (run_id) WHERE r.period = '2021-02-01'")" \
	"refused failed 55P03" "and logged as refused (a failed state in settlement_status)"
is "$(q "$LEDGERS")" "$before" "nothing was posted"

# ---- e) a session that ends while its step runs ------------------------------------------

hold_month h4 2021-02-01
bg s4 "$ADMIN" "CALL afregning.run_settlement_step('bill_direct', '2021-02-01');"
poll "EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 's4' AND wait_event_type = 'Lock')" ||
	echo "# s4 never waited: $(cat "$TMP/s4.err")"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 's4'" >/dev/null
finish s4
release h4
poll "NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 's4')"
is "$(as "$READER" "SELECT state || '|' || sqlstate || '|' || message FROM afregning.settlement_status
					  WHERE period = '2021-02-01' AND job = 'bill_direct' ORDER BY run_id DESC LIMIT 1")" \
	"failed|57P01|the session ended before the step finished" \
	"a step whose session ended shows as failed with 57P01"
is "$(q "$LEDGERS")" "$before" "and posted nothing"

# ---- f) an upgrade from 0.1.0 keeps the old runs ------------------------------------------

PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS \"$OLD_DB\" WITH (FORCE)" -c "CREATE DATABASE \"$OLD_DB\"" >/dev/null || exit 1
PGOPTIONS='-c client_min_messages=error' "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$OLD_DB" >/dev/null <<'SQL' || exit 1
CREATE EXTENSION afregning VERSION '0.1.0';
INSERT INTO afregning.billing_year (year) VALUES (2021);
SELECT afregning.run_settlement('close_year', '2021-01-01');
SELECT afregning.run_settlement('preview_price', '2021-01-01');
ALTER EXTENSION afregning UPDATE TO '0.2.0';
SQL
is "$("$PSQL" -X -q -At -d "$OLD_DB" -c "SELECT string_agg(job || '|' || state || '|' || coalesce(sqlstate, '-') || '|'
		|| coalesce(message, '-') || '|' || coalesce(hint, '-') || '|' || (who = current_user) || '|' || entry, '; ' ORDER BY run_id)
		FROM afregning.settlement_status")" \
	"close_year|failed|55000|cannot close 2021 before its price is announced|-|true|function; preview_price|succeeded|-|-|-|true|function" \
	"after ALTER EXTENSION UPDATE the 0.1.0 runs are in settlement_status, the SQLSTATE split from the message"
