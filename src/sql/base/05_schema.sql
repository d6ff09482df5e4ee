
/* ------------------------------------------------------------------
 * The schema must be ours and empty.
 *
 * CREATE EXTENSION uses a schema named afregning that already exists.
 * Anyone who created it beforehand could have left functions there
 * (an overload of one of ours taking an implicit cast, say) that the
 * settlement functions would then call with the installer's rights.
 * ------------------------------------------------------------------ */

DO $$
DECLARE
	owner_name name;
	first_object text;
BEGIN
	SELECT n.nspowner::regrole::name INTO owner_name
	  FROM pg_catalog.pg_namespace n WHERE n.nspname = '@extschema@';
	IF owner_name IS DISTINCT FROM current_user THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = format('schema %s is owned by %s, not by the installing role %s',
							 '@extschema@', owner_name, current_user),
			DETAIL = 'Another role could have left objects in it that the extension would run with the installer''s rights.',
			HINT = 'Drop the schema, or let CREATE EXTENSION create it.';
	END IF;
	SELECT format('%s %s', o.kind, o.name) INTO first_object
	  FROM (SELECT 'relation' AS kind, c.relname::text AS name FROM pg_catalog.pg_class c
			 WHERE c.relnamespace = '@extschema@'::regnamespace
			UNION ALL
			SELECT 'function', p.proname::text FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace = '@extschema@'::regnamespace
			UNION ALL
			SELECT 'type', t.typname::text FROM pg_catalog.pg_type t
			 WHERE t.typnamespace = '@extschema@'::regnamespace
			UNION ALL
			SELECT 'operator', o.oprname::text FROM pg_catalog.pg_operator o
			 WHERE o.oprnamespace = '@extschema@'::regnamespace
			UNION ALL
			SELECT 'collation', c.collname::text FROM pg_catalog.pg_collation c
			 WHERE c.collnamespace = '@extschema@'::regnamespace
			UNION ALL
			SELECT 'conversion', c.conname::text FROM pg_catalog.pg_conversion c
			 WHERE c.connamespace = '@extschema@'::regnamespace
			UNION ALL
			SELECT 'text search configuration', c.cfgname::text FROM pg_catalog.pg_ts_config c
			 WHERE c.cfgnamespace = '@extschema@'::regnamespace
			UNION ALL
			SELECT 'operator family', f.opfname::text FROM pg_catalog.pg_opfamily f
			 WHERE f.opfnamespace = '@extschema@'::regnamespace) o
	 LIMIT 1;
	IF first_object IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('schema %s is not empty', '@extschema@'),
			DETAIL = format('It already holds %s.', first_object),
			HINT = 'Install afregning into a schema of its own: drop the schema, or let CREATE EXTENSION create it.';
	END IF;
	/* nobody else may create in it later either */
	SELECT string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END, ', ')
	  INTO first_object
	  FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
	 WHERE n.nspname = '@extschema@' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner;
	IF first_object IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = format('schema %s grants CREATE to %s', '@extschema@', first_object),
			DETAIL = 'Another role could add functions to the schema once afregning is installed.',
			HINT = 'Drop the schema, or let CREATE EXTENSION create it.';
	END IF;
END
$$;
