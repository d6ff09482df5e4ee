#!/usr/bin/env bash
# Buffet invoice numbers per year without gaps (SPEC §7), under rollbacks
# and concurrent sessions, and the hash chain under concurrent commits.
#
#   a) an announcement rolled back leaves no trace: announcing again gives
#      1..98 in municipality code order, no gap;
#   b) two sessions announce two different years at once (one REPEATABLE
#      READ, one SERIALIZABLE, the first committing after the second):
#      both years are numbered 1..98 and the chain does not fork;
#   c) two sessions announce the same year: the second waits, then gets
#      the locked price; nothing is doubled;
#   d) verify_ledger() is clean at the end.
#
# Fixture: 98 municipalities with codes 105, 112, ..., 784 (7 × 15 .. 7 ×
# 112), loaded in a shuffled order so that load order is not code order;
# 1,000 citizens each, expected support_admin 98,000.00 a year: price 1.00.
# Years 2021, 2022, 2030 and 2031 have no year carry_lag = 2 before them,
# so each can be announced on its own.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names a database this script creates and drops. Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

PSQL="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}/psql"
[ -x "$PSQL" ] || PSQL=psql
DB=${AF_SCENARIO_DB:-scenario_invoice_numbers}
WAIT=20            # seconds any one wait may take
TMP=$(mktemp -d)
declare -A PID=()

cleanup() {
	for p in "${PID[@]}"; do kill "$p" 2>/dev/null; done
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

q() {		# one statement in a session of its own
	timeout "$WAIT" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"
}

bg() {		# bg NAME SCRIPT: a session in the background
	PGAPPNAME=$1 timeout $((3 * WAIT)) "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" \
		>"$TMP/$1.out" 2>"$TMP/$1.err" <<<"$2" &
	PID[$1]=$!
}

finish() {	# wait for a background session; its exit status goes to RC
	RC=0
	wait "${PID[$1]}" || RC=$?
	unset "PID[$1]"
}

poll() {	# poll until a query returns t, at most WAIT seconds
	local i
	for ((i = 0; i < WAIT * 10; i++)); do
		[ "$(q "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}

line() { sed -n "s/^$1=//p" "$TMP/$2.out" | head -1; }

# session 1 runs S1 in a transaction (BEGIN given as B1) and holds it until
# HOLD is true; session 2 runs S2 once session 1 is holding
pair() {		# pair B1 S1 HOLD S2
	bg s1 "$1
$2
SELECT 'held=' || public.wait_until(\$cond\$$3\$cond\$, '$WAIT s');
COMMIT;"
	poll "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
						  WHERE application_name = 's1' AND query LIKE '%wait_until%' AND state = 'active')" ||
		echo "# session 1 never got to hold its transaction: $(cat "$TMP/s1.err")"
	bg s2 "$4"
	finish s1
	rc1=$RC
	finish s2
	rc2=$RC
	[ -s "$TMP/s1.err" ] && sed 's/^/# s1: /' "$TMP/s1.err"
	[ -s "$TMP/s2.err" ] && sed 's/^/# s2: /' "$TMP/s2.err"
}

# numbers of a year: "count first last distinct in-code-order"
numbers() {
	q "SELECT count(*) || ' ' || min(invoice_number) || '..' || max(invoice_number) || ' '
			  || count(DISTINCT invoice_number) || ' distinct, '
			  || CASE WHEN bool_and(invoice_number = rn) THEN 'code order' ELSE 'NOT code order' END
		 FROM (SELECT i.invoice_number,
					  row_number() OVER (ORDER BY i.municipality_code COLLATE \"C\") AS rn
				 FROM afregning.buffet_invoice i WHERE i.year = $1) x"
}

echo "1..16"

"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$(dirname "$0")/../lib/wait_until.sql" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL' || exit 1
CREATE EXTENSION afregning;
/* a signal a REPEATABLE READ session can see: sequences are not MVCC */
CREATE SEQUENCE public.b_done;
SET search_path = afregning;
INSERT INTO municipality (code, name, region)
SELECT (7 * i)::text, 'Kommune ' || i, 'Hovedstaden'
  FROM generate_series(15, 112) AS i ORDER BY md5(i::text);
INSERT INTO billing_year (year) VALUES (2021), (2022), (2030), (2031);
INSERT INTO population (year, municipality_code, citizens)
SELECT y, m.code, 1000 FROM unnest(ARRAY[2021, 2022, 2030, 2031]) AS y,
	   (SELECT code FROM municipality ORDER BY md5(code || 'x')) m;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
SELECT 'sa-' || y, y, 'support_admin', 'expected', 98000.00
  FROM unnest(ARRAY[2021, 2022, 2030, 2031]) AS y;
SQL

is "$(q "SELECT count(*) || ' ' || min(code) || '..' || max(code) FROM afregning.municipality")" \
	"98 105..784" "fixture: 98 municipalities, codes 105..784"

# ---- a) rollback, then announce again ------------------------------------
out=$(timeout "$WAIT" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" <<'SQL' 2>&1
BEGIN;
SELECT 'price=' || afregning.announce_price(2021);
SELECT 'numbered=' || count(*) || ' ' || max(invoice_number) FROM afregning.buffet_invoice WHERE year = 2021;
ROLLBACK;
SQL
)
is "$(sed -n 's/^numbered=//p' <<<"$out")" "98 98" "a) inside the rolled-back announcement: 98 invoices numbered up to 98"
is "$(q "SELECT count(*) FROM afregning.buffet_invoice WHERE year = 2021")" "0" \
	"a) the rollback leaves no invoice of 2021"
is "$(q "SELECT afregning.announce_price(2021)")" "1.00" "a) 2021 is announced again: 98,000.00 / 98,000 = 1.00"
is "$(numbers 2021)" "98 1..98 98 distinct, code order" "a) 2021 invoices are numbered 1..98 in code order, no gap"
is "$(q "SELECT string_agg(municipality_code || ':' || invoice_number, ',' ORDER BY invoice_number)
		   FROM afregning.buffet_invoice WHERE year = 2021 AND invoice_number IN (1, 2, 98)")" \
	"105:1,112:2,784:98" "a) the lowest code is number 1, the next 2, the highest 98"

# ---- b) two years at once, REPEATABLE READ and SERIALIZABLE ---------------
pair "BEGIN ISOLATION LEVEL REPEATABLE READ;" \
	"SELECT 'price=' || afregning.announce_price(2022);" \
	"pg_sequence_last_value('public.b_done') IS NOT NULL" \
	"BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT 'price=' || afregning.announce_price(2030);
COMMIT;
SELECT nextval('public.b_done');"
is "$rc1/$rc2" "0/0" "b) both sessions end without error"
is "$(line held s1)" "true" "b) session 2 committed 2030 while session 1 held 2022 open"
is "$(line price s1)/$(line price s2)" "1.00/1.00" "b) both years are announced at 1.00"
is "$(numbers 2022)" "98 1..98 98 distinct, code order" "b) 2022 invoices are numbered 1..98"
is "$(numbers 2030)" "98 1..98 98 distinct, code order" "b) 2030 invoices are numbered 1..98"

# ---- c) the same year twice at once -----------------------------------------
pair "BEGIN;" \
	"SELECT 'price=' || afregning.announce_price(2031);" \
	"EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 's2' AND wait_event_type = 'Lock')" \
	"SELECT 'price=' || afregning.announce_price(2031);"
is "$rc1/$rc2" "0/0" "c) both sessions end without error"
is "$(line held s1)" "true" "c) session 2 waits for session 1's lock on the year"
is "$(line price s1)/$(line price s2)" "1.00/1.00" "c) both get the locked price"
is "$(numbers 2031)/$(q "SELECT count(*) FROM afregning.approval WHERE year = 2031")" \
	"98 1..98 98 distinct, code order/1" "c) 2031 has 98 invoices numbered once, and one approval"

# ---- d) the chain after all of it -------------------------------------------
# ledger rows: 4 cost entries; per announced year 1 announcement, 1
# approval, 1 cost line, 98 invoices, 392 installments, 98 infrastructure
# charges = 591; 4 + 4 × 591 = 2368
is "$(q "SELECT count(*) || ' links, ' || max(link_id) || ', '
			|| coalesce((SELECT problem FROM afregning.verify_ledger()), 'clean')
	   FROM afregning.ledger_link")" \
	"2368 links, 2368, clean" "d) every row is linked once, 1..2368, and verify_ledger() is clean"

exit 0
