#!/usr/bin/env bash
# CREATE EXTENSION refuses what it cannot trust (SPEC §7).
#
#   a) A schema prepared by someone else.  A role "intruder" with CREATE on
#      the database creates schema afregning and in it an overload of
#      graduated_charge taking integer (which a call with an integer
#      argument would prefer over ours taking bigint) that makes intruder a
#      superuser and records that it ran.  CREATE EXTENSION by a superuser
#      must fail (42501: the schema is not the installer's), intruder must
#      stay rolsuper = f and its function must never have run.  The same
#      with a schema the superuser owns but intruder has filled (55000: not
#      empty), and with an empty one in which intruder may create (42501).
#      Once the schema is gone, the install goes through, settles
#      a year, and still nothing of intruder's ran.
#   b) Group roles found in the cluster: afregning_reader with LOGIN, with
#      CREATEROLE, with BYPASSRLS, as a member of pg_read_all_data, or with
#      a member but without the mark of an afregning install, is refused
#      (0P000) and nothing is installed; with the mark it is accepted.
#
# Every statement runs in a fresh connection of its role.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names a database this script creates and drops. Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

BIN="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}"
PSQL="$BIN/psql"
[ -x "$PSQL" ] || PSQL=psql
DB=${AF_SCENARIO_DB:-scenario_install_guard}
TMP=$(mktemp -d)
note=""

restore_roles() {
	"$PSQL" -X -q -d postgres >/dev/null 2>&1 <<SQL
ALTER ROLE afregning_reader NOLOGIN NOCREATEROLE NOBYPASSRLS;
REVOKE pg_read_all_data FROM afregning_reader;
REVOKE afregning_reader FROM intruder;
COMMENT ON ROLE afregning_reader IS $note;
SQL
}
cleanup() {
	restore_roles
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
	"$PSQL" -X -q -d postgres -c "DROP ROLE IF EXISTS intruder" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# SQL as ROLE in a fresh connection: "ok" or the SQLSTATE of the error
try_as() {	# try_as ROLE SQL
	local err
	err=$("$PSQL" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -U "$1" -d "$DB" -c "$2" 2>&1 >/dev/null)
	if [ $? -eq 0 ]; then
		echo ok
	else
		printf '%s\n' "$err" | sed -n 's/.*ERROR:  \([0-9A-Z]\{5\}\).*/\1/p' | head -1
	fi
}
su() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "${2:-$DB}" -c "$1"; }
fresh_db() {
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
		-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" >/dev/null
}
installed() {	# "extension schema" of what exists in the database
	su "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'afregning') || ' ' ||
			   (SELECT count(*) FROM pg_namespace WHERE nspname = 'afregning')"
}

echo "1..21"

# ---- a) a schema prepared by someone else ------------------------------------

fresh_db
"$PSQL" -X -q -d postgres -c "DROP ROLE IF EXISTS intruder" >/dev/null 2>&1
su "CREATE ROLE intruder LOGIN" postgres
su "GRANT CREATE ON DATABASE \"$DB\" TO intruder"
# the trap records every call in a table of intruder's own, readable by all
TRAP="
CREATE FUNCTION afregning.graduated_charge(citizens integer, from_citizens integer[], rates numeric[])
RETURNS numeric LANGUAGE plpgsql AS \$\$
BEGIN
	INSERT INTO intruder.calls VALUES (current_user);
	EXECUTE 'ALTER ROLE intruder SUPERUSER';
	RETURN 0;
END
\$\$;
GRANT EXECUTE ON FUNCTION afregning.graduated_charge(integer, integer[], numeric[]) TO PUBLIC"
is "$(try_as intruder "CREATE SCHEMA intruder; CREATE TABLE intruder.calls (by_role name);
	GRANT USAGE ON SCHEMA intruder TO PUBLIC; GRANT INSERT, SELECT ON intruder.calls TO PUBLIC")" ok \
	"intruder prepares a table to record calls"
is "$(try_as intruder "CREATE SCHEMA afregning; GRANT USAGE ON SCHEMA afregning TO PUBLIC; $TRAP")" ok \
	"intruder creates schema afregning with an overload of graduated_charge(integer, ...)"
is "$(try_as "$PGUSER" "CREATE EXTENSION afregning")" 42501 \
	"CREATE EXTENSION into intruder's schema afregning is refused with 42501"
is "$(su "SELECT count(*) FROM pg_extension WHERE extname = 'afregning'")" 0 "... nothing is installed"
is "$(su "SELECT rolsuper FROM pg_roles WHERE rolname = 'intruder'")" f "... intruder is no superuser"
is "$(su "SELECT count(*) FROM intruder.calls")" 0 "... and its function never ran"

# the superuser's own schema, filled by intruder
is "$(try_as "$PGUSER" "DROP SCHEMA afregning CASCADE; CREATE SCHEMA afregning;
	GRANT USAGE, CREATE ON SCHEMA afregning TO intruder")" ok "a superuser's schema afregning, open to intruder"
is "$(try_as intruder "$TRAP")" ok "intruder leaves the overload in it"
is "$(try_as "$PGUSER" "CREATE EXTENSION afregning")" 55000 \
	"CREATE EXTENSION into a schema that is not empty is refused with 55000"
is "$(su "SELECT count(*) FROM pg_extension WHERE extname = 'afregning'")" 0 "... nothing is installed"

# empty, but open to intruder for later
is "$(try_as "$PGUSER" "DROP SCHEMA afregning CASCADE; CREATE SCHEMA afregning;
	GRANT CREATE ON SCHEMA afregning TO intruder")" ok "an empty schema afregning in which intruder may create"
is "$(try_as "$PGUSER" "CREATE EXTENSION afregning") $(installed)" "42501 0 1" \
	"CREATE EXTENSION into a schema others may create in is refused with 42501, nothing installed"

# cleared away, the install goes through and settles a year: nothing of intruder's runs
su "DROP SCHEMA afregning CASCADE" >/dev/null
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$TMP/settle.log" 2>&1 <<'SQL'
CREATE EXTENSION afregning;
SET search_path = afregning;
INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden');
INSERT INTO billing_year (year) VALUES (2021);
INSERT INTO population VALUES (2021, '101', 200000);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES ('e', 2021, 'support_admin', 'expected', 200000.00);
SELECT announce_price(2021);
SQL
is "$?" 0 "with the schema gone, CREATE EXTENSION and announce_price(2021) succeed"
# infrastructure: 150,000 × 25.00 + 50,000 × 12.50 = 3,750,000.00 + 625,000.00
is "$(su "SELECT amount FROM afregning.schedule_charge WHERE year = 2021")" 4375000.00 \
	"the graduated infrastructure charge is ours: 4,375,000.00"
is "$(su "SELECT rolsuper FROM pg_roles WHERE rolname = 'intruder'") $(su "SELECT count(*) FROM intruder.calls")" "f 0" \
	"intruder is still no superuser and its function never ran"

# ---- b) group roles found in the cluster ---------------------------------------

note=$(su "SELECT coalesce(quote_literal(shobj_description(oid, 'pg_authid')), 'NULL') FROM pg_roles
		   WHERE rolname = 'afregning_reader'" postgres)
check_role() {	# check_role SETUP DESCRIPTION
	fresh_db
	su "$1" postgres >/dev/null
	is "$(try_as "$PGUSER" "CREATE EXTENSION afregning") $(installed)" "0P000 0 0" "$2"
	restore_roles
}
check_role "ALTER ROLE afregning_reader LOGIN" \
	"afregning_reader found with LOGIN: CREATE EXTENSION is refused (0P000), nothing installed"
check_role "ALTER ROLE afregning_reader CREATEROLE" \
	"afregning_reader found with CREATEROLE: refused (0P000), nothing installed"
check_role "ALTER ROLE afregning_reader BYPASSRLS" \
	"afregning_reader found with BYPASSRLS: refused (0P000), nothing installed"
check_role "GRANT pg_read_all_data TO afregning_reader" \
	"afregning_reader found as a member of pg_read_all_data: refused (0P000), nothing installed"
check_role "COMMENT ON ROLE afregning_reader IS NULL; GRANT afregning_reader TO intruder" \
	"afregning_reader found with a member and without the mark: refused (0P000), nothing installed"

fresh_db
su "COMMENT ON ROLE afregning_reader IS 'afregning group role'; GRANT afregning_reader TO intruder" postgres >/dev/null
is "$(try_as "$PGUSER" "CREATE EXTENSION afregning") $(installed)" "ok 1 1" \
	"with the mark, after its members were checked, the role is accepted"
