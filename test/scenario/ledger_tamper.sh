#!/usr/bin/env bash
# The ledger is provably unchanged (SPEC §7): approvals name who announced
# and who closed; verify_ledger() is clean after settling, after a dump
# and restore, and after settling on in the restored database; it names
# the row when an amount is edited in the dump file, or changed or deleted
# by a superuser with the triggers off; an upgrade from 0.1.0 links the
# rows it finds.  Each role statement runs in a fresh connection as that
# role.
#
# Fixture (as in dump_restore.sh): municipalities 101 and 147 of 1,000
# citizens; 2021 expected support_admin 2,000.00 and operations 300.01 on
# ORG (ESDH 150.01 to the pool, KY 150.00 to KY): pool 2,150.01 / 2,000
# citizens = 1.075005 -> 1.08; actual support_admin 1,900.00.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names the database this script creates (and "<name>_clean", "<name>_edited",
# "<name>_upgrade").
# Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

BIN="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}"
DB=${AF_SCENARIO_DB:-scenario_ledger_tamper}
DB_CLEAN="${DB}_clean"
DB_EDITED="${DB}_edited"
TMP=$(mktemp -d)

drop_all() {
	for d in "$DB" "$DB_CLEAN" "$DB_EDITED" "${DB}_upgrade"; do
		"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1
	done
	for r in lt_admin lt_login lt_reader lt_town; do
		"$BIN/psql" -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
	done
}
trap 'drop_all; rm -rf "$TMP"' EXIT

# values are read from psql's output: the settlement steps' phase NOTICEs stay out
export PGOPTIONS="${PGOPTIONS:-} -c afregning.progress=off"

q() {		# q DB SQL: one value, as the cluster's superuser
	"$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1
}
as() {		# as ROLE DB SQL: one value, in a fresh connection of that login role
	"$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -U "$1" -d "$2" -c "$3" 2>&1
}
verdict() {	# verdict DB [ROLE]: what verify_ledger() says, in one line
	local sql="SELECT coalesce((SELECT ledger || ' ' || row_key || ': ' || problem FROM afregning.verify_ledger()), 'clean')"
	if [ $# -gt 1 ]; then as "$2" "$1" "$sql"; else q "$1" "$sql"; fi
}
restore() {	# restore DB FILE: the documented restore of a plain dump
	PGOPTIONS='-c afregning.restore_mode=on' \
		"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$2" >"$TMP/restore.log" 2>&1
	local rc=$?
	[ $rc -ne 0 ] && sed 's/^/# /' "$TMP/restore.log" | tail -5
	return $rc
}

echo "1..21"
drop_all
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL || exit 1
CREATE DATABASE "$DB";
CREATE DATABASE "$DB_CLEAN";
CREATE DATABASE "$DB_EDITED";
SQL

cat >"$TMP/fixture.sql" <<'SQL'
CREATE EXTENSION afregning;
/* an administrator who logs in directly, one who logs in as himself and
 * acts as the administrator role, a dashboard reader and a municipality */
CREATE ROLE lt_admin LOGIN IN ROLE afregning_admin;
CREATE ROLE lt_login LOGIN IN ROLE lt_admin;
CREATE ROLE lt_reader LOGIN IN ROLE afregning_reader;
CREATE ROLE lt_town LOGIN IN ROLE afregning_municipality;
SET search_path = afregning;
INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden');
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal'), ('KY', 'KY', 'monopoly_break');
INSERT INTO service VALUES ('CPR', 'CPR', 'serviceplatform', 'ordered', 'per_call'),
	('ORG', 'Organisation', 'support_system', 'ordered', 'pool');
INSERT INTO service_order VALUES ('ORG', 'KY', 1), ('ORG', 'ESDH', 1);
INSERT INTO tariff VALUES ('CPR', '2021-01-01', 0.1500), ('ORG', '2021-01-01', 0.0100);
INSERT INTO billing_year (year) VALUES (2021), (2022), (2023);
INSERT INTO population SELECT y, m, 1000 FROM generate_series(2021, 2023) y, unnest(ARRAY['101', '147']) m;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, amount) VALUES
	('e21', 2021, 'support_admin', 'expected', NULL, 2000.00),
	('o21', 2021, 'operations', 'expected', 'ORG', 300.01),
	('a21', 2021, 'support_admin', 'actual', NULL, 1900.00),
	('e22', 2022, 'support_admin', 'expected', NULL, 2200.00);
-- a batch is loaded by the transaction that registers it (S11)
BEGIN;
INSERT INTO usage_batch (batch_key) VALUES ('u2021');
INSERT INTO usage VALUES
	('2021-01-01', '101', 'ESDH', 'CPR', 40, 'u2021'), ('2021-02-01', '147', 'KY', 'ORG', 150, 'u2021');
COMMIT;
SQL
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$TMP/fixture.sql" >"$TMP/fixture.log" 2>&1
rc=$?
[ $rc -ne 0 ] && sed 's/^/# /' "$TMP/fixture.log"

# ---- approvals: who announced, who closed ---------------------------------
price=$(PGOPTIONS="$PGOPTIONS -c role=lt_admin" as lt_login "$DB" "SELECT afregning.announce_price(2021)")
is "$price" "1.08" "lt_login, acting as lt_admin, announces 2021 at 1.08"
diff=$(as lt_admin "$DB" "SELECT afregning.close_year(2021)")
is "$(q "$DB" "SELECT string_agg(step || ':' || session_user_name || '/' || current_user_name, ' ' ORDER BY step)
			   FROM afregning.approval_log WHERE year = 2021")" \
	"announce:lt_login/lt_admin close:lt_admin/lt_admin" \
	"the approvals name the login role and the role it acted as (close: $diff)"
# the waterfall text and its SHA-256, computed here outside the database
waterfall=$(q "$DB" "SELECT line || '|' || item || '|' || coalesce(amount::text, '')
					   FROM afregning.explain_price(2021) ORDER BY line")
is "$(q "$DB" "SELECT waterfall_sha256 FROM afregning.approval_log WHERE year = 2021 AND step = 'announce'")" \
	"$(printf '%s' "$waterfall" | sha256sum | cut -d' ' -f1)" \
	"the announcement's hash is the SHA-256 of the waterfall text (sha256sum)"
is "$(sed -n '12p' <<<"$waterfall")" "12|price|1.08" "the waterfall that was hashed holds the price 1.08"
is "$(as lt_reader "$DB" "SELECT count(*) FROM afregning.approval_log")" "2" "the reader reads approval_log"

# ---- verify_ledger() after settling ----------------------------------------
is "$(verdict "$DB" lt_reader)" "clean" "after announce and close, the reader's verify_ledger() is clean"
is "$(as lt_town "$DB" "SELECT * FROM afregning.verify_ledger()" | grep -o 'permission denied' | head -1)" \
	"permission denied" "a municipality role may not run verify_ledger()"

# ---- dump and restore --------------------------------------------------------
"$BIN/pg_dump" -Fp -d "$DB" -f "$TMP/db.sql" 2>"$TMP/dump.log"
is "$?" "0" "pg_dump to plain SQL"
links=$(q "$DB" "SELECT count(*) || ':' || md5(string_agg(l::text, '|' ORDER BY l.link_id)) FROM afregning.ledger_link l")

restore "$DB_CLEAN" "$TMP/db.sql"
is "$?" "0" "the unedited dump restores in restore mode without errors"
is "$(q "$DB_CLEAN" "SELECT count(*) || ':' || md5(string_agg(l::text, '|' ORDER BY l.link_id)) FROM afregning.ledger_link l")" \
	"$links" "the restored chain is the dumped chain, link for link (no row linked twice)"
is "$(verdict "$DB_CLEAN")" "clean" "the restored database verifies clean"

# settling on: the chain continues from the restored head
q "$DB_CLEAN" "SELECT afregning.announce_price(2022)" >/dev/null
is "$(verdict "$DB_CLEAN")/$(q "$DB_CLEAN" "SELECT max(link_id) - count(*) FROM afregning.ledger_link")" \
	"clean/0" "after announcing 2022 in the restored database the chain verifies, still without a gap"

# a row deleted with the triggers off, committed
q "$DB_CLEAN" "ALTER TABLE afregning.installment DISABLE TRIGGER ALL;
			   DELETE FROM afregning.installment WHERE year = 2022 AND municipality_code = '147' AND quarter = 2;
			   ALTER TABLE afregning.installment ENABLE ALWAYS TRIGGER installment_append_only" >/dev/null
is "$(verdict "$DB_CLEAN" lt_reader)" "installment (2022,147,2): row missing" \
	"an installment deleted by a superuser with the triggers off is found"

# ---- an amount edited in the dump file -------------------------------------
# the COPY line of cost entry a21: 1900.00 becomes 1990.00
# (service and system null: the cost_line of a21 has its route there)
sed 's/^\(a21\t2021\tsupport_admin\tactual\t\\N\t\\N\t\)1900\.00\t/\11990.00\t/' "$TMP/db.sql" >"$TMP/edited.sql"
is "$(diff "$TMP/db.sql" "$TMP/edited.sql" | grep -c '^>')" "1" "the dump file is edited on one line"
restore "$DB_EDITED" "$TMP/edited.sql"
is "$?" "0" "the edited dump restores without errors"
is "$(q "$DB_EDITED" "SELECT amount FROM afregning.cost_entry WHERE entry_key = 'a21'")/$(verdict "$DB_EDITED" lt_reader)" \
	"1990.00/cost_entry a21: row changed" "verify_ledger() names the cost entry edited in the dump"

# ---- an amount changed by a superuser with the triggers off ---------------
# 999 citizens × 1.08 = 1,078.92, so the invoice still passes its CHECK
q "$DB" "ALTER TABLE afregning.buffet_invoice DISABLE TRIGGER ALL;
		 UPDATE afregning.buffet_invoice SET citizens = 999, amount = 1078.92
		  WHERE year = 2021 AND municipality_code = '147';
		 ALTER TABLE afregning.buffet_invoice ENABLE TRIGGER ALL" >/dev/null
is "$(verdict "$DB" lt_admin)" "buffet_invoice (2021,147): row changed" \
	"a buffet invoice changed by a superuser with the triggers off is found"

# ---- upgrade from 0.1.0 with settled years ----------------------------------
# the same fixture on 0.1.0, 2021 announced and closed, 2022 announced;
# ALTER EXTENSION links the rows found, once, and numbers the invoices
sed 's/^CREATE EXTENSION afregning;/CREATE EXTENSION afregning VERSION '"'"'0.1.0'"'"';/; /^CREATE ROLE/d' \
	"$TMP/fixture.sql" >"$TMP/fixture01.sql"
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"${DB}_upgrade\"" >/dev/null
{ "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "${DB}_upgrade" -f "$TMP/fixture01.sql" &&
  "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "${DB}_upgrade" \
	-c "SELECT afregning.announce_price(2021), afregning.close_year(2021), afregning.announce_price(2022)" \
	-c "ALTER EXTENSION afregning UPDATE TO '0.2.0'"; } >"$TMP/upgrade.log" 2>&1
rc=$?
[ $rc -ne 0 ] && sed 's/^/# /' "$TMP/upgrade.log"
is "$rc" "0" "a settled 0.1.0 database upgrades to 0.2.0"
# rows: cost_entry 4, usage_batch 1, price_announcement 2, buffet_invoice 4,
# installment 16, schedule_charge 4, cost_line 4 (2021) + 1 (2022),
# usage_line 2, direct_charge_line 1, year_close 1, carry_posting 1 = 41
is "$(q "${DB}_upgrade" "SELECT count(*) || ' links, 1..' || max(link_id) FROM afregning.ledger_link")/$(verdict "${DB}_upgrade")" \
	"41 links, 1..41/clean" "the upgrade links every existing ledger row once, and it verifies"
is "$(q "${DB}_upgrade" "SELECT string_agg(year || ':' || municipality_code || '=' || invoice_number, ' ' ORDER BY year, municipality_code)
						  FROM afregning.buffet_invoice")" \
	"2021:101=1 2021:147=2 2022:101=1 2022:147=2" "the upgrade numbers the invoices of announced years in code order"
# 2022 has no actual entry: closing it is forced (S16)
q "${DB}_upgrade" "SELECT afregning.close_year(2022, force => true)" >/dev/null
is "$(verdict "${DB}_upgrade")/$(q "${DB}_upgrade" "SELECT count(*) FROM afregning.approval WHERE year = 2022")" \
	"clean/1" "after the upgrade, closing 2022 links on and records its approval"

exit 0
