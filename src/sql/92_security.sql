
/* ------------------------------------------------------------------
 * The municipality mapping is by role OID
 *
 * role_name is what the administrator writes; role_oid is the role it
 * named when the row was written, and that is what grants access.  A role
 * dropped and created again under the same name is another role, with
 * another OID, and reads nothing until it is mapped anew.  A dump carries
 * role_oid of the old cluster: the trigger binds every inserted row to
 * the role of that name in this cluster, so a restore re-binds by name.
 * ------------------------------------------------------------------ */

ALTER TABLE @extschema@.municipality_role ADD COLUMN role_oid oid;
COMMENT ON COLUMN @extschema@.municipality_role.role_oid IS
	'OID of the role role_name named when the row was written; access goes to its members only (a role dropped and created again under the same name gets none). Set by the trigger, never by hand';
/* an upgrade binds the rows it finds; a row of a role that is gone binds to none */
UPDATE @extschema@.municipality_role m
   SET role_oid = r.oid
  FROM pg_catalog.pg_roles r
 WHERE r.rolname = m.role_name;

CREATE FUNCTION @extschema@.bind_municipality_role()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found_oid oid;
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.role_name = OLD.role_name THEN
		/* the same name stays bound to the same role */
		NEW.role_oid := OLD.role_oid;
		RETURN NEW;
	END IF;
	SELECT r.oid INTO found_oid FROM pg_catalog.pg_roles r WHERE r.rolname = NEW.role_name;
	IF found_oid IS NULL AND NOT @extschema@.restoring() THEN
		RAISE EXCEPTION USING
			ERRCODE = 'undefined_object',
			MESSAGE = format('role "%s" does not exist', NEW.role_name),
			HINT = 'Create the role first; the mapping binds to the role itself, not to its name.';
	END IF;
	/* a dump replayed without its roles: the row binds to nobody */
	NEW.role_oid := found_oid;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.bind_municipality_role() IS
	'Trigger: binds a municipality_role row to the OID of the role it names (42704 for an unknown role, outside restore mode); an update keeps the binding unless role_name changes';
CREATE TRIGGER municipality_role_bind BEFORE INSERT OR UPDATE ON @extschema@.municipality_role
	FOR EACH ROW EXECUTE FUNCTION @extschema@.bind_municipality_role();
ALTER TABLE @extschema@.municipality_role ENABLE ALWAYS TRIGGER municipality_role_bind;

/*
 * By OID: a row of a dropped role, or of a namesake created since, grants
 * nothing.  In C, so that it is read once per command and role and the
 * policies below can compare with it directly (src/municipality_scope.c).
 */
CREATE FUNCTION @extschema@.my_municipalities()
RETURNS text[]
AS 'MODULE_PATHNAME', 'my_municipalities'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.my_municipalities() IS
	'Municipality codes the current role may read through the municipality_role mapping (by role OID)';
REVOKE ALL ON FUNCTION @extschema@.my_municipalities() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.my_municipalities() TO afregning_admin, afregning_reader, afregning_municipality;

/* Staff see every row; a municipality role only its own municipality's. */
DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES
			('municipality', 'code'),
			('population', 'municipality_code'),
			('usage', 'municipality_code'),
			('usage_summary', 'municipality_code'),
			('buffet_invoice', 'municipality_code'),
			('installment', 'municipality_code'),
			('schedule_charge', 'municipality_code'),
			('direct_charge_line', 'municipality_code'),
			('usage_line', 'CASE WHEN route = ''municipality'' THEN payer_code END')) AS v(tab, col)
	LOOP
		EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', t.tab);
		EXECUTE format('CREATE POLICY staff_all_rows ON @extschema@.%I '
					   'TO afregning_admin, afregning_reader USING (true) WITH CHECK (true)', t.tab);
		EXECUTE format('CREATE POLICY own_municipality ON @extschema@.%I FOR SELECT '
					   'TO afregning_municipality '
					   'USING (%s = ANY (@extschema@.my_municipalities()))', t.tab, t.col);
	END LOOP;
END
$$;

/* my_municipalities() reads the mapping, so its policy must not call it
 * (that recursed without end): a municipality role sees the mapping rows
 * of the roles it is a member of, which is all my_municipalities() needs. */
ALTER TABLE @extschema@.municipality_role ENABLE ROW LEVEL SECURITY;
CREATE POLICY staff_all_rows ON @extschema@.municipality_role
	TO afregning_admin, afregning_reader USING (true) WITH CHECK (true);
CREATE POLICY own_municipality ON @extschema@.municipality_role FOR SELECT
	TO afregning_municipality
	USING (pg_catalog.pg_has_role(role_oid, 'MEMBER'::text));

/* The settlements, the rating and the price functions are SECURITY DEFINER
 * where they are created: nobody gets INSERT on an output ledger, so figures
 * come only from the engine; rating reads a year's partition by name; and
 * the price is computed over all rows, not the ones a reader may see. */

REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO afregning_admin, afregning_reader, afregning_municipality;

REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;

GRANT SELECT ON ALL TABLES IN SCHEMA @extschema@ TO afregning_admin, afregning_reader;
GRANT INSERT ON @extschema@.municipality, @extschema@.population, @extschema@.consumer_system,
	@extschema@.service, @extschema@.service_order, @extschema@.tariff, @extschema@.baseline,
	@extschema@.billing_year, @extschema@.cost_entry, @extschema@.usage_batch, @extschema@.usage,
	@extschema@.charge_schedule, @extschema@.municipality_role
	TO afregning_admin;
GRANT UPDATE, DELETE ON @extschema@.municipality, @extschema@.population, @extschema@.consumer_system,
	@extschema@.service, @extschema@.service_order, @extschema@.tariff, @extschema@.baseline,
	@extschema@.billing_year, @extschema@.charge_schedule, @extschema@.municipality_role
	TO afregning_admin;

GRANT SELECT ON @extschema@.municipality, @extschema@.population, @extschema@.usage,
	@extschema@.usage_summary, @extschema@.buffet_invoice, @extschema@.installment, @extschema@.schedule_charge,
	@extschema@.direct_charge_line, @extschema@.usage_line, @extschema@.municipality_role,
	@extschema@.billing_year, @extschema@.price_announcement, @extschema@.service,
	@extschema@.consumer_system, @extschema@.tariff,
	@extschema@.municipality_invoice, @extschema@.direct_charge, @extschema@.buffet_price,
	@extschema@.price_history, @extschema@.cpr_intensity
	TO afregning_municipality;

/* each function's own REVOKE and GRANT stand beside its CREATE */
