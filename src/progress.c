/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Progress of a settlement step while it runs.
 *
 * A close of a large year or a year of direct billing runs for seconds in
 * one statement.  report_phase() says what the step is doing: a NOTICE per
 * phase with its rows and the time since the step began, and the same text
 * as this backend's activity in pg_stat_activity, where another session
 * can read it (through afregning.live_phase(), which shows only texts that
 * carry the afregning prefix).
 *
 * The step's label and start are kept per backend in static memory:
 * progress_begin() (called when a step's run is logged) sets them, and
 * report_phase() measures from them.  A phase reported outside a begun
 * step measures from the start of the current statement.
 *
 * reraise() raises an error from its parts: the run log re-raises a failed
 * step's error after recording it, with the original SQLSTATE, message,
 * DETAIL and HINT, so that the caller (e.g. pg_cron) sees the step fail.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "progress.h"

/* what a backend's activity text starts with while a step reports */
#define PROGRESS_PREFIX "afregning: "

#define LABEL_LEN 128
#define PHASE_LEN 128

static char step_label[LABEL_LEN] = "";

/* afregning.progress: whether a phase is also said as a NOTICE */
static bool progress_notices = true;

void
progress_define(void)
{
	DefineCustomBoolVariable("afregning.progress",
							 "Reports each phase of a settlement step as a NOTICE.",
							 "The phase is shown in pg_stat_activity and the run log either way.",
							 &progress_notices,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}
static TimestampTz step_start = 0;
static char step_phase[PHASE_LEN] = "";

/* Copy a text argument into a fixed buffer, clipped at a character boundary. */
static void
copy_clipped(char *dst, size_t size, const char *src)
{
	int			len = pg_mbcliplen(src, strlen(src), size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * Seconds elapsed since start, to one decimal, e.g. "0.8".  Display only:
 * the arithmetic is on integer microseconds.
 */
static void
format_elapsed(char *buf, size_t size, TimestampTz start)
{
	int64		usec = GetCurrentTimestamp() - start;
	int64		tenths;

	if (usec < 0)
		usec = 0;
	tenths = (usec + 50000) / 100000;
	snprintf(buf, size, INT64_FORMAT ".%d", tenths / 10, (int) (tenths % 10));
}

/*
 * progress_begin(label text) RETURNS void
 *
 * A step starts: remember its label (e.g. "close_year 2021") and the time,
 * and show it as this backend's activity.
 */
PG_FUNCTION_INFO_V1(progress_begin);

Datum
progress_begin(PG_FUNCTION_ARGS)
{
	char	   *label = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char		activity[LABEL_LEN + 32];

	copy_clipped(step_label, sizeof(step_label), label);
	step_start = GetCurrentTimestamp();
	step_phase[0] = '\0';
	snprintf(activity, sizeof(activity), PROGRESS_PREFIX "%s: started", step_label);
	pgstat_report_activity(STATE_RUNNING, activity);
	PG_RETURN_VOID();
}

/*
 * report_phase(job text, phase text, rows bigint) RETURNS void
 *
 * NOTICE "close_year 2021: rating usage, 12345 rows, 0.8 s" (rows left out
 * when null; "1 row") and the same text as this backend's activity.  The label and
 * the clock are those of the step begun for this job; for a job that was
 * not begun, the job's name and the start of the current statement.
 */
PG_FUNCTION_INFO_V1(report_phase);

Datum
report_phase(PG_FUNCTION_ARGS)
{
	char	   *job;
	char	   *phase;
	char		job_label[LABEL_LEN];
	const char *label;
	TimestampTz start;
	char		elapsed[32];
	char		rows[40];
	char		activity[LABEL_LEN + PHASE_LEN + 96];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("job and phase of a progress report must not be null")));
	job = text_to_cstring(PG_GETARG_TEXT_PP(0));
	phase = text_to_cstring(PG_GETARG_TEXT_PP(1));

	/* the begun step's label is "<job> <period>" */
	if (step_label[0] != '\0' &&
		strncmp(step_label, job, strlen(job)) == 0 &&
		(step_label[strlen(job)] == ' ' || step_label[strlen(job)] == '\0'))
	{
		label = step_label;
		start = step_start;
	}
	else
	{
		copy_clipped(job_label, sizeof(job_label), job);
		label = job_label;
		start = GetCurrentStatementStartTimestamp();
	}

	copy_clipped(step_phase, sizeof(step_phase), phase);
	format_elapsed(elapsed, sizeof(elapsed), start);
	if (PG_ARGISNULL(2))
		rows[0] = '\0';
	else
		snprintf(rows, sizeof(rows), ", " INT64_FORMAT " %s", PG_GETARG_INT64(2),
				 PG_GETARG_INT64(2) == 1 ? "row" : "rows");

	if (progress_notices)
		ereport(NOTICE,
				(errmsg("%s: %s%s, %s s", label, step_phase, rows, elapsed)));

	snprintf(activity, sizeof(activity), PROGRESS_PREFIX "%s: %s%s, %s s",
			 label, step_phase, rows, elapsed);
	pgstat_report_activity(STATE_RUNNING, activity);
	PG_RETURN_VOID();
}

/*
 * progress_phase() RETURNS text: the last phase reported in this backend
 * since the step began, or null.
 */
PG_FUNCTION_INFO_V1(progress_phase);

Datum
progress_phase(PG_FUNCTION_ARGS)
{
	if (step_phase[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(step_phase));
}

/*
 * progress_end() RETURNS void: the step is over; forget its label.
 */
PG_FUNCTION_INFO_V1(progress_end);

Datum
progress_end(PG_FUNCTION_ARGS)
{
	step_label[0] = '\0';
	step_phase[0] = '\0';
	step_start = 0;
	PG_RETURN_VOID();
}

/*
 * outer_role() RETURNS name: the current user outside any SECURITY DEFINER
 * function, i.e. the session user or the role it SET ROLE to.  The run log
 * records it from inside its own SECURITY DEFINER functions, where
 * current_user is the owner.
 */
PG_FUNCTION_INFO_V1(outer_role);

Datum
outer_role(PG_FUNCTION_ARGS)
{
	Name		result = (Name) palloc0(NAMEDATALEN);

	namestrcpy(result, GetUserNameFromId(GetOuterUserId(), false));
	PG_RETURN_NAME(result);
}

/*
 * reraise(sqlstate text, message text, detail text, hint text) RETURNS void
 *
 * Raises the error described by its parts; detail and hint may be null.
 * A SQLSTATE that is malformed or not of an error class (00, 01, 02) is
 * refused with 22023.
 */
PG_FUNCTION_INFO_V1(reraise);

Datum
reraise(PG_FUNCTION_ARGS)
{
	char	   *state;
	char	   *message;
	char	   *detail = NULL;
	char	   *hint = NULL;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sqlstate and message of an error must not be null")));
	state = text_to_cstring(PG_GETARG_TEXT_PP(0));
	message = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
		detail = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!PG_ARGISNULL(3))
		hint = text_to_cstring(PG_GETARG_TEXT_PP(3));

	if (strlen(state) != 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid SQLSTATE \"%s\"", state)));
	for (i = 0; i < 5; i++)
		if (!((state[i] >= '0' && state[i] <= '9') || (state[i] >= 'A' && state[i] <= 'Z')))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid SQLSTATE \"%s\"", state)));
	if (state[0] == '0' && (state[1] == '0' || state[1] == '1' || state[1] == '2'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("SQLSTATE \"%s\" is not an error", state)));

	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])),
			 errmsg_internal("%s", message),
			 detail && detail[0] ? errdetail_internal("%s", detail) : 0,
			 hint && hint[0] ? errhint("%s", hint) : 0));
	PG_RETURN_VOID();
}
