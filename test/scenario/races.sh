#!/usr/bin/env bash
# Settlements, loads and deletes racing in two live sessions (SPEC §7, R10,
# S9, S10, S11), under READ COMMITTED, REPEATABLE READ and SERIALIZABLE.
#
# Every case starts from the same fixture (a database made from a template).
# Session 1 (READ COMMITTED) runs its step in a transaction and holds it
# open until session 2 (at the isolation level under test) is seen waiting
# for a lock; then session 1 commits and session 2 goes on. So session 2's
# snapshot always predates session 1's commit, which is the race.
#
# Each case checks session 2's outcome (its result, or its SQLSTATE) and
# then that the database ends exactly as if the two steps had run one after
# the other: a digest of every row of every table of the extension (all
# columns but timestamps and generated line numbers) equals the digest the
# fresh copy gave, before the race, after session 1's step alone (session 2
# refused or posted nothing) or session 1's and then session 2's step
# (session 2 went on), run in one transaction that was rolled back.
#
#   bill     bill_direct(2021-01) in both sessions: posted once (S10)
#   close    session 1 bill_direct(2021-03), session 2 close_year(2021):
#            March posted once
#   late     session 1 close_year(2021), session 2 bill_direct(2021-03):
#            nothing posted into the closed year (S9)
#   carry    session 1 close_year(2021) carries into 2022, session 2
#            announce_price(2022): the carry is in the price or the
#            announcement is refused (R10)
#   target   session 1 announce_price(2022), session 2 close_year(2021):
#            the carry goes to 2023, never into the announced 2022 (R10)
#   load     session 1 close_year(2021), session 2 loads 2021 usage: refused
#   rated    session 1 loads 2021 usage, session 2 close_year(2021): the
#            usage is rated, or the close is refused
#   delete   session 1 loads usage of system TEMP, session 2 deletes TEMP:
#            refused, the usage keeps its system
#   batch    both sessions load batch "dup": once (S11)
#   sums     both sessions load a batch of their own into the same month,
#            municipality, system and service: the live sum holds both
#            loads, or the second fails with 40001
# and, in sequence, a batch loaded by a committed transaction takes no more
# rows (S11).
#
# Fixture: municipalities 101, 147, 751 with 600,000 + 100,000 + 300,000 =
# 1,000,000 citizens in 2021 and 2022; systems KOMM and TEMP (municipal);
# service CPR per call at 0.50. 2021 (carry_lag 1): expected support_admin
# 1,000,000.00 -> price 1.00, billed 1,000,000.00; actual 1,100,000.00, so
# the difference is +100,000.00, carried into 2022. 2022 (carry_lag 2; 2020
# has no row, so it may be announced): expected 2,000,000.00 -> 2.00 alone,
# (2,000,000.00 + 100,000.00) / 1,000,000 = 2.10 with the carry. CPR calls:
# January 101 1000 (500.00) and 147 100 (50.00), March 751 40 (20.00).
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names the databases this script creates and drops. Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

PSQL="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}/psql"
[ -x "$PSQL" ] || PSQL=psql
BASE=${AF_SCENARIO_DB:-scenario_races}
TEMPLATE="${BASE}_t"
WAIT=20            # seconds any one wait may take
TMP=$(mktemp -d)
declare -A PID=()
DBS=("$TEMPLATE")

cleanup() {
	local d drops=()
	for p in "${PID[@]}"; do kill "$p" 2>/dev/null; done
	for d in "${DBS[@]}"; do drops+=(-c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)"); done
	"$PSQL" -X -q -d postgres "${drops[@]}" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# one statement in a session of its own on database $DB
q() {
	timeout "$WAIT" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"
}

# a script in a session of its own on database $1, errors as bare SQLSTATEs
run() {
	timeout "$WAIT" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$1" <<<"$2"
}

# a fresh copy of the fixture
fresh() {
	DB=$1
	DBS+=("$DB")
	PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
		-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$DB\" TEMPLATE \"$TEMPLATE\"" >/dev/null || exit 1
}

# start a session in the background: bg NAME SCRIPT
bg() {
	PGAPPNAME=$1 timeout $((3 * WAIT)) "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate \
		-d "$DB" >"$TMP/$1.out" 2>"$TMP/$1.err" <<<"$2" &
	PID[$1]=$!
}

finish() {
	RC=0
	wait "${PID[$1]}" || RC=$?
	unset "PID[$1]"
}

# what a session printed as LABEL=value, or its SQLSTATE if it failed
line() { sed -n "s/^$1=//p" "$TMP/$2.out" | head -1; }
sqlstate() { grep -o 'ERROR:  [0-9A-Z]\{5\}' "$TMP/$1.err" | head -1 | cut -c9-; }

S2_WAITS="EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 's2' AND wait_event_type = 'Lock')"

# pair S1 S2 LEVEL: session 1 runs S1 and holds until session 2, which runs
# S2 in a transaction at LEVEL once session 1 is holding, waits for a lock
S1_HOLDS="EXISTS (SELECT 1 FROM pg_stat_activity
				   WHERE application_name = 's1' AND query LIKE '%wait_until%' AND state = 'active')"
pair() {
	bg s1 "BEGIN;
$1
SELECT 'held=' || public.wait_until(\$cond\$$S2_WAITS\$cond\$, '$WAIT s');
COMMIT;"
	bg s2 "SELECT 'ready=' || public.wait_until(\$cond\$$S1_HOLDS\$cond\$, '$WAIT s');
BEGIN ISOLATION LEVEL $3;
$2
COMMIT;"
	finish s1
	rc1=$RC
	finish s2
	rc2=$RC
	[ "$(line ready s2)" = true ] || echo "# session 1 never got to hold its transaction: $(cat "$TMP/s1.err")"
}

# check QUERY: one look at the outcome; GOT is what QUERY returns, DIGEST
# the digest of the whole database
check() {
	local res
	res=$(q "SELECT ($1)::text || '|' || public.state_digest()")
	GOT=${res%|*}
	DIGEST=${res##*|}
}

digest() { q "SELECT public.state_digest()"; }

# serial SCRIPT: WANT is the digest of the fixture after SCRIPT, run in one
# transaction that is then rolled back (in a fresh copy, before the pair
# runs; once per script, every copy starting alike)
declare -A SERIAL=()
serial() {
	if [ -z "${SERIAL[$1]:-}" ]; then
		SERIAL[$1]=$(run "$DB" "BEGIN;
$1
SELECT 'digest=' || public.state_digest();
ROLLBACK;" 2>/dev/null | sed -n 's/^digest=//p')
		[ -n "${SERIAL[$1]}" ] || SERIAL[$1]="(the serial run failed)"
	fi
	WANT=${SERIAL[$1]}
}

echo "1..126"

# ---- the fixture, as a template ----------------------------------------------

PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS \"$TEMPLATE\" WITH (FORCE)" -c "CREATE DATABASE \"$TEMPLATE\"" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" -f "$(dirname "$0")/../lib/wait_until.sql" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" >/dev/null <<'SQL' || exit 1
CREATE EXTENSION afregning;
/* every row of every table of the extension, but for timestamps (when a
 * step ran) and generated line numbers (how often a sequence was drawn);
 * and but for the hash chain, whose links hash those timestamps and line
 * numbers, and the run log, which records how the steps ran */
CREATE FUNCTION public.state_digest() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	cols text;
	part text;
	whole text := '';
BEGIN
	FOR t IN SELECT c.oid, c.relname FROM pg_class c
			  WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind IN ('r', 'p')
				AND NOT c.relispartition
				AND c.relname NOT IN ('ledger_link', 'settlement_run')
			  ORDER BY c.relname COLLATE "C"
	LOOP
		SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO cols
		  FROM pg_attribute a
		 WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
		   AND a.atttypid <> 'timestamptz'::regtype AND a.attidentity = '';
		EXECUTE format('SELECT coalesce(string_agg(r::text, E''\n'' ORDER BY r::text COLLATE "C"), '''')
						  FROM (SELECT %s FROM afregning.%I) r', cols, t.relname) INTO part;
		whole := whole || t.relname || E'\n' || part || E'\n';
	END LOOP;
	RETURN md5(whole);
END
$$;
SET search_path = afregning;
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden'),
	('751', 'Aarhus', 'Midtjylland');
INSERT INTO consumer_system (code, name, class) VALUES
	('KOMM', 'Kommunalt sagssystem', 'municipal'), ('TEMP', 'Prøvesystem', 'municipal');
INSERT INTO service (code, name, platform, funding, billing) VALUES
	('CPR', 'CPR-opslag', 'serviceplatform', 'ordered', 'per_call');
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES ('CPR', '2020-01-01', 0.50);
INSERT INTO billing_year (year, carry_lag) VALUES (2021, 1), (2022, 2);
INSERT INTO population (year, municipality_code, citizens)
SELECT y, m.code, m.citizens
  FROM generate_series(2021, 2022) y,
	   (VALUES ('101', 600000), ('147', 100000), ('751', 300000)) AS m(code, citizens);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('e21', 2021, 'support_admin', 'expected', 1000000.00),
	('a21', 2021, 'support_admin', 'actual', 1100000.00),
	('e22', 2022, 'support_admin', 'expected', 2000000.00);
BEGIN;
INSERT INTO usage_batch (batch_key) VALUES ('u2021');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'KOMM', 'CPR', 1000, 'u2021'),
	('2021-01-01', '147', 'KOMM', 'CPR', 100, 'u2021'),
	('2021-03-01', '751', 'KOMM', 'CPR', 40, 'u2021');
COMMIT;
SELECT announce_price(2021);
SQL

# the steps
BILL_JAN="SELECT 'posted=' || count(*) FROM afregning.bill_direct('2021-01-01');"
BILL_MAR="SELECT 'posted=' || count(*) FROM afregning.bill_direct('2021-03-01');"
CLOSE="SELECT 'difference=' || afregning.close_year(2021);"
ANNOUNCE="SELECT 'price=' || afregning.announce_price(2022);"
# load BATCH PERIOD MUNICIPALITY SYSTEM CALLS: register a batch and load one
# row of CPR calls into it, in one transaction (S11)
load() {
	echo "INSERT INTO afregning.usage_batch (batch_key) VALUES ('$1');
INSERT INTO afregning.usage (period, municipality_code, system_code, service_code, calls, batch_key)
VALUES ('$2', '$3', '$4', 'CPR', $5, '$1');"
}
LOAD_LATE=$(load late 2021-05-01 101 KOMM 7)
LOAD_TEMP=$(load tmp 2021-06-01 101 TEMP 5)
DELETE_TEMP="DELETE FROM afregning.consumer_system WHERE code = 'TEMP';"
LOAD_DUP=$(load dup 2021-07-01 101 KOMM 9)
LOAD_SUM1=$(load sum1 2021-01-01 101 KOMM 5)
LOAD_SUM2=$(load sum2 2021-01-01 101 KOMM 6)

for level in "READ COMMITTED" "REPEATABLE READ" "SERIALIZABLE"; do
	L=$(echo "$level" | tr 'A-Z ' 'a-z_')
	rc=false; [ "$level" = "READ COMMITTED" ] && rc=true
	echo "# ---- session 2 at $level ----"

	# ---- bill: bill_direct of January twice at once ----------------------
	fresh "${BASE}_bill_$L"
	serial "$BILL_JAN"
	pair "$BILL_JAN" "$BILL_JAN" "$level"
	is "$rc1/$(line posted s1)/$(line held s1)" "0/2/true" "bill [$L]: session 1 posts the 2 January lines while session 2 waits"
	if $rc; then
		is "$rc2/$(line posted s2)" "0/0" "bill [$L]: session 2, let through after the commit, posts nothing"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "bill [$L]: session 2, whose snapshot cannot see the posting, fails with 40001"
	fi
	# 1000 x 0.50 + 100 x 0.50 = 500.00 + 50.00 = 550.00
	check "SELECT count(*) || ' lines, ' || sum(amount) FROM afregning.direct_charge_line WHERE month = '2021-01-01'"
	is "$GOT" "2 lines, 550.00" "bill [$L]: January is posted once, 550.00"
	is "$DIGEST" "$WANT" "bill [$L]: the database is as after one run"

	# ---- close: close_year while March is being billed --------------------
	fresh "${BASE}_close_$L"
	if $rc; then serial "$BILL_MAR $CLOSE"; else serial "$BILL_MAR"; fi
	pair "$BILL_MAR" "$CLOSE" "$level"
	is "$rc1/$(line posted s1)/$(line held s1)" "0/1/true" "close [$L]: session 1 posts March while the close waits"
	if $rc; then
		# 1,100,000.00 + 0.00 - 1,000,000.00 = 100,000.00
		is "$rc2/$(line difference s2)" "0/100000.00" "close [$L]: the close goes on, difference 100,000.00"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "close [$L]: the close, whose snapshot cannot see March's posting, fails with 40001"
	fi
	# 40 x 0.50 = 20.00
	check "SELECT count(*) || ' line, ' || sum(amount) FROM afregning.direct_charge_line WHERE month = '2021-03-01'"
	is "$GOT" "1 line, 20.00" "close [$L]: March is posted once, 20.00"
	is "$DIGEST" "$WANT" "close [$L]: the database is as after the two steps in turn"

	# ---- late: bill_direct of a month whose year is being closed ----------
	fresh "${BASE}_late_$L"
	serial "$CLOSE"
	pair "$CLOSE" "$BILL_MAR" "$level"
	is "$rc1/$(line difference s1)/$(line held s1)" "0/100000.00/true" "late [$L]: session 1 closes 2021 while bill_direct waits"
	if $rc; then
		is "$rc2/$(line posted s2)" "0/0" "late [$L]: bill_direct then posts nothing into the closed year"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "late [$L]: bill_direct, whose snapshot predates the close, fails with 40001"
	fi
	check "SELECT count(*) || ' line, ' || sum(amount) FROM afregning.direct_charge_line WHERE month = '2021-03-01'"
	is "$GOT" "1 line, 20.00" "late [$L]: March of the closed year holds the close's line only"
	is "$DIGEST" "$WANT" "late [$L]: the database is as after the close alone"

	# ---- carry: announce the year a close is carrying into ---------------
	fresh "${BASE}_carry_$L"
	if $rc; then serial "$CLOSE $ANNOUNCE"; else serial "$CLOSE"; fi
	pair "$CLOSE" "$ANNOUNCE" "$level"
	is "$rc1/$(line difference s1)/$(line held s1)" "0/100000.00/true" "carry [$L]: session 1 closes 2021 into 2022 while the announcement waits"
	check "SELECT y.status || '/' || coalesce(a.carry_in::text, '-') || '/'
				  || (SELECT sum(amount) FROM afregning.carry_posting WHERE to_year = 2022)
			 FROM afregning.billing_year y LEFT JOIN afregning.price_announcement a USING (year)
			WHERE y.year = 2022"
	if $rc; then
		# (2,000,000.00 + 100,000.00) / 1,000,000 = 2.10
		is "$rc2/$(line price s2)" "0/2.10" "carry [$L]: 2022 is then announced with the carry in, 2.10"
		is "$GOT" "announced/100000.00/100000.00" "carry [$L]: R10, the carry-in of 2022 is the carry posted into it"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "carry [$L]: the announcement, whose snapshot cannot see the carry, fails with 40001"
		is "$GOT" "open/-/100000.00" "carry [$L]: R10, 2022 stays open with the carry of 100,000.00 still to come in"
	fi
	is "$DIGEST" "$WANT" "carry [$L]: the database is as after the two steps in turn"

	# ---- target: close while the target year is being announced ----------
	fresh "${BASE}_target_$L"
	if $rc; then serial "$ANNOUNCE $CLOSE"; else serial "$ANNOUNCE"; fi
	pair "$ANNOUNCE" "$CLOSE" "$level"
	is "$rc1/$(line price s1)/$(line held s1)" "0/2.00/true" "target [$L]: session 1 announces 2022 at 2.00 while the close waits"
	check "SELECT (SELECT carry_in FROM afregning.price_announcement WHERE year = 2022) || '/'
				  || coalesce((SELECT string_agg(to_year || ':' || amount, ',' ORDER BY to_year)
								 FROM afregning.carry_posting), '-') || '/'
				  || (SELECT string_agg(year || ':' || status, ',' ORDER BY year) FROM afregning.billing_year)"
	if $rc; then
		is "$rc2/$(line difference s2)" "0/100000.00" "target [$L]: the close goes on, difference 100,000.00"
		is "$GOT" "0.00/2023:100000.00/2021:closed,2022:announced,2023:open" \
			"target [$L]: R10, 2022 keeps carry-in 0.00 and the carry goes to 2023 instead"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "target [$L]: the close, whose snapshot sees 2022 open, fails with 40001"
		is "$GOT" "0.00/-/2021:announced,2022:announced" \
			"target [$L]: 2022 keeps carry-in 0.00, 2021 stays announced, nothing is carried"
	fi
	is "$DIGEST" "$WANT" "target [$L]: the database is as after the two steps in turn"

	# ---- load: usage of a year that closes while the load waits -----------
	fresh "${BASE}_load_$L"
	serial "$CLOSE"
	pair "$CLOSE" "$LOAD_LATE" "$level"
	is "$rc1/$(line held s1)" "0/true" "load [$L]: session 1 closes 2021 while the load waits"
	if $rc; then
		is "$rc2/$(sqlstate s2)" "3/55000" "load [$L]: the load then sees the year closed: 55000"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "load [$L]: the load, whose snapshot predates the close, fails with 40001"
	fi
	check "SELECT sum(calls) || ' calls, ' || count(DISTINCT batch_key) || ' batch' FROM afregning.usage"
	is "$GOT" "1140 calls, 1 batch" "load [$L]: 2021 holds its 1,000 + 100 + 40 calls only"
	is "$DIGEST" "$WANT" "load [$L]: the database is as after the close alone"

	# ---- rated: close while 2021 usage is being loaded -------------------
	fresh "${BASE}_rated_$L"
	if $rc; then serial "$LOAD_LATE $CLOSE"; else serial "$LOAD_LATE"; fi
	pair "$LOAD_LATE" "$CLOSE" "$level"
	is "$rc1/$(line held s1)" "0/true" "rated [$L]: session 1 loads 7 calls of May 2021 while the close waits"
	check "SELECT (SELECT status FROM afregning.billing_year WHERE year = 2021) || '/'
				  || coalesce((SELECT sum(amount) FROM afregning.direct_charge_line WHERE month = '2021-05-01')::text, '-')"
	if $rc; then
		is "$rc2/$(line difference s2)" "0/100000.00" "rated [$L]: the close goes on, difference 100,000.00"
		# 7 x 0.50 = 3.50
		is "$GOT" "closed/3.50" "rated [$L]: the late calls are rated and charged, 3.50"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "rated [$L]: the close, whose snapshot cannot see the load, fails with 40001"
		is "$GOT" "announced/-" "rated [$L]: 2021 stays announced, nothing charged"
	fi
	is "$DIGEST" "$WANT" "rated [$L]: the database is as after the two steps in turn"

	# ---- delete: a system deleted while usage of it is being loaded -------
	fresh "${BASE}_delete_$L"
	serial "$LOAD_TEMP"
	pair "$LOAD_TEMP" "$DELETE_TEMP" "$level"
	is "$rc1/$(line held s1)" "0/true" "delete [$L]: session 1 loads usage of TEMP while the delete waits"
	if $rc; then
		is "$rc2/$(sqlstate s2)" "3/23503" "delete [$L]: the delete then finds the usage: 23503"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "delete [$L]: the delete, whose snapshot cannot see the usage, fails with 40001"
	fi
	check "SELECT count(*) FROM afregning.usage u JOIN afregning.consumer_system c ON c.code = u.system_code
			WHERE u.system_code = 'TEMP'"
	is "$GOT" "1" "delete [$L]: the usage of TEMP still has its system"
	is "$DIGEST" "$WANT" "delete [$L]: the database is as after the load alone"

	# ---- sums: two batches adding to the same monthly sum at once ----------
	fresh "${BASE}_sums_$L"
	if $rc; then serial "$LOAD_SUM1 $LOAD_SUM2"; else serial "$LOAD_SUM1"; fi
	pair "$LOAD_SUM1" "$LOAD_SUM2" "$level"
	is "$rc1/$(line held s1)" "0/true" "sums [$L]: session 1 adds 5 calls to 101's January CPR while session 2 waits"
	check "SELECT (SELECT calls || '/' || usage_rows FROM afregning.usage_summary
					WHERE period = '2021-01-01' AND municipality_code = '101')
				  || ' ' || (SELECT sum(calls) FROM afregning.usage
							  WHERE period = '2021-01-01' AND municipality_code = '101')"
	if $rc; then
		is "$rc2" "0" "sums [$L]: session 2 then adds its 6 calls"
		# 1,000 + 5 + 6 = 1,011 calls from 3 rows, the sum equal to the rows'
		is "$GOT" "1011/3 1011" "sums [$L]: the sum holds both loads, 1,011 calls from 3 rows"
	else
		is "$rc2/$(sqlstate s2)" "3/40001" "sums [$L]: session 2, whose snapshot predates the first load, fails with 40001"
		is "$GOT" "1005/2 1005" "sums [$L]: the sum holds the first load only, 1,005 calls, as the rows do"
	fi
	is "$DIGEST" "$WANT" "sums [$L]: the database is as after the loads in turn"

	# ---- batch: the same batch loaded in two sessions at once -------------
	fresh "${BASE}_batch_$L"
	serial "$LOAD_DUP"
	pair "$LOAD_DUP" "$LOAD_DUP" "$level"
	is "$rc1/$(line held s1)" "0/true" "batch [$L]: session 1 loads batch dup while session 2 waits"
	is "$rc2/$(sqlstate s2)" "3/23505" "batch [$L]: session 2 is refused: 23505"
	check "SELECT sum(calls) || ' calls in ' || count(*) || ' row' FROM afregning.usage WHERE batch_key = 'dup'"
	is "$GOT" "9 calls in 1 row" "batch [$L]: batch dup is loaded once"
	is "$DIGEST" "$WANT" "batch [$L]: the database is as after one load"

	# ---- S11 in sequence: a committed batch takes no more rows ---------------
	out=$(run "$DB" "BEGIN ISOLATION LEVEL $level;
					 INSERT INTO afregning.usage (period, municipality_code, system_code, service_code, calls, batch_key)
					 VALUES ('2021-08-01', '147', 'KOMM', 'CPR', 3, 'dup');
					 COMMIT;" 2>&1)
	is "$out" "ERROR:  23505" "S11 [$L]: a later transaction cannot add rows to the loaded batch dup: 23505"
	is "$(digest)" "$WANT" "S11 [$L]: ... and nothing changed"
done
