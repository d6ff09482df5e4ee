#!/usr/bin/env bash
# Edits of the seeded charge schedule survive pg_dump / pg_restore.
# CREATE EXTENSION seeds the infrastructure price (25.00 kr per citizen,
# 12.50 above 150,000, from 2020), and a restore runs CREATE EXTENSION
# again: the dump must carry the administrator's version of that schedule
# and the restore must put it in place of the seed, without doubling it.
#
# Three databases, each dumped and restored with the documented restore
# command (restore mode):
#   edited:    rate of the first tier 30.00, a tier from 300,000 at 6.25 added
#   deleted:   the tier from 150,000 deleted (one tier of 25.00 left)
#   untouched: the seed as CREATE EXTENSION made it
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# is the prefix of the databases this script creates. Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

BIN="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}"
PREFIX=${AF_SCENARIO_DB:-scenario_seed_dump}
TMP=$(mktemp -d)
DBS="edited deleted untouched"

drop_databases() {
	for d in $DBS; do
		for s in "" _restored; do
			"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"${PREFIX}_$d$s\" WITH (FORCE)" >/dev/null 2>&1
		done
	done
}
trap 'drop_databases; rm -rf "$TMP"' EXIT

q() {		# q DB SQL: one value
	"$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
schedule() {	# schedule DB: the charge schedule as one line
	q "$1" "SELECT string_agg(schedule_code || ' ' || valid_from_year || ' ' || from_citizens || ' ' || rate || ' ' || seeded,
							  ', ' ORDER BY schedule_code, valid_from_year, from_citizens)
			  FROM afregning.charge_schedule"
}
dump_restore() {	# dump_restore NAME: dump NAME and restore it into NAME_restored
	local db="${PREFIX}_$1"
	"$BIN/pg_dump" -Fc -d "$db" -f "$TMP/$1.dump" 2>"$TMP/$1.dump.log" || return 1
	PGOPTIONS='-c afregning.restore_mode=on' \
		"$BIN/pg_restore" -d "${db}_restored" "$TMP/$1.dump" >"$TMP/$1.restore.log" 2>&1
	local rc=$?
	[ $rc -ne 0 ] && sed 's/^/# /' "$TMP/$1.restore.log"
	return $rc
}

echo "1..12"
drop_databases
for d in $DBS; do
	"$BIN/psql" -X -q -d postgres -c "CREATE DATABASE \"${PREFIX}_$d\"" \
		-c "CREATE DATABASE \"${PREFIX}_${d}_restored\"" >/dev/null
	q "${PREFIX}_$d" "CREATE EXTENSION afregning" >/dev/null
done

# ---- edited: a changed rate and an added tier --------------------------
q "${PREFIX}_edited" "UPDATE afregning.charge_schedule SET rate = 30.00
					  WHERE schedule_code = 'infrastructure' AND valid_from_year = 2020 AND from_citizens = 0;
					  INSERT INTO afregning.charge_schedule (schedule_code, valid_from_year, from_citizens, rate)
					  VALUES ('infrastructure', 2020, 300000, 6.25)" >/dev/null
ok $? "the administrator edits the seeded schedule: 30.00 from 0, a tier of 6.25 from 300,000"
want="infrastructure 2020 0 30.00 false, infrastructure 2020 150000 12.50 false, infrastructure 2020 300000 6.25 false"
got=$(schedule "${PREFIX}_edited")
[ "$got" = "$want" ]; ok $? "the edited schedule is user data as a whole ($got)"
dump_restore edited; ok $? "pg_dump and pg_restore (restore mode) of the edited database, without errors"
got=$(schedule "${PREFIX}_edited_restored")
[ "$got" = "$want" ]; ok $? "the edited rate 30.00 and the added tier survive, the seed is not doubled ($got)"

# The restored schedule is the one that bills: 400,000 citizens pay
# 150,000 × 30.00 + 150,000 × 12.50 + 100,000 × 6.25
# = 4,500,000.00 + 1,875,000.00 + 625,000.00 = 7,000,000.00.
got=$(q "${PREFIX}_edited_restored" "SET search_path = afregning;
	INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden');
	INSERT INTO billing_year (year) VALUES (2021);
	INSERT INTO population VALUES (2021, '101', 400000);
	INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
	VALUES ('E21', 2021, 'support_admin', 'expected', 400000.00);
	SELECT announce_price(2021);
	SELECT amount FROM schedule_charge WHERE year = 2021 AND schedule_code = 'infrastructure'" | tail -1)
[ "$got" = "7000000.00" ]; ok $? "the restored schedule bills 400,000 citizens 7000000.00 (got $got)"

# ---- deleted: a seeded tier removed -------------------------------------
q "${PREFIX}_deleted" "DELETE FROM afregning.charge_schedule
					   WHERE schedule_code = 'infrastructure' AND valid_from_year = 2020 AND from_citizens = 150000" >/dev/null
ok $? "the administrator deletes the seeded tier from 150,000"
want="infrastructure 2020 0 25.00 false"
dump_restore deleted; ok $? "pg_dump and pg_restore of the database with a deleted tier, without errors"
got=$(schedule "${PREFIX}_deleted_restored")
[ "$got" = "$want" ]; ok $? "the deleted tier stays deleted after the restore ($got)"

# ---- untouched: the seed only ---------------------------------------------
want="infrastructure 2020 0 25.00 true, infrastructure 2020 150000 12.50 true"
got=$(schedule "${PREFIX}_untouched")
[ "$got" = "$want" ]; ok $? "an untouched seed is marked seeded ($got)"
dump_restore untouched; ok $? "pg_dump and pg_restore of the untouched database, without errors"
got=$(schedule "${PREFIX}_untouched_restored")
[ "$got" = "$want" ]; ok $? "the untouched seed comes back once, still seeded ($got)"
rows=$("$BIN/pg_restore" -f - --data-only -t charge_schedule "$TMP/untouched.dump" 2>/dev/null |
	sed -n '/^COPY afregning.charge_schedule/,/^\\\.$/p' | grep -vc '^COPY\|^\\\.$')
[ "$rows" = "0" ]; ok $? "the dump of the untouched database holds no charge schedule row ($rows)"

[ "$failed" -eq 0 ]
