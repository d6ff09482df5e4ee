#!/usr/bin/env bash
# Upgrade in place: a database made with the released 0.1.0 moves to the
# current version with ALTER EXTENSION afregning UPDATE, and nothing is lost.
#
#   old: CREATE EXTENSION afregning VERSION '0.1.0', the demo data of the 98
#        municipalities, 2019-2021 settled and some months billed; then
#        ALTER EXTENSION afregning UPDATE.
#   new: CREATE EXTENSION afregning (the current version), nothing else.
#   twin: the current version with the same data, settled the same way.
#
#   a) every contract view returns the same rows after the update as before
#      (on the columns 0.1.0 had; where SPEC changed a meaning, the rows the
#      change concerns are named and left out), and usage keeps its calls per
#      key;
#   b) the updated catalog equals the fresh install's: functions with their
#      signatures, volatility, security, settings, privileges and comments;
#      tables, columns, constraints, indexes, triggers, policies, views,
#      types and the extension's dump registration;
#   c) settling 2022 after the update posts the same lines as the twin.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster on which the
# current build is installed (with sql/extension/afregning--0.1.0.sql);
# AF_SCENARIO_DB names the databases' prefix. Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

BIN="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}"
PSQL="$BIN/psql"
PREFIX=${AF_SCENARIO_DB:-scenario_upgrade}
OLD="${PREFIX}_old"
NEW="${PREFIX}_new"
TWIN="${PREFIX}_twin"
DATA=$(cd "$(dirname "$0")/../data" && pwd)
TMP=$(mktemp -d)

cleanup() {
	for d in "$OLD" "$NEW" "$TWIN"; do
		"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
run() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$1" "${@:2}" >"$TMP/psql.log" 2>&1 || { sed 's/^/# /' "$TMP/psql.log"; return 1; }; }

# The same settlement on both versions, as the demo does it.
settle_demo() {
	run "$1" -f "$DATA/settle_demo.sql"
}

load_demo() {
	run "$1" -v datadir="$DATA" -f "$DATA/demo.sql"
}

# 2022 after the update: the same budget, costs and usage on both sides.
# 101 København calls CPR 1,000 times in January and 10 times in February;
# 147 Frederiksberg 4 times in March.
settle_2022() {
	run "$1" <<'SQL'
SET search_path = afregning, pg_catalog;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('u-2022-support', 2022, 'support_admin', 'expected', 30000000.00),
	   ('u-2022-support-actual', 2022, 'support_admin', 'actual', 29876543.21);
BEGIN;    -- a batch is loaded by the transaction that registers it (S11)
INSERT INTO usage_batch (batch_key) VALUES ('u-2022-q1');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key)
SELECT u.period, u.municipality_code, u.system_code, u.service_code, u.calls, 'u-2022-q1'
  FROM (SELECT DISTINCT ON (x.service_code) x.system_code, x.service_code
		  FROM usage x WHERE x.service_code = 'CPR' ORDER BY x.service_code, x.system_code) s
 CROSS JOIN LATERAL (VALUES (date '2022-01-01', '101', s.system_code, s.service_code, 1000::bigint),
							(date '2022-02-01', '101', s.system_code, s.service_code, 10::bigint),
							(date '2022-03-01', '147', s.system_code, s.service_code, 4::bigint))
		AS u(period, municipality_code, system_code, service_code, calls);
COMMIT;
SELECT announce_price(2022);
SELECT count(*) FROM bill_direct(date '2022-01-01');
SELECT close_year(2022);
SQL
}

# ---- fixtures ------------------------------------------------------------
for d in "$OLD" "$NEW" "$TWIN"; do
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" -c "CREATE DATABASE \"$d\"" >/dev/null
done

run "$OLD" -c "CREATE EXTENSION afregning VERSION '0.1.0'" && load_demo "$OLD" && settle_demo "$OLD"
ok $? "0.1.0 installs, loads the demo and settles 2019-2021"

# ---- a) views before and after -------------------------------------------
# Each contract view on the columns 0.1.0 had, as sorted text rows.
# Left out where SPEC changed a meaning: cost entries of data_consumption on
# a per-call service take route per_call instead of municipality (SPEC §3);
# system charges leave direct_charge, which is monthly, for system_charge.
declare -A VIEW=(
	[buffet_price]="year, status, expected_pool, carry_in, pool, citizens, price, announced_at"
	[municipality_invoice]="year, municipality_code, municipality_name, citizens, buffet_amount, direct_amount, infrastructure_amount, total"
	[cost_breakdown]="year, cost_type, basis, route, amount"
	[carry_forward]="DISTINCT from_year, to_year, actual_pool, carry_in, billed, difference, closed_at"
	[direct_charge]="month, payer_kind, payer_code, service_code, calls, amount"
	[system_charge]="year, system_code, system_name, system_class, cost_type, basis, amount"
	[cost_allocation]="entry_key, year, cost_type, basis, route, payer_code, amount"
	[routed_cost]="year, cost_type, basis, route, payer_code, amount"
	[price_history]="year, status, price, previous_price, change, change_percent"
	[cost_type_comparison]="year, cost_type, route, expected, actual, difference"
	[cpr_intensity]="year, municipality_code, municipality_name, citizens, calls, calls_per_1000_citizens, amount"
	[open_carry_forward]="from_year, to_year, difference, to_year_status"
)
declare -A WHERE=(
	[cost_breakdown]="route::text NOT IN ('municipality', 'per_call')"
	[cost_allocation]="route::text NOT IN ('municipality', 'per_call')"
	[routed_cost]="route::text NOT IN ('municipality', 'per_call')"
	[cost_type_comparison]="route::text NOT IN ('municipality', 'per_call')"
	[direct_charge]="payer_kind = 'municipality'"
	[system_charge]="cost_type <> 'data_consumption'"
)
# SPEC §6 gave view columns definite types: 0 became 0.00 (numeric(14,2)).
# Values are compared, not their scale: trailing decimal zeros are cut.
numbers() { sed -E 's/([0-9])\.0+([,)])/\1\2/g; s/(\.[0-9]*[1-9])0+([,)])/\1\2/g'; }

snapshot() {	# snapshot DB DIR: one file of sorted rows per view, and usage per key
	mkdir -p "$2"
	for v in "${!VIEW[@]}"; do
		q "$1" "SELECT ROW(${VIEW[$v]#DISTINCT })::text AS r
				  FROM (SELECT ${VIEW[$v]} FROM afregning.$v WHERE ${WHERE[$v]:-true}) x
				 ORDER BY 1" | numbers >"$2/$v"
	done
	q "$1" "SELECT concat_ws(' ', period, municipality_code, system_code, service_code, sum(calls))
			  FROM afregning.usage GROUP BY period, municipality_code, system_code, service_code
			 ORDER BY 1" >"$2/usage"
}
snapshot "$OLD" "$TMP/before"
run "$OLD" -c "ALTER EXTENSION afregning UPDATE"
ok $? "ALTER EXTENSION afregning UPDATE from 0.1.0"
version=$(q "$OLD" "SELECT extversion FROM pg_extension WHERE extname = 'afregning'")
want=$(q postgres "SELECT default_version FROM pg_available_extensions WHERE name = 'afregning'")
[ "$version" = "$want" ]
ok $? "the database is at the current version ($version = $want)"
snapshot "$OLD" "$TMP/after"
diff -r "$TMP/before" "$TMP/after" >"$TMP/views.diff"
rc=$?
[ $rc -ne 0 ] && head -30 "$TMP/views.diff" | sed 's/^/# /'
ok $rc "every contract view and the calls per usage key are unchanged ($(cat "$TMP"/before/* | wc -l) rows)"
rows=$(find "$TMP/before" -type f ! -name usage -size +0 | wc -l)
[ "$rows" -ge 10 ] && [ -s "$TMP/before/usage" ]
ok $? "the comparison compares rows: $rows of 12 views hold some, and usage"
# the live sums of 0.2.0 start from the usage 0.1.0 left
q "$OLD" "SELECT concat_ws(' ', period, municipality_code, system_code, service_code, calls)
		  FROM afregning.usage_summary ORDER BY 1" >"$TMP/summary"
diff "$TMP/before/usage" "$TMP/summary" >"$TMP/summary.diff"
rc=$?
[ $rc -ne 0 ] && head -10 "$TMP/summary.diff" | sed 's/^/# /'
ok $rc "usage_summary holds the calls per key of the usage 0.1.0 left ($(wc -l <"$TMP/summary") keys)"

# ---- b) the catalog of the updated database ------------------------------
# Everything the extension defines, as text that names no OID; usage
# partitions are made by billing years, not by the install, and left out.
catalog() {
	q "$1" "
SET search_path = afregning, pg_catalog;
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'afregning'),
ns AS (SELECT 'afregning'::regnamespace AS oid),
rel AS (SELECT c.* FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT c.relispartition
		   AND c.relname !~ '^usage_y[0-9]{4}')
SELECT * FROM (
SELECT 'function ' || p.oid::regprocedure::text || ' -> ' || pg_get_function_result(p.oid)
	   || ' kind=' || p.prokind::text || ' vol=' || p.provolatile::text || ' strict=' || p.proisstrict
	   || ' par=' || p.proparallel::text || ' secdef=' || p.prosecdef || ' lang=' || l.lanname
	   || ' config=' || coalesce(p.proconfig::text, '') || ' acl=' || coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(p.proacl) x), '')
	   || ' args=' || pg_get_function_arguments(p.oid)
	   || ' body=' || md5(coalesce(p.prosrc, '') || coalesce(p.probin, ''))
	   || ' comment=' || coalesce(md5(obj_description(p.oid, 'pg_proc')), 'none')
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'relation ' || c.relname || ' kind=' || c.relkind::text || ' rls=' || c.relrowsecurity
	   || ' force=' || c.relforcerowsecurity || ' options=' || coalesce(c.reloptions::text, '')
	   || ' acl=' || coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(c.relacl) x), '') || ' comment=' || coalesce(md5(obj_description(c.oid, 'pg_class')), 'none')
	   || CASE WHEN c.relkind::text = 'v' THEN ' view=' || md5(pg_get_viewdef(c.oid)) ELSE '' END
  FROM rel c
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	   || ' #' || a.attnum || ' notnull=' || a.attnotnull || ' identity=' || a.attidentity::text
	   || ' collation=' || coalesce(NULLIF(a.attcollation, 0)::regcollation::text, '')
	   || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
	   || ' acl=' || coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(a.attacl) x), '') || ' comment=' || coalesce(md5(col_description(c.oid, a.attnum)), 'none')
  FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
UNION ALL
SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
	   || ' valid=' || k.convalidated || ' deferrable=' || k.condeferrable
  FROM pg_constraint k JOIN rel c ON c.oid = k.conrelid
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN rel c ON c.oid = i.indrelid
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
  FROM pg_trigger t JOIN rel c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
UNION ALL
SELECT 'policy ' || p.tablename || '.' || p.policyname || ' ' || p.permissive || ' ' || p.roles::text
	   || ' ' || p.cmd || ' using=' || coalesce(p.qual, '') || ' check=' || coalesce(p.with_check, '')
  FROM pg_policies p WHERE p.schemaname = 'afregning'
UNION ALL
SELECT 'type ' || t.typname || ' ' || t.typtype::text || ' '
	   || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
	   || ' comment=' || coalesce(md5(obj_description(t.oid, 'pg_type')), 'none')
  FROM pg_type t WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typtype::text IN ('e', 'd', 'b')
   AND t.typname !~ '^_?usage_y[0-9]{4}$'
UNION ALL
SELECT 'event trigger ' || e.evtname || ' ' || e.evtevent || ' ' || e.evtenabled::text || ' '
	   || e.evtfoid::regproc::text || ' ' || coalesce(e.evttags::text, '')
  FROM pg_event_trigger e
UNION ALL
SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
  FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = (SELECT oid FROM ext) AND d.deptype = 'e'
UNION ALL
SELECT 'dump ' || c.relname || ' ' || coalesce(x.cond, '')
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond), pg_class c
 WHERE e.extname = 'afregning' AND c.oid = x.cfg
UNION ALL
SELECT 'schema acl=' || coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(n.nspacl) x), '') FROM pg_namespace n WHERE n.oid = (SELECT oid FROM ns)
) x(line) ORDER BY 1"
}
run "$NEW" -c "CREATE EXTENSION afregning"
ok $? "a fresh install of the current version"
catalog "$OLD" >"$TMP/catalog.updated" && catalog "$NEW" >"$TMP/catalog.fresh"
ok $? "the catalogs of both databases can be read"
diff "$TMP/catalog.fresh" "$TMP/catalog.updated" >"$TMP/catalog.diff"
rc=$?
[ $rc -ne 0 ] && head -60 "$TMP/catalog.diff" | sed 's/^/# /'
ok $rc "the updated catalog equals a fresh install ($(wc -l <"$TMP/catalog.fresh") objects and properties)"
grep -q '^function announce_price' "$TMP/catalog.fresh" && grep -q '^policy ' "$TMP/catalog.fresh"
ok $? "the catalog comparison sees functions and policies"

# ---- c) settling 2022 after the update ------------------------------------
run "$TWIN" -c "CREATE EXTENSION afregning" && load_demo "$TWIN" && settle_demo "$TWIN"
ok $? "the twin on the current version loads the demo and settles 2019-2021"
settle_2022 "$OLD"
ok $? "the updated database settles 2022"
settle_2022 "$TWIN"
ok $? "the twin settles 2022"
lines() {
	q "$1" "
SET search_path = afregning, pg_catalog;
SELECT 'invoice ' || municipality_code || ' ' || citizens || ' ' || price || ' ' || amount FROM buffet_invoice WHERE year = 2022
UNION ALL SELECT 'installment ' || municipality_code || ' ' || quarter || ' ' || amount FROM installment WHERE year = 2022
UNION ALL SELECT 'price ' || concat_ws(' ', expected_pool, carry_in, pool, citizens, price) FROM price_announcement WHERE year = 2022
UNION ALL SELECT 'cost ' || concat_ws(' ', entry_key, basis, route, payer_code, amount) FROM cost_line WHERE year = 2022
UNION ALL SELECT 'usage ' || concat_ws(' ', route, payer_code, service_code, period, tariff_from, unit_price, calls, amount) FROM usage_line WHERE year = 2022
UNION ALL SELECT 'direct ' || concat_ws(' ', month, municipality_code, service_code, unit_price, calls, amount, kind) FROM direct_charge_line WHERE month >= date '2022-01-01'
UNION ALL SELECT 'close ' || concat_ws(' ', actual_pool, carry_in, billed, difference, to_year) FROM year_close WHERE year = 2022
UNION ALL SELECT 'carry ' || concat_ws(' ', from_year, to_year, amount) FROM carry_posting WHERE from_year = 2022
UNION ALL SELECT 'charge ' || concat_ws(' ', municipality_code, schedule_code, citizens, amount) FROM schedule_charge WHERE year = 2022
ORDER BY 1"
}
lines "$OLD" >"$TMP/lines.updated"
lines "$TWIN" >"$TMP/lines.twin"
diff "$TMP/lines.twin" "$TMP/lines.updated" >"$TMP/lines.diff"
rc=$?
[ $rc -ne 0 ] && head -40 "$TMP/lines.diff" | sed 's/^/# /'
ok $rc "2022 posts the same lines after the update as on a fresh install ($(wc -l <"$TMP/lines.twin") lines)"
# 98 invoices, 392 installments, 98 infrastructure charges, the price, the
# close and its carry, two cost lines, three CPR months
[ "$(grep -c '^invoice ' "$TMP/lines.twin")" -eq 98 ] && [ "$(grep -c '^direct ' "$TMP/lines.twin")" -eq 3 ]
ok $? "2022 was really settled: 98 invoices and three months of CPR charges"

echo "1..$n"
[ $failed -eq 0 ]
