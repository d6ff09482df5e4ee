-- The public SQL interface as a contract (SPEC §6): names, signatures and
-- labels of every function, and the columns of every table and view.
-- A change here is a change of the contract and needs an upgrade script.
-- names print the same whatever role runs the test ("$user" is in the default path)
SET search_path = afregning, public;

SELECT p.proname AS function,
	   pg_catalog.pg_get_function_identity_arguments(p.oid) AS arguments,
	   pg_catalog.pg_get_function_result(p.oid) AS result,
	   CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility,
	   CASE WHEN p.proisstrict THEN 'strict' ELSE '' END AS strict,
	   CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END AS parallel,
	   CASE WHEN p.prosecdef THEN 'definer' ELSE '' END AS security
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'afregning'::regnamespace
   AND p.prokind IN ('f', 'a', 'w')
   AND pg_catalog.pg_get_function_result(p.oid) NOT IN ('trigger', 'event_trigger')
 ORDER BY 1, 2;

SELECT c.relname AS relation,
	   CASE c.relkind WHEN 'v' THEN 'view' WHEN 'p' THEN 'partitioned' ELSE 'table' END AS kind,
	   pg_catalog.string_agg(a.attname, ', ' ORDER BY a.attnum) AS columns
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'afregning'::regnamespace
   AND c.relkind IN ('r', 'v', 'p')
   AND NOT c.relispartition
 GROUP BY c.relname, c.relkind
 ORDER BY 2, 1;

-- every view runs with the reader's rights, so row-level security applies
SELECT c.relname AS view_without_security_invoker
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false);
