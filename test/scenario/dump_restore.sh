#!/usr/bin/env bash
# Ledgers survive pg_dump / pg_restore (SPEC §7): a database with announced,
# closed and open years, usage partitions and direct charges is dumped and
# restored into a fresh database; every table must come back row for row,
# the seeded infrastructure schedule must not be doubled, and the restored
# database must settle on exactly as the original does.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names the database this script creates (and "<name>_restored", "<name>_plain"). Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

BIN="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}"
DB=${AF_SCENARIO_DB:-scenario_dump_restore}
DB2="${DB}_restored"
DB3="${DB}_plain"
TMP=$(mktemp -d)

drop_databases() {
	for d in "$DB" "$DB2" "$DB3"; do
		"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1
	done
}
trap 'drop_databases; rm -rf "$TMP"' EXIT

q() {		# q DB SQL: one value
	"$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

echo "1..9"
drop_databases
"$BIN/psql" -X -q -d postgres -c "CREATE DATABASE \"$DB\"" -c "CREATE DATABASE \"$DB2\"" >/dev/null

# Fixture: two municipalities of 1,000 citizens; 2021 pool 2,000.00 -> 1.00;
# 2021 announced and closed, 2022 announced with one month billed, 2023 open.
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$TMP/fixture.log" 2>&1 <<'SQL'
CREATE EXTENSION afregning;
SET search_path = afregning;
INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden');
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal'), ('KY', 'KY', 'monopoly_break');
INSERT INTO service VALUES ('CPR', 'CPR', 'serviceplatform', 'ordered', 'per_call'),
	('ORG', 'Organisation', 'support_system', 'ordered', 'pool');
INSERT INTO service_order VALUES ('ORG', 'KY', 1), ('ORG', 'ESDH', 1);
INSERT INTO tariff VALUES ('CPR', '2021-01-01', 0.1500), ('ORG', '2021-01-01', 0.0100);
INSERT INTO billing_year (year) VALUES (2021), (2022), (2023);
INSERT INTO population SELECT y, m, 1000 FROM generate_series(2021, 2023) y, unnest(ARRAY['101', '147']) m;
INSERT INTO baseline VALUES (2021, 'KY', 'ORG', 100);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, amount) VALUES
	('e21', 2021, 'support_admin', 'expected', NULL, 2000.00),
	('o21', 2021, 'operations', 'expected', 'ORG', 300.01),
	('a21', 2021, 'support_admin', 'actual', NULL, 1900.00),
	('e22', 2022, 'support_admin', 'expected', NULL, 2200.00);
-- a batch is loaded in the transaction that registers it (S11)
BEGIN;
INSERT INTO usage_batch (batch_key) VALUES ('u2021'), ('u2022');
INSERT INTO usage VALUES
	('2021-01-01', '101', 'ESDH', 'CPR', 40, 'u2021'), ('2021-02-01', '147', 'KY', 'ORG', 150, 'u2021'),
	('2022-01-01', '101', 'ESDH', 'CPR', 7, 'u2022'), ('2022-01-01', '147', 'KY', 'ORG', 20, 'u2022');
COMMIT;
SELECT announce_price(2021);
SELECT close_year(2021);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
VALUES ('late21', 2022, 'support_admin', 'actual', 25.00, 'a21');
SELECT announce_price(2022);
SELECT count(*) FROM bill_direct('2022-01-01');
SQL
ok $? "the fixture settles 2021 and announces 2022"

"$BIN/pg_dump" -Fc -d "$DB" -f "$TMP/db.dump" 2>"$TMP/dump.log"
ok $? "pg_dump of the database"
# the documented restore command: restore mode, switched on by a superuser
PGOPTIONS='-c afregning.restore_mode=on' \
	"$BIN/pg_restore" -d "$DB2" "$TMP/db.dump" >"$TMP/restore.log" 2>&1
rc=$?
[ $rc -ne 0 ] && sed 's/^/# /' "$TMP/restore.log"
ok $rc "pg_restore into a fresh database, without errors"

# without restore mode the same dump does not get into the closed year
"$BIN/psql" -X -q -d postgres -c "CREATE DATABASE \"$DB3\"" >/dev/null
"$BIN/pg_restore" -d "$DB3" "$TMP/db.dump" >"$TMP/restore3.log" 2>&1
rc=$?
c3=$(q "$DB3" "SELECT count(*) FROM afregning.cost_entry WHERE year = 2021" 2>/dev/null)
[ $rc -ne 0 ] && grep -q "billing year 2021 must start open, not closed" "$TMP/restore3.log" && [ "$c3" = 0 ]
r=$?
[ $r -ne 0 ] && sed 's/^/# /' "$TMP/restore3.log" | head -20
ok $r "without restore mode pg_restore cannot bring back closed 2021 nor its rows (2021 cost entries: $c3)"

# every table of the schema (partitions included), row for row
tables=$(q "$DB" "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class c
				  WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'r'")
same=0
[ "$(echo $tables | wc -w)" -ge 20 ] || same=1
for t in $tables; do
	a=$(q "$DB" "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM afregning.$t x")
	b=$(q "$DB2" "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM afregning.$t x")
	if [ "$a" != "$b" ]; then echo "# $t differs: $a against $b"; same=1; fi
done
ok $same "every table comes back row for row ($(echo $tables | wc -w) tables)"

s=$(q "$DB2" "SELECT count(*) FROM afregning.charge_schedule")
[ "$s" = "2" ]; ok $? "the seeded infrastructure schedule is there once (2 tiers, got $s)"

st=$(q "$DB2" "SELECT string_agg(year || ':' || status, ',' ORDER BY year) FROM afregning.billing_year")
[ "$st" = "2021:closed,2022:announced,2023:open" ]; ok $? "year states are restored ($st)"

# settling on: both close 2022 the same way
d1=$(q "$DB" "SELECT afregning.close_year(2022)")
d2=$(q "$DB2" "SELECT afregning.close_year(2022)")
[ -n "$d1" ] && [ "$d1" = "$d2" ]; ok $? "the restored database closes 2022 with the same difference ($d1, $d2)"

"$BIN/psql" -X -q -v VERBOSITY=verbose -d "$DB2" -c "DROP EXTENSION afregning" >"$TMP/drop.log" 2>&1
grep -q "ERROR:  55000: refusing to drop extension afregning" "$TMP/drop.log" &&
	[ "$(q "$DB2" "SELECT count(*) FROM pg_extension WHERE extname = 'afregning'")" = 1 ]
ok $? "the restored ledgers are guarded against DROP EXTENSION (55000, still installed)"

[ "$failed" -eq 0 ]
