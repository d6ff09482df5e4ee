/*
 * pg_temp.plan_of(query): the plan of a query as text, run with ANALYZE so
 * that the workers a parallel plan launched show; costs and times left
 * out.  Included by pgTAP suites with \ir ../lib/plan_of.sql.
 */
CREATE FUNCTION pg_temp.plan_of(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
	result text := '';
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query
	LOOP
		result := result || line || E'\n';
	END LOOP;
	RETURN result;
END
$$;
