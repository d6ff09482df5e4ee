-- The public SQL interface as a contract (SPEC §6). Names of tables, views,
-- functions and columns are asserted in test/pgtap/schema.sql; this file
-- asserts what those lists do not state: function signatures and labels,
-- view column types, and how views are secured and granted.
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

-- every view runs with the reader's rights, so row-level security applies
SELECT c.relname AS view_without_security_invoker
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false);

-- the types BI tools see (SPEC §6): money numeric(14,2), codes and names
-- varchar(n), counts bigint or integer, enum values varchar
SELECT c.relname AS view, a.attname AS column_name,
	   pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
 ORDER BY c.relname, a.attnum;

-- no view column is untyped text, an enum or numeric without precision
SELECT c.relname AS view, a.attname AS column_name,
	   pg_catalog.format_type(a.atttypid, a.atttypmod) AS vague_type
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
 WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
   AND (t.typtype = 'e' OR a.atttypid = 'text'::regtype
		OR (a.atttypid IN ('numeric'::regtype, 'varchar'::regtype) AND a.atttypmod < 0));

-- every role reads every view (SPEC §6)
SELECT c.relname AS view, r.rolname AS role_without_select
  FROM pg_catalog.pg_class c
 CROSS JOIN pg_catalog.pg_roles r
 WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
   AND r.rolname IN ('afregning_admin', 'afregning_reader', 'afregning_municipality')
   AND NOT pg_catalog.has_table_privilege(r.oid, c.oid, 'SELECT');
