#!/usr/bin/env bash
# What each role may do (SPEC §7), tried in a fresh connection per
# statement as a login role: a member of afregning_admin, of
# afregning_reader, a municipality role mapped to 101, and a login role
# with no membership.  The expected outcome of every statement is the
# matrix in docs/roles.md (yes / yes (SQLSTATE) / no = 42501); every
# table, view, function and procedure of the schema must have a row
# there.  Each statement runs in a transaction that is rolled back.
#
# Then, also in fresh connections:
#   - a municipality role dropped and created again under the same name
#     reads nothing; mapping an unknown role is refused (42704);
#   - a non-superuser cannot switch on afregning.restore_mode or
#     afregning.allow_drop (42501), nor sneak restore mode in through
#     PGOPTIONS before the library is loaded.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names a database this script creates and drops. Prints TAP.
#
# Fixture: municipalities 101, 147; system KOMM (municipal); CPR per
# call 0.50, SAG pool; 2021: 1,000 + 500 citizens, expected 1,500.00 ->
# price 1.00, announced; actual 1,400.00; CPR calls Jan 101 10, Feb 147 4.
# 2022 open: same citizens, expected 3,000.00.

set -u

. "$(dirname "$0")/../lib/tap.sh"

BIN="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}"
PSQL="$BIN/psql"
[ -x "$PSQL" ] || PSQL=psql
DB=${AF_SCENARIO_DB:-scenario_roles}
TMP=$(mktemp -d)
chmod 755 "$TMP"
ROLES="rt_admin rt_reader rt_kbh rt_none"

cleanup() {
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
	for r in $ROLES; do "$PSQL" -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
	rm -rf "$TMP"
}
trap cleanup EXIT

su() {		# one value, as the superuser
	"$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"
}
# run SQL as ROLE in a fresh connection inside a rolled-back transaction:
# prints "ok" or the SQLSTATE of the first error
try_as() {	# try_as ROLE SQL [PGOPTIONS]
	local err
	err=$(printf 'BEGIN;\n%s;\nROLLBACK;\n' "$2" |
		PGOPTIONS="${3:-}" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate \
			-U "$1" -d "$DB" 2>&1 >/dev/null)
	if [ $? -eq 0 ]; then
		echo ok
	else
		printf '%s\n' "$err" | sed -n 's/.*ERROR:  \([0-9A-Z]\{5\}\).*/\1/p' | head -1
	fi
}
# a value read as ROLE in a fresh connection
value_as() {	# value_as ROLE SQL
	"$PSQL" -X -q -At -v ON_ERROR_STOP=1 -U "$1" -d "$DB" -c "$2" 2>&1
}

# ---- the matrix ------------------------------------------------------------

here=$(cd "$(dirname "$0")" && pwd)
MATRIX=
for f in "${AF_ROOT:-/nonexistent}/docs/roles.md" "$here/../../docs/roles.md" "$PWD/docs/roles.md"; do
	[ -f "$f" ] && { MATRIX=$f; break; }
done
if [ -z "$MATRIX" ]; then
	echo "1..1"
	echo "not ok 1 - the matrix docs/roles.md is found (run from the source tree)"
	exit 1
fi
sed -n '/<!-- matrix:start -->/,/<!-- matrix:end -->/p' "$MATRIX" |
	grep '^| ' | tail -n +2 | grep -v '^|---' >"$TMP/matrix"
rows=$(wc -l <"$TMP/matrix")
# per row: 4 role checks (n/a rows: none); plus the coverage checks and the rest
checks=$(awk -F'|' '{ if ($4 !~ /n\/a/) c += 4 } END { print c }' "$TMP/matrix")
echo "1..$((checks + 3 + 12))"

"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" >/dev/null || exit 1
for r in $ROLES; do "$PSQL" -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$TMP/fixture.log" 2>&1 <<'SQL' || { cat "$TMP/fixture.log"; exit 1; }
CREATE EXTENSION afregning;
SET search_path = afregning;
CREATE ROLE rt_admin LOGIN IN ROLE afregning_admin;
CREATE ROLE rt_reader LOGIN IN ROLE afregning_reader;
CREATE ROLE rt_kbh LOGIN IN ROLE afregning_municipality;
CREATE ROLE rt_none LOGIN;
INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden');
INSERT INTO municipality_role (role_name, municipality_code) VALUES ('rt_kbh', '101');
INSERT INTO consumer_system VALUES ('KOMM', 'Kommunalt sagssystem', 'municipal');
INSERT INTO service VALUES ('CPR', 'CPR', 'serviceplatform', 'ordered', 'per_call'),
	('SAG', 'Sag', 'serviceplatform', 'ordered', 'pool');
INSERT INTO service_order VALUES ('SAG', 'KOMM', 1);
INSERT INTO tariff VALUES ('CPR', '2020-01-01', 0.5000), ('SAG', '2020-01-01', 0.0100);
INSERT INTO billing_year (year) VALUES (2021), (2022);
INSERT INTO population VALUES (2021, '101', 1000), (2021, '147', 500), (2022, '101', 1000), (2022, '147', 500);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('e21', 2021, 'support_admin', 'expected', 1500.00),
	('a21', 2021, 'support_admin', 'actual', 1400.00),
	('e22', 2022, 'support_admin', 'expected', 3000.00);
-- a batch's rows load in the transaction that registers it (S11)
BEGIN;
INSERT INTO usage_batch (batch_key) VALUES ('b21');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'KOMM', 'CPR', 10, 'b21'), ('2021-02-01', '147', 'KOMM', 'CPR', 4, 'b21');
COMMIT;
SELECT announce_price(2021);
SQL

# a digest of every row of every table, to show the roles changed nothing
digest() {
	su "SELECT md5(string_agg(t, ';' ORDER BY t)) FROM (
		SELECT c.relname || '=' || (xpath('/row/d/text()',
			query_to_xml(format('SELECT md5(coalesce(string_agg(x::text, ''|'' ORDER BY x::text), '''')) AS d FROM afregning.%I x',
								c.relname), false, false, '')))[1]::text AS t
		  FROM pg_class c WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'r') s"
}
before=$(digest)

# every relation, function and procedure of the schema has a row in the matrix
su "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'afregning'::regnamespace
	  AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition ORDER BY 1" >"$TMP/relations"
su "SET search_path = afregning; SELECT format('%s %s(%s)', CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
			p.proname, pg_catalog.oidvectortypes(p.proargtypes))
	  FROM pg_proc p WHERE p.pronamespace = 'afregning'::regnamespace AND p.prokind IN ('f', 'a', 'w', 'p')
	   AND coalesce(pg_catalog.pg_get_function_result(p.oid), '') NOT IN ('trigger', 'event_trigger') ORDER BY 1" |
	grep -v '^SET$' >"$TMP/functions"
awk -F'|' '{ gsub(/^ +| +$/, "", $2); print $2 }' "$TMP/matrix" >"$TMP/objects"
missing=$(awk 'FNR == NR { have[$0] = 1; next }
			  !(("table " $0) in have) && !(("view " $0) in have) { printf " %s", $0 }' \
	"$TMP/objects" "$TMP/relations")
is "${missing:-none}" "none" "every table and view of the schema has a row in the matrix ($(wc -l <"$TMP/relations") relations)"
missing=$(awk 'FNR == NR { have[$0] = 1; next } !($0 in have) { printf " %s", $0 }' \
	"$TMP/objects" "$TMP/functions")
is "${missing:-none}" "none" "every function and procedure of the schema has a row in the matrix ($(wc -l <"$TMP/functions") routines)"

# The four roles in parallel.  Each statement gets a connection of its own
# (\connect starts a new backend), runs as one query in a transaction
# that is rolled back, and its outcome is read from psql's ERROR and
# LAST_ERROR_SQLSTATE.  One awk pass writes each role's script and the
# outcomes it expects (few processes: forks are the slow part).
awk -F'|' -v tmp="$TMP" -v roles="$ROLES" '
	function trim(x) { gsub(/^ +| +$/, "", x); return x }
	BEGIN { nr = split(roles, role, " ") }
	{
		object = trim($2); sql = trim($3); gsub(/^`|`$/, "", sql); gsub(/;/, "\\;", sql)
		for (k = 1; k <= nr; k++) {
			want = trim($(3 + k))
			if (want == "n/a") continue
			if (want == "yes") expect = "ok"
			else if (want == "no") expect = "42501"
			else if (want ~ /^yes \(.....\)$/) expect = substr(want, 6, 5)
			else expect = "bad cell " want
			printf "%d\t%s\t%s: %s -> %s\n", NR, expect, role[k], object, want > (tmp "/expect." role[k])
			printf "\\connect - %s\nBEGIN \\; %s \\; ROLLBACK;\n", role[k], sql > (tmp "/script." role[k])
			printf "\\if :ERROR\n\\echo R %d :LAST_ERROR_SQLSTATE\n\\else\n\\echo R %d ok\n\\endif\n", NR, NR > (tmp "/script." role[k])
		}
	}' "$TMP/matrix"
for r in $ROLES; do
	"$PSQL" -X -q -At -U "$r" -d "$DB" -f "$TMP/script.$r" 2>"$TMP/err.$r" |
		sed -n 's/^R \([0-9][0-9]*\) \(.*\)$/\1\t\2/p' >"$TMP/result.$r" &
done
wait
for r in $ROLES; do
	awk -F'\t' -v n="$n" '
		FNR == NR { got[$1] = $2; next }
		{
			n++
			g = ($1 in got) ? got[$1] : "no result"
			if (g == $2) print "ok " n " - " $3
			else { print "not ok " n " - " $3; print "#   got:  " g; print "#   want: " $2 }
		}' "$TMP/result.$r" "$TMP/expect.$r"
	n=$((n + $(wc -l <"$TMP/expect.$r")))
done

is "$(digest)" "$before" "the roles changed nothing (every statement was rolled back)"

# ---- municipality mapping by role OID ---------------------------------------

is "$(value_as rt_kbh "SELECT string_agg(code, ',' ORDER BY code) FROM afregning.municipality")" "101" \
	"rt_kbh, mapped to 101, reads municipality 101"
is "$(value_as rt_kbh "SELECT afregning.my_municipalities()")" "{101}" "rt_kbh: my_municipalities() is {101}"
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "DROP ROLE rt_kbh" \
	-c "CREATE ROLE rt_kbh LOGIN IN ROLE afregning_municipality" >/dev/null
is "$(value_as rt_kbh "SELECT count(*) FROM afregning.municipality")" "0" \
	"rt_kbh dropped and created again reads no municipality"
is "$(value_as rt_kbh "SELECT afregning.my_municipalities()")" "{}" "... its my_municipalities() is empty"
is "$(value_as rt_kbh "SELECT count(*) FROM afregning.municipality_role")" "0" "... and it sees no mapping row"
is "$(value_as rt_kbh "SELECT count(*) FROM afregning.population")" "0" "... nor any population"
before=$(digest)
is "$(try_as rt_admin "INSERT INTO afregning.municipality_role (role_name, municipality_code) VALUES ('rt_nobody', '101')")" \
	"42704" "mapping a role that does not exist is refused with 42704"
is "$(digest)" "$before" "... and nothing changed"

# ---- the settings only a superuser may turn on -------------------------------

is "$(try_as rt_admin "SELECT afregning.restoring(); SET afregning.restore_mode = on")" "42501" \
	"a non-superuser cannot SET afregning.restore_mode (42501)"
is "$(try_as rt_admin "SELECT afregning.restoring(); SET afregning.allow_drop = on")" "42501" \
	"a non-superuser cannot SET afregning.allow_drop (42501)"
# set before the library is loaded, the value is a placeholder: discarded at load
is "$(try_as rt_admin "INSERT INTO afregning.cost_entry (entry_key, year, cost_type, basis, amount)
					   VALUES ('sneak', 2021, 'support_admin', 'expected', 1.00)" "-c afregning.restore_mode=on")" \
	"55000" "restore mode given in PGOPTIONS by a non-superuser does not count: 2021's budget stays locked (55000)"
is "$(PGOPTIONS="-c afregning.restore_mode=on" "$PSQL" -X -q -At -U rt_admin -d "$DB" \
		-c "SELECT afregning.restoring()" 2>/dev/null)" "f" \
	"... restoring() is false in such a session"
echo "# roles.sh took ${SECONDS} s"
