#!/usr/bin/env bash
# A real pg_cron run of a settlement (SPEC §7).
#
# pg_cron is preloaded by the test cluster and runs its jobs from
# cron.database_name (AF_CRON_DB). schedule_jobs() is called there: it
# registers the two standard jobs, idempotently. The settlement itself runs
# in a database of its own (AF_SCENARIO_DB) through
# cron.schedule_in_database, so no ledger row is left in the shared
# database. pg_cron 1.4 schedules by the minute: the test job runs at the
# next minute boundary, so this scenario waits up to a minute (the wait is
# bounded at 80 s and printed).
#
# Afterwards every job it scheduled is unscheduled, its database dropped,
# and any extension it had to create in the cron database dropped again.
#
# Fixture: service CPR per call at 0.50; January 2021 calls 101 1000,
# 147 100, 751 400 -> 500.00, 50.00, 200.00 = 750.00 in 3 lines.

set -u

PSQL="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}/psql"
[ -x "$PSQL" ] || PSQL=psql
CRON_DB=${AF_CRON_DB:-afregning_tap}
DB=${AF_SCENARIO_DB:-scenario_cron}
JOB=afregning-scenario-bill-direct
MAX_WAIT=80
created_cron=
created_afregning=

qc() { timeout 30 "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$CRON_DB" -c "$1"; }
qs() { timeout 30 "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

cleanup() {
	qc "SELECT cron.unschedule(jobid) FROM cron.job
		 WHERE jobname IN ('$JOB', 'afregning-bill-direct', 'afregning-preview-next-year')" >/dev/null 2>&1
	[ -n "$created_afregning" ] && qc "DROP EXTENSION afregning" >/dev/null 2>&1
	[ -n "$created_cron" ] && qc "DROP EXTENSION pg_cron" >/dev/null 2>&1
	PGOPTIONS='-c client_min_messages=warning' timeout 30 "$PSQL" -X -q -d postgres \
		-c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT

n=0
is() {		# is GOT WANT DESCRIPTION
	n=$((n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $n - $3"
	else
		echo "not ok $n - $3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

echo "1..15"

# ---- pg_cron in the cron database ------------------------------------------

is "$(timeout 30 "$PSQL" -X -At -d postgres -c "SHOW cron.database_name" 2>&1)" "$CRON_DB" \
	"pg_cron is preloaded and runs its jobs from $CRON_DB"
if [ "$(qc "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'")" = 0 ]; then
	qc "CREATE EXTENSION pg_cron" >/dev/null && created_cron=1
fi
if [ "$(qc "SELECT count(*) FROM pg_extension WHERE extname = 'afregning'")" = 0 ]; then
	qc "CREATE EXTENSION afregning" >/dev/null && created_afregning=1
fi

# ---- schedule_jobs() registers the standard jobs, once ------------------------

first=$(qc "SELECT string_agg(job_name || ' ' || schedule, ', ' ORDER BY job_name) FROM afregning.schedule_jobs()")
is "$first" "afregning-bill-direct 0 3 2 * *, afregning-preview-next-year 0 4 1 3 *" \
	"schedule_jobs() returns the two standard jobs"
JOBS="SELECT string_agg(jobid || ' ' || jobname || ' ' || schedule || ' ' || database || ' ' || active, ', ' ORDER BY jobname)
		FROM cron.job WHERE jobname LIKE 'afregning-%'"
registered=$(qc "$JOBS")
is "$(qc "SELECT string_agg(jobname || ' ' || schedule || ' ' || database || ' ' || active || ' '
						  || (username = current_user), ', ' ORDER BY jobname)
			FROM cron.job WHERE jobname LIKE 'afregning-%'")" \
	"afregning-bill-direct 0 3 2 * * $CRON_DB true true, afregning-preview-next-year 0 4 1 3 * $CRON_DB true true" \
	"both jobs are registered in cron.job, active, for this database and role"
qc "SELECT * FROM afregning.schedule_jobs()" >/dev/null
is "$(qc "$JOBS")" "$registered" "schedule_jobs() a second time leaves exactly the same two jobs"
# pg_cron runs in GMT: the commands compute their period in UTC explicitly
is "$(qc "SELECT count(*) FROM cron.job WHERE jobname LIKE 'afregning-%'
			AND command LIKE '%now() AT TIME ZONE ''UTC''%'")" "2" \
	"both commands compute their period from the UTC date"

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

# ---- the job runs under pg_cron ------------------------------------------------

COMMAND="SELECT afregning.run_settlement('bill_direct', '2021-01-01')"
jobid=$(qc "SELECT cron.schedule_in_database('$JOB', '* * * * *', \$c\$$COMMAND\$c\$, '$DB')")
started=$SECONDS
status=
while [ $((SECONDS - started)) -lt $MAX_WAIT ]; do
	status=$(qc "SELECT status FROM cron.job_run_details WHERE jobid = ${jobid:-0}
				  AND status IN ('succeeded', 'failed') ORDER BY runid LIMIT 1" 2>/dev/null)
	[ -n "$status" ] && break
	sleep 2
done
echo "# the job ran after $((SECONDS - started)) s"
# stop it before it can run again, so what follows is exact
qc "SELECT cron.unschedule(${jobid:-0})" >/dev/null
is "$status" "succeeded" "the scheduled job runs and pg_cron records it as succeeded"
is "$(qc "SELECT count(*) FROM cron.job_run_details WHERE jobid = ${jobid:-0}")" "1" \
	"it ran once before it was unscheduled"
is "$(qs "SELECT string_agg(job || ' ' || period || ' ' || status || ' ' || rows_posted || ' ' || result
				   || ' ' || (run_by = current_user) || ' ' || (finished_at IS NOT NULL), '; ' ORDER BY run_id)
			FROM afregning.settlement_run")" \
	"bill_direct 2021-01-01 succeeded 3 750.00 true true" \
	"the run is logged in settlement_run as succeeded, 3 lines of 750.00"
# 1000 × 0.50 = 500.00, 100 × 0.50 = 50.00, 400 × 0.50 = 200.00
is "$(qs "SELECT string_agg(municipality_code || ' ' || calls || ' ' || amount || ' ' || kind, ', '
				   ORDER BY municipality_code) FROM afregning.direct_charge_line")" \
	"101 1000 500.00 charge, 147 100 50.00 charge, 751 400 200.00 charge" \
	"the job posted January's per-call charges"

# ---- the same settlement again posts nothing ------------------------------------

is "$(qs "SELECT r.status || ' ' || r.rows_posted FROM afregning.run_settlement('bill_direct', '2021-01-01') r")" \
	"succeeded 0" "the same settlement run again by hand succeeds and posts nothing"
is "$(qs "SELECT count(*) || ' lines, ' || sum(amount) FROM afregning.direct_charge_line")" "3 lines, 750.00" \
	"January is posted exactly once"

# ---- the standard commands run as registered --------------------------------------

bill_cmd=$(qc "SELECT command FROM cron.job WHERE jobname = 'afregning-bill-direct'")
qs "$bill_cmd" >/dev/null
is "$(qs "SELECT status || ' ' || rows_posted || ' '
				 || (period = (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month')::date)
			FROM afregning.settlement_run ORDER BY run_id DESC LIMIT 1")" "succeeded 0 true" \
	"the standard direct-billing command settles the previous UTC month"
qs "INSERT INTO afregning.billing_year (year)
	VALUES (extract(year FROM now() AT TIME ZONE 'UTC')::integer + 1)" >/dev/null
preview_cmd=$(qc "SELECT command FROM cron.job WHERE jobname = 'afregning-preview-next-year'")
qs "$preview_cmd" >/dev/null
is "$(qs "SELECT job || ' ' || status || ' '
				 || (period = make_date(extract(year FROM now() AT TIME ZONE 'UTC')::integer + 1, 1, 1))
			FROM afregning.settlement_run ORDER BY run_id DESC LIMIT 1")" "preview_price succeeded true" \
	"the standard preview command previews next year's price"

# ---- clean up ---------------------------------------------------------------------

qc "SELECT cron.unschedule('afregning-bill-direct'), cron.unschedule('afregning-preview-next-year')" >/dev/null
is "$(qc "SELECT count(*) FROM cron.job WHERE jobname LIKE 'afregning-%'")" "0" \
	"every job the scenario scheduled is unscheduled"
is "$(qc "SELECT count(*) FROM afregning.settlement_run")" "0" \
	"nothing was settled in the shared cron database"
