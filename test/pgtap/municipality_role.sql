/*
 * The municipality mapping binds to a role, not to a name (SPEC §7): the
 * trigger stores the OID of the role named when a row is written, refuses
 * an unknown role (42704), keeps the binding while role_name stays, and
 * in restore mode binds a row whose role is missing to nobody.  Row-level
 * security compares OIDs and reads no pg_roles.  (That a role dropped and
 * created again reads nothing is tried in fresh connections by
 * test/scenario/roles.sh.)
 */
BEGIN;
SELECT plan(16);
SET LOCAL search_path = afregning, public;
SET LOCAL client_min_messages = warning;

INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden');
CREATE ROLE t_map_a NOLOGIN IN ROLE afregning_municipality;
CREATE ROLE t_map_b NOLOGIN IN ROLE afregning_municipality;

SELECT has_column('afregning', 'municipality_role', 'role_oid', 'municipality_role has role_oid');
SELECT col_type_is('afregning', 'municipality_role', 'role_oid', 'oid', '... of type oid');

/* a role_oid given by hand is not trusted: the trigger binds by name */
INSERT INTO municipality_role (role_name, municipality_code, role_oid) VALUES ('t_map_a', '101', 10);
SELECT is((SELECT role_oid FROM municipality_role WHERE role_name = 't_map_a'), 't_map_a'::regrole::oid,
	'a new row is bound to the OID of the role it names (not to the OID given)');

CREATE TEMP TABLE before AS SELECT * FROM municipality_role;
SELECT throws_ok($$INSERT INTO municipality_role (role_name, municipality_code) VALUES ('t_map_nobody', '101')$$,
	'42704', NULL, 'mapping a role that does not exist is refused with 42704');
SELECT results_eq('SELECT * FROM municipality_role', 'SELECT * FROM before', '... nothing changed');

UPDATE municipality_role SET municipality_code = '147', role_oid = 10 WHERE role_name = 't_map_a';
SELECT is((SELECT role_oid FROM municipality_role WHERE role_name = 't_map_a'), 't_map_a'::regrole::oid,
	'an update that keeps role_name keeps the binding (role_oid cannot be set by hand)');
UPDATE municipality_role SET role_name = 't_map_b' WHERE role_name = 't_map_a';
SELECT is((SELECT role_oid FROM municipality_role WHERE municipality_code = '147'), 't_map_b'::regrole::oid,
	'an update of role_name binds the row to the role now named');
SELECT throws_ok($$UPDATE municipality_role SET role_name = 't_map_nobody'$$, '42704', NULL,
	'renaming a row to an unknown role is refused with 42704');

/* a dump replayed before its roles exist: the row binds to nobody */
SAVEPOINT restore;
SET LOCAL afregning.restore_mode = on;
INSERT INTO municipality_role (role_name, municipality_code, role_oid) VALUES ('t_map_later', '101', 't_map_b'::regrole::oid);
SELECT is((SELECT role_oid FROM municipality_role WHERE role_name = 't_map_later'), NULL,
	'in restore mode a row of a role that does not exist is kept, bound to no role (not to the OID in the dump)');
ROLLBACK TO SAVEPOINT restore;

/* the answer is kept per command and role: asked first as the superuser
 * (a member of every role, so every mapped code) and then as t_map_b in
 * the same command, it must be t_map_b's own */
CREATE FUNCTION pg_temp.codes_after_superuser(p_role text) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE
	first text[] := afregning.my_municipalities();
BEGIN
	EXECUTE format('SET LOCAL ROLE %I', p_role);
	RETURN array_to_string(first, ',') || ' then ' || array_to_string(afregning.my_municipalities(), ',');
END
$f$;
INSERT INTO municipality_role (role_name, municipality_code) VALUES ('t_map_a', '101');
SELECT is(pg_temp.codes_after_superuser('t_map_b'), '101,147 then 147',
	'in one command the superuser reads 101 and 147, then t_map_b only its own 147');
RESET ROLE;
DELETE FROM municipality_role WHERE role_name = 't_map_a';
/* t_map_b is mapped to 147 */
SET LOCAL ROLE t_map_b;
SELECT is(my_municipalities(), '{147}'::text[], 't_map_b reads 147 through its binding');
SELECT results_eq('SELECT code FROM afregning.municipality', $$VALUES ('147'::text COLLATE "C")$$,
	't_map_b sees municipality 147 only');
RESET ROLE;

SELECT is((SELECT string_agg(p.tablename || '.' || p.policyname, ', ')
			 FROM pg_policies p
			WHERE p.schemaname = 'afregning'
			  AND (coalesce(p.qual, '') ~ 'pg_roles|pg_authid|rolname'
				   OR coalesce(p.with_check, '') ~ 'pg_roles|pg_authid|rolname')),
	NULL, 'no policy reads pg_roles or compares role names');
SELECT is((SELECT string_agg(p.tablename || '.' || p.policyname, ', ')
			 FROM pg_policies p
			WHERE p.schemaname = 'afregning'
			  AND (coalesce(p.qual, '') ~* 'select' OR coalesce(p.with_check, '') ~* 'select')),
	NULL, 'no policy holds a subquery (compared with my_municipalities() directly)');
SELECT is((SELECT prosrc ~ 'pg_roles|rolname' FROM pg_proc
			WHERE oid = 'afregning.my_municipalities()'::regprocedure),
	false, 'my_municipalities() compares OIDs, not names');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'afregning.my_municipalities()'::regprocedure),
	false, 'my_municipalities() runs with the rights of its caller');

SELECT * FROM finish();
ROLLBACK;
