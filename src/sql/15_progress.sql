
/* ------------------------------------------------------------------
 * Progress of a settlement step (src/progress.c)
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.progress_begin(p_label text)
RETURNS void
AS 'MODULE_PATHNAME', 'progress_begin'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.progress_begin(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.progress_begin(text) IS
	'Internal: a settlement step begins in this backend; remembers its label (e.g. close_year 2021) and start for report_phase()';

CREATE FUNCTION @extschema@.report_phase(p_job text, p_phase text, p_rows bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'report_phase'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.report_phase(text, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.report_phase(text, text, bigint) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.report_phase(text, text, bigint) IS
	'Progress of a running settlement step (fremdrift): a NOTICE such as "close_year 2021: rating usage, 12345 rows, 0.8 s" (rows left out when null; seconds since the step began) and the same text as the backend''s activity, shown live by settlement_status';

CREATE FUNCTION @extschema@.progress_phase()
RETURNS text
AS 'MODULE_PATHNAME', 'progress_phase'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.progress_phase() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.progress_phase() IS
	'Internal: the last phase reported in this backend since its step began, or null';

CREATE FUNCTION @extschema@.progress_end()
RETURNS void
AS 'MODULE_PATHNAME', 'progress_end'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.progress_end() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.progress_end() IS
	'Internal: the settlement step of this backend is over';

CREATE FUNCTION @extschema@.outer_role()
RETURNS name
AS 'MODULE_PATHNAME', 'outer_role'
LANGUAGE C STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.outer_role() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.outer_role() IS
	'Internal: the current user outside any SECURITY DEFINER function (the session user or the role it SET ROLE to), for the run log';

CREATE FUNCTION @extschema@.reraise(p_sqlstate text, p_message text, p_detail text, p_hint text)
RETURNS void
AS 'MODULE_PATHNAME', 'reraise'
LANGUAGE C VOLATILE PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.reraise(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.reraise(text, text, text, text) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.reraise(text, text, text, text) IS
	'Raises an error from its SQLSTATE, message, DETAIL and HINT (the last two may be null): run_settlement_step re-raises a failed step''s error after logging it; 22023 for a SQLSTATE that is malformed or not an error';
