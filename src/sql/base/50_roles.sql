
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
BEGIN
	FOREACH r IN ARRAY ARRAY['afregning_admin', 'afregning_reader', 'afregning_municipality']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
					  WHERE rolname = r AND (rolsuper OR rolbypassrls)) THEN
			/* a pre-made role that bypasses RLS would defeat the policies below */
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_role_specification',
				MESSAGE = format('role %s exists with SUPERUSER or BYPASSRLS', r),
				HINT = 'Drop or alter the role before installing afregning.';
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
