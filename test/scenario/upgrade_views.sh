#!/usr/bin/env bash
# The views after ALTER EXTENSION UPDATE from 0.1.0 with a settled year in
# the tables: 0.1.0 fixed per-call cost entries on route municipality; the
# ledger is not rewritten, the views read those lines as route per_call
# (SPEC §3), and a municipality role reads every view.
#
# Fixture (0.1.0): 101 and 147, 1,000 citizens each; expected support_admin
# 2,000.00 -> price 1.00; CPR per call at 0.50, cost entries 100.00
# expected and 90.00 actual; 101 calls CPR 10 times in January (5.00);
# actual support_admin 2,100.00; close 2021: 2,100.00 - 2,000.00 = 100.00.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names a database this script creates and drops. Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

PSQL="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}/psql"
[ -x "$PSQL" ] || PSQL=psql
DB=${AF_SCENARIO_DB:-scenario_upgrade_views}
ROLE=afregning_upgrade_kbh

cleanup() {
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
		-c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
}
trap cleanup EXIT

q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1" 2>&1; }
q_as() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -U "$ROLE" -d "$DB" -c "$1" 2>&1; }

echo "1..7"
cleanup
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$DB\"" \
	-c "CREATE ROLE $ROLE LOGIN IN ROLE afregning_municipality" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL || exit 1
CREATE EXTENSION afregning VERSION '0.1.0';
SET search_path = afregning;
INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden');
INSERT INTO municipality_role (role_name, municipality_code) VALUES ('$ROLE', '101');
INSERT INTO consumer_system VALUES ('KOMM', 'Kommunalt fagsystem', 'municipal');
INSERT INTO service (code, name, platform, billing) VALUES ('CPR', 'CPR-servicen', 'serviceplatform', 'per_call');
INSERT INTO tariff VALUES ('CPR', '2000-01-01', 0.50);
INSERT INTO billing_year (year) VALUES (2021);
INSERT INTO population VALUES (2021, '101', 1000), (2021, '147', 1000);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, amount) VALUES
	('e21-sa', 2021, 'support_admin', 'expected', NULL, 2000.00),
	('e21-cpr', 2021, 'data_consumption', 'expected', 'CPR', 100.00),
	('a21-cpr', 2021, 'data_consumption', 'actual', 'CPR', 90.00),
	('a21-sa', 2021, 'support_admin', 'actual', NULL, 2100.00);
SELECT announce_price(2021);
BEGIN;	-- a batch is loaded by the transaction that registers it (S11)
INSERT INTO usage_batch VALUES ('b21');
INSERT INTO usage VALUES ('2021-01-01', '101', 'KOMM', 'CPR', 10, 'b21');
COMMIT;
SELECT close_year(2021);
SQL

is "$(q "SELECT string_agg(route::text || ' ' || amount, ', ' ORDER BY entry_key)
		  FROM afregning.cost_line WHERE entry_key LIKE '%cpr'")" \
	"municipality 90.00, municipality 100.00" "0.1.0 fixed the per-call entries on route municipality"

is "$(q "ALTER EXTENSION afregning UPDATE TO '0.2.0'")" "" "ALTER EXTENSION afregning UPDATE TO '0.2.0' with a closed year"

is "$(q "SELECT string_agg(route::text || ' ' || amount, ', ' ORDER BY entry_key)
		  FROM afregning.cost_line WHERE entry_key LIKE '%cpr'")" \
	"municipality 90.00, municipality 100.00" "the ledger is not rewritten by the upgrade"

# actual data consumption: municipality = the charge 5.00; per_call = 90.00
is "$(q "SELECT string_agg(basis || ' ' || route || ' ' || amount, ', ' ORDER BY basis, route)
		  FROM afregning.cost_breakdown WHERE cost_type = 'data_consumption'")" \
	"actual municipality 5.00, actual per_call 90.00, expected per_call 100.00" \
	"cost_breakdown reads 0.1.0's per-call cost lines as route per_call, apart from the charges"

# charged 5.00 against the actual cost 90.00: 5.00 - 90.00 = -85.00
is "$(q "SELECT concat_ws('|', year, service_code, expected_cost, cost, calls, charged, difference)
		  FROM afregning.per_call_recovery")" "2021|CPR|100.00|90.00|10|5.00|-85.00" \
	"per_call_recovery after the upgrade: 100.00 expected, 90.00 actual against 5.00 charged"

is "$(q "SELECT concat_ws('|', from_year, to_year, actual_pool, billed, difference, posted)
		  FROM afregning.carry_forward")" "2021|2023|2100.00|2000.00|100.00|100.00" \
	"carry_forward after the upgrade: one posting of 100.00"

errs=""
for v in $(q "SELECT relname FROM pg_class WHERE relnamespace = 'afregning'::regnamespace AND relkind = 'v' ORDER BY 1"); do
	out=$(q_as "SELECT count(*) FROM afregning.$v") || errs="$errs $v: $out"
done
is "$errs" "" "a municipality login role reads every view after the upgrade, each in a fresh connection"
