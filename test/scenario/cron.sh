#!/usr/bin/env bash
# Real pg_cron runs of settlement steps (SPEC §7): one that succeeds and
# one that fails.
#
# pg_cron is preloaded by the test cluster and runs its jobs from
# cron.database_name (AF_CRON_DB). schedule_jobs() is called there: it
# registers the two standard jobs, idempotently, to run as a login role of
# afregning_admin (never as the superuser who set them up). The test jobs
# run in a database of their own (AF_SCENARIO_DB) through
# cron.schedule_in_database, so no ledger row is left in the shared
# database. pg_cron 1.4 schedules by the minute: both test jobs run at the
# same next minute boundary, so this scenario waits once, up to a minute
# (the wait is bounded at 80 s and printed).
#
# Afterwards every job it scheduled is unscheduled, its database and role
# dropped, and any extension it had to create in the cron database dropped
# again.
#
# Fixture: service CPR per call at 0.50; January 2021 calls 101 1000,
# 147 100, 751 400 -> 500.00, 50.00, 200.00 = 750.00 in 3 lines. 2021 is
# open (its price not announced), so closing it fails with 55000.

set -u

. "$(dirname "$0")/../lib/tap.sh"

PSQL="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}/psql"
[ -x "$PSQL" ] || PSQL=psql
CRON_DB=${AF_CRON_DB:-afregning_tap}
DB=${AF_SCENARIO_DB:-scenario_cron}
JOB_OK=afregning-scenario-bill-direct
JOB_FAIL=afregning-scenario-close-year
RUNNER=afregning_cron_runner		# the login the jobs run as
MAX_WAIT=80
created_cron=
created_afregning=

qc() { timeout 30 "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$CRON_DB" -c "$1"; }
qs() { timeout 30 "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
# a fresh connection as the runner role; errors with their SQLSTATE
qr() { PGUSER=$RUNNER PGOPTIONS='-c client_min_messages=warning' timeout 30 "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$1" -c "$2" 2>&1; }

cleanup() {
	qc "SELECT cron.unschedule(jobid) FROM cron.job
		 WHERE jobname IN ('$JOB_OK', '$JOB_FAIL', 'afregning-bill-direct', 'afregning-preview-next-year')" >/dev/null 2>&1
	[ -n "$created_afregning" ] && qc "DROP EXTENSION afregning" >/dev/null 2>&1
	[ -n "$created_cron" ] && qc "DROP EXTENSION pg_cron" >/dev/null 2>&1
	PGOPTIONS='-c client_min_messages=warning' timeout 30 "$PSQL" -X -q -d postgres \
		-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "DROP ROLE IF EXISTS $RUNNER" >/dev/null 2>&1
}
trap cleanup EXIT

echo "1..26"

# ---- pg_cron in the cron database ------------------------------------------

is "$(timeout 30 "$PSQL" -X -At -d postgres -c "SHOW cron.database_name" 2>&1)" "$CRON_DB" \
	"pg_cron is preloaded and runs its jobs from $CRON_DB"
if [ "$(qc "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'")" = 0 ]; then
	qc "CREATE EXTENSION pg_cron" >/dev/null && created_cron=1
fi
if [ "$(qc "SELECT count(*) FROM pg_extension WHERE extname = 'afregning'")" = 0 ]; then
	qc "CREATE EXTENSION afregning" >/dev/null && created_afregning=1
fi
qc "DROP ROLE IF EXISTS $RUNNER" >/dev/null 2>&1
qc "CREATE ROLE $RUNNER LOGIN IN ROLE afregning_admin" >/dev/null || exit 1

# ---- schedule_jobs() registers the standard jobs, as the admin login -----------

JOBS="SELECT coalesce(string_agg(jobid || ' ' || jobname || ' ' || schedule || ' ' || database || ' '
							   || username || ' ' || active, ', ' ORDER BY jobname), 'none')
		FROM cron.job WHERE jobname LIKE 'afregning-%'"

# the superuser who sets pg_cron up is not whom the jobs should run as
got=$(timeout 30 "$PSQL" -X -q -At -v VERBOSITY=verbose -d "$CRON_DB" -c "SELECT * FROM afregning.schedule_jobs()" 2>&1)
is "$(sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p' <<<"$got")" "22023" \
	"schedule_jobs() as a superuser is refused with 22023 (jobs must not run as a superuser)"
is "$(qc "$JOBS")" "none" "and registers nothing"

# a job of the standard name left by 0.1.0 under the superuser is moved, not doubled
qc "SELECT cron.schedule('afregning-bill-direct', '0 3 2 * *', 'SELECT 1')" >/dev/null

first=$(qc "SELECT string_agg(job_name || ' ' || schedule, ', ' ORDER BY job_name) FROM afregning.schedule_jobs('$RUNNER')")
is "$first" "afregning-bill-direct 0 3 2 * *, afregning-preview-next-year 0 4 1 3 *" \
	"schedule_jobs('$RUNNER') by a superuser returns the two standard jobs"
is "$(qc "SELECT string_agg(jobname || ' ' || schedule || ' ' || database || ' ' || username || ' ' || active,
						  ', ' ORDER BY jobname)
			FROM cron.job WHERE jobname LIKE 'afregning-%'")" \
	"afregning-bill-direct 0 3 2 * * $CRON_DB $RUNNER true, afregning-preview-next-year 0 4 1 3 * $CRON_DB $RUNNER true" \
	"both jobs are registered once, active, for this database, to run as $RUNNER (the superuser's old job is gone)"
registered=$(qc "$JOBS")
got=$(qr "$CRON_DB" "SELECT count(*) FROM afregning.schedule_jobs()")
is "$got" "2" "the admin login itself runs schedule_jobs() for itself"
is "$(qc "$JOBS")" "$registered" "which leaves exactly the same two jobs"
got=$(qr "$CRON_DB" "SELECT count(*) FROM afregning.schedule_jobs('afregning_admin')")
is "$(sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p' <<<"$got")" "42501" \
	"the admin login cannot schedule the jobs for another role (42501)"
got=$(timeout 30 "$PSQL" -X -q -At -v VERBOSITY=verbose -d "$CRON_DB" \
		-c "SELECT * FROM afregning.schedule_jobs('afregning_admin')" 2>&1)
is "$(sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p;s/^DETAIL:  //p' <<<"$got" | paste -sd' ')" \
	"22023 It cannot log in, and pg_cron starts each job as a login." \
	"a role that cannot log in is refused with 22023, saying why"
is "$(qc "$JOBS")" "$registered" "the refusals changed no job"
# pg_cron runs in GMT: the commands compute their period in UTC explicitly
is "$(qc "SELECT count(*) FROM cron.job WHERE jobname LIKE 'afregning-%'
			AND command LIKE 'CALL afregning.run_settlement_step(%now() AT TIME ZONE ''UTC''%'")" "2" \
	"both commands CALL run_settlement_step with a period computed from the UTC date"

# ---- a settlement database -----------------------------------------------------

PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL' || exit 1
CREATE EXTENSION afregning;
SET search_path = afregning;
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden'),
	('751', 'Aarhus', 'Midtjylland');
INSERT INTO consumer_system (code, name, class) VALUES ('KOMM', 'Kommunalt sagssystem', 'municipal');
INSERT INTO service (code, name, platform, funding, billing) VALUES
	('CPR', 'CPR-opslag', 'serviceplatform', 'ordered', 'per_call');
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES ('CPR', '2020-01-01', 0.50);
INSERT INTO billing_year (year) VALUES (2021);
-- a batch is loaded in the transaction that registers it (S11)
BEGIN;
INSERT INTO usage_batch (batch_key) VALUES ('u2021');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'KOMM', 'CPR', 1000, 'u2021'),
	('2021-01-01', '147', 'KOMM', 'CPR', 100, 'u2021'),
	('2021-01-01', '751', 'KOMM', 'CPR', 400, 'u2021');
COMMIT;
SQL

# ---- two jobs run under pg_cron at the same minute: one succeeds, one fails --------

ok_id=$(qc "SELECT cron.schedule_in_database('$JOB_OK', '* * * * *',
			\$c\$CALL afregning.run_settlement_step('bill_direct', '2021-01-01')\$c\$, '$DB', '$RUNNER')")
fail_id=$(qc "SELECT cron.schedule_in_database('$JOB_FAIL', '* * * * *',
			\$c\$CALL afregning.run_settlement_step('close_year', '2021-01-01')\$c\$, '$DB', '$RUNNER')")
started=$SECONDS
done_jobs=0
while [ $((SECONDS - started)) -lt $MAX_WAIT ]; do
	done_jobs=$(qc "SELECT count(DISTINCT jobid) FROM cron.job_run_details
					 WHERE jobid IN (${ok_id:-0}, ${fail_id:-0}) AND status IN ('succeeded', 'failed')" 2>/dev/null)
	[ "$done_jobs" = 2 ] && break
	sleep 2
done
echo "# the jobs ran after $((SECONDS - started)) s"
# stop them before they can run again, so what follows is exact
qc "SELECT cron.unschedule(${ok_id:-0}), cron.unschedule(${fail_id:-0})" >/dev/null

is "$(qc "SELECT status || ' ' || username FROM cron.job_run_details WHERE jobid = ${ok_id:-0} ORDER BY runid LIMIT 1")" \
	"succeeded $RUNNER" "the bill_direct job runs as $RUNNER and pg_cron records it as succeeded"
is "$(qc "SELECT status || ' ' || username FROM cron.job_run_details WHERE jobid = ${fail_id:-0} ORDER BY runid LIMIT 1")" \
	"failed $RUNNER" "the close_year job of an open year: pg_cron records it as failed"
is "$(qc "SELECT split_part(return_message, E'\n', 1) || ' / ' || split_part(return_message, E'\n', 2)
			FROM cron.job_run_details WHERE jobid = ${fail_id:-0} ORDER BY runid LIMIT 1")" \
	"ERROR: cannot close 2021 before its price is announced / HINT: Announce it first with afregning.announce_price(2021)." \
	"pg_cron keeps the step's own message and HINT"
is "$(qc "SELECT count(*) FROM cron.job_run_details WHERE jobid IN (${ok_id:-0}, ${fail_id:-0})")" "2" \
	"each ran once before it was unscheduled"
is "$(qs "SELECT string_agg(job || ' ' || period || ' ' || status || ' ' || rows_posted || ' ' || result || ' '
				   || run_by || ' ' || session_role || ' ' || acting_role || ' ' || entry || ' ' || (finished_at >= started_at),
				   '; ' ORDER BY run_id)
			FROM afregning.settlement_run WHERE status = 'succeeded'")" \
	"bill_direct 2021-01-01 succeeded 3 750.00 $RUNNER $RUNNER $RUNNER procedure true" \
	"the succeeded job is logged: 3 lines of 750.00, run by $RUNNER through the procedure"
is "$(qs "SELECT job || ' | ' || period || ' | ' || state || ' | ' || sqlstate || ' | ' || message || ' | '
				 || coalesce(detail, '-') || ' | ' || hint || ' | ' || who || ' | ' || rows_posted || ' | ' || (finished >= started)
			FROM afregning.settlement_status WHERE job = 'close_year'")" \
	"close_year | 2021-01-01 | failed | 55000 | cannot close 2021 before its price is announced | - | Announce it first with afregning.announce_price(2021). | $RUNNER | 0 | true" \
	"the failed job is logged in settlement_status with SQLSTATE 55000, its message and HINT"
# 1000 × 0.50 = 500.00, 100 × 0.50 = 50.00, 400 × 0.50 = 200.00
is "$(qs "SELECT string_agg(municipality_code || ' ' || calls || ' ' || amount || ' ' || kind, ', '
				   ORDER BY municipality_code) FROM afregning.direct_charge_line")" \
	"101 1000 500.00 charge, 147 100 50.00 charge, 751 400 200.00 charge" \
	"the job posted January's per-call charges"
is "$(qs "SELECT (SELECT status FROM afregning.billing_year WHERE year = 2021) || ' '
				 || (SELECT count(*) FROM afregning.usage_line) || ' ' || (SELECT count(*) FROM afregning.year_close)")" \
	"open 0 0" "the failed close posted nothing"

# ---- the same settlement again posts nothing ------------------------------------

got=$(qr "$DB" "CALL afregning.run_settlement_step('bill_direct', '2021-01-01')")
is "$got" "" "the same step CALLed again by the admin login succeeds"
is "$(qs "SELECT status || ' ' || rows_posted FROM afregning.settlement_run ORDER BY run_id DESC LIMIT 1")" \
	"succeeded 0" "and posts nothing"
is "$(qs "SELECT count(*) || ' lines, ' || sum(amount) FROM afregning.direct_charge_line")" "3 lines, 750.00" \
	"January is posted exactly once"

# ---- the standard commands run as registered --------------------------------------

bill_cmd=$(qc "SELECT command FROM cron.job WHERE jobname = 'afregning-bill-direct'")
qr "$DB" "$bill_cmd" >/dev/null
is "$(qs "SELECT status || ' ' || rows_posted || ' ' || entry || ' '
				 || (period = (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month')::date)
			FROM afregning.settlement_run ORDER BY run_id DESC LIMIT 1")" "succeeded 0 procedure true" \
	"the standard direct-billing command settles the previous UTC month"
qs "INSERT INTO afregning.billing_year (year)
	VALUES (extract(year FROM now() AT TIME ZONE 'UTC')::integer + 1)" >/dev/null
preview_cmd=$(qc "SELECT command FROM cron.job WHERE jobname = 'afregning-preview-next-year'")
qr "$DB" "$preview_cmd" >/dev/null
is "$(qs "SELECT job || ' ' || status || ' '
				 || (period = make_date(extract(year FROM now() AT TIME ZONE 'UTC')::integer + 1, 1, 1))
			FROM afregning.settlement_run ORDER BY run_id DESC LIMIT 1")" "preview_price succeeded true" \
	"the standard preview command previews next year's price"

# ---- clean up ---------------------------------------------------------------------

qc "SELECT cron.unschedule(jobid) FROM cron.job
	 WHERE jobname IN ('afregning-bill-direct', 'afregning-preview-next-year')" >/dev/null
is "$(qc "SELECT count(*) FROM cron.job WHERE jobname LIKE 'afregning-%'")" "0" \
	"every job the scenario scheduled is unscheduled"
is "$(qc "SELECT count(*) FROM afregning.settlement_run")" "0" \
	"nothing was settled in the shared cron database"
