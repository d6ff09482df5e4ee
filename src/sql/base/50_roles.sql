
/* ------------------------------------------------------------------
 * Security (SPEC §7): the group roles and the municipality mapping
 *
 * Three NOLOGIN group roles; people log in as their own roles and are
 * granted membership. Roles are cluster-wide, so a second database that
 * installs the extension reuses them.
 * ------------------------------------------------------------------ */

DO $$
DECLARE
	r text;
	marker constant text := 'afregning group role';
	existing record;
BEGIN
	FOREACH r IN ARRAY ARRAY['afregning_admin', 'afregning_reader', 'afregning_municipality']
	LOOP
		SELECT a.oid, a.rolcanlogin, a.rolsuper, a.rolbypassrls, a.rolcreaterole,
			   pg_catalog.shobj_description(a.oid, 'pg_authid') AS note,
			   EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE m.roleid = a.oid) AS has_members,
			   EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE m.member = a.oid) AS is_member
		  INTO existing
		  FROM pg_catalog.pg_roles a WHERE a.rolname = r;
		IF NOT FOUND THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
			/* the mark by which a later install in another database knows the role */
			EXECUTE format('COMMENT ON ROLE %I IS %L', r,
						   marker || ' (created by CREATE EXTENSION afregning; grant it to people''s login roles)');
		ELSIF existing.rolsuper OR existing.rolbypassrls THEN
			/* a pre-made role that bypasses RLS would defeat the policies below */
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_role_specification',
				MESSAGE = format('role %s exists with SUPERUSER or BYPASSRLS', r),
				HINT = 'Drop or alter the role before installing afregning.';
		ELSIF existing.rolcanlogin OR existing.rolcreaterole THEN
			/* a group role is granted, never logged in as, and manages no roles */
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_role_specification',
				MESSAGE = format('role %s exists with LOGIN or CREATEROLE', r),
				HINT = format('ALTER ROLE %s NOLOGIN NOCREATEROLE, or drop it, before installing afregning.', r);
		ELSIF existing.is_member THEN
			/* it would bring along rights the extension does not grant */
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_role_specification',
				MESSAGE = format('role %s exists as a member of other roles', r),
				HINT = format('Revoke those memberships from %s, or drop it, before installing afregning.', r);
		ELSIF existing.has_members AND existing.note IS DISTINCT FROM marker
			  AND NOT coalesce(existing.note LIKE marker || ' (%', false) THEN
			/*
			 * Members would get the rights at once.  A role made by an
			 * afregning install in another database carries the mark and
			 * keeps its members; any other is checked by hand first.
			 */
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_role_specification',
				MESSAGE = format('role %s exists already and has members', r),
				DETAIL = 'Every member would get the rights of the role in this database.',
				HINT = format('Check the members of %s; then COMMENT ON ROLE %s IS %L, or drop the role, before installing afregning.',
							  r, r, marker);
		END IF;
	END LOOP;
END
$$;

CREATE TABLE @extschema@.municipality_role (
	role_name			text NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	CONSTRAINT municipality_role_pkey PRIMARY KEY (role_name, municipality_code),
	CONSTRAINT municipality_role_municipality_fkey FOREIGN KEY (municipality_code)
		REFERENCES @extschema@.municipality (code)
);
COMMENT ON TABLE @extschema@.municipality_role IS
	'Which database role reads which municipality''s rows (kommunens adgang): members of role_name see municipality_code through row-level security';
COMMENT ON COLUMN @extschema@.municipality_role.role_name IS
	'Database role; every member of it (directly or indirectly) gets access';
COMMENT ON COLUMN @extschema@.municipality_role.municipality_code IS 'Municipality the role may read';
