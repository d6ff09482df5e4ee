
/* ------------------------------------------------------------------
 * Routing guard: a closed year's usage keeps its route (SPEC §3, S9)
 *
 * A usage row's route follows from its system's class and its service's
 * billing method and platform (usage_route(), baseline_applies()). A
 * closed year's usage was rated and its per-call charges completed when
 * it closed; changing one of those columns afterwards would make the
 * views and any re-computation disagree with what was posted. So a change
 * that would give usage of a closed year another route is refused; a
 * system or service whose routing really changes gets a new code for the
 * usage of open years.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.guard_usage_routing()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	last_closed integer;
	hit record;
BEGIN
	IF @extschema@.restoring() THEN
		RETURN NEW;
	END IF;
	last_closed := (SELECT max(y.year) FROM @extschema@.billing_year y WHERE y.status = 'closed');
	IF last_closed IS NULL THEN
		RETURN NEW;
	END IF;

	/* the first usage of a closed year whose route the change would alter */
	IF TG_TABLE_NAME = 'consumer_system' THEN
		IF NEW.class IS NOT DISTINCT FROM OLD.class THEN
			RETURN NEW;
		END IF;
		SELECT y.year, s.code INTO hit
		  FROM @extschema@.service s
		  JOIN @extschema@.billing_year y ON y.status = 'closed'
		 WHERE (@extschema@.usage_route(OLD.class, s.billing)
				IS DISTINCT FROM @extschema@.usage_route(NEW.class, s.billing)
				OR @extschema@.baseline_applies(OLD.class, s.platform)
				IS DISTINCT FROM @extschema@.baseline_applies(NEW.class, s.platform))
		   AND EXISTS (SELECT 1 FROM @extschema@.usage_summary u
						WHERE u.period >= make_date(y.year, 1, 1)
						  AND u.period < make_date(y.year + 1, 1, 1)
						  AND u.period < make_date(last_closed + 1, 1, 1)
						  AND u.system_code = OLD.code AND u.service_code = s.code)
		 ORDER BY y.year, s.code
		 LIMIT 1;
		IF FOUND THEN
			PERFORM @extschema@.refuse_locked_year(hit.year::integer, 'usage routing'::text,
				format('Consumer system %s has usage of %s on service %s, rated at close as class %s. Register a new system code with class %s for its usage from the first open year.',
					   OLD.code, hit.year, hit.code, OLD.class, NEW.class)::text);
		END IF;
	ELSE
		IF (NEW.billing, NEW.platform) IS NOT DISTINCT FROM (OLD.billing, OLD.platform) THEN
			RETURN NEW;
		END IF;
		SELECT y.year, c.code INTO hit
		  FROM @extschema@.consumer_system c
		  JOIN @extschema@.billing_year y ON y.status = 'closed'
		 WHERE (@extschema@.usage_route(c.class, OLD.billing)
				IS DISTINCT FROM @extschema@.usage_route(c.class, NEW.billing)
				OR @extschema@.baseline_applies(c.class, OLD.platform)
				IS DISTINCT FROM @extschema@.baseline_applies(c.class, NEW.platform))
		   AND EXISTS (SELECT 1 FROM @extschema@.usage_summary u
						WHERE u.period >= make_date(y.year, 1, 1)
						  AND u.period < make_date(y.year + 1, 1, 1)
						  AND u.period < make_date(last_closed + 1, 1, 1)
						  AND u.service_code = OLD.code AND u.system_code = c.code)
		 ORDER BY y.year, c.code
		 LIMIT 1;
		IF FOUND THEN
			PERFORM @extschema@.refuse_locked_year(hit.year::integer, 'usage routing'::text,
				format('Service %s has usage of %s by system %s, rated at close as billing %s on %s. Register a new service code for the new billing or platform and load its usage from the first open year.',
					   OLD.code, hit.year, hit.code, OLD.billing, OLD.platform)::text);
		END IF;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_usage_routing() IS
	'Trigger: refuses (55000) a change of a consumer system''s class or a service''s billing method or platform that would give usage of a closed year another route';

CREATE TRIGGER consumer_system_usage_routing BEFORE UPDATE OF class ON @extschema@.consumer_system
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_routing();
CREATE TRIGGER service_usage_routing BEFORE UPDATE OF billing, platform ON @extschema@.service
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_routing();
ALTER TABLE @extschema@.consumer_system ENABLE ALWAYS TRIGGER consumer_system_usage_routing;
ALTER TABLE @extschema@.service ENABLE ALWAYS TRIGGER service_usage_routing;

/* ------------------------------------------------------------------
 * References of usage under REPEATABLE READ and SERIALIZABLE
 *
 * The usage_reference guards (50_guards.sql) judge by the deleting
 * statement's snapshot, which under READ COMMITTED sees every load that
 * committed before it: a load holds FOR KEY SHARE locks on the codes it
 * uses until it commits, so the DELETE waits for it. A transaction-level
 * snapshot is older than that wait; this guard looks again with a current
 * snapshot and fails such a delete with 40001.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.usage_reference_unseen(p_column text, p_code text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'usage_reference_unseen'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.usage_reference_unseen(text, text) IS
	'Internal: whether usage committed after this transaction''s snapshot refers to the code in the usage column p_column (always false under READ COMMITTED)';

CREATE FUNCTION @extschema@.guard_usage_reference_current()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.code IS NOT DISTINCT FROM OLD.code THEN
		RETURN NEW;
	END IF;
	IF @extschema@.usage_reference_unseen(TG_ARGV[0]::text, OLD.code::text) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'serialization_failure',
			MESSAGE = format('%s %s was put to use by a concurrent usage load', TG_TABLE_NAME, OLD.code),
			DETAIL = 'Usage that refers to it committed after this transaction''s snapshot was taken.',
			HINT = 'Retry the transaction: usage is append-only, so a code with usage cannot be removed or renamed.';
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_usage_reference_current() IS
	'Trigger: under REPEATABLE READ or SERIALIZABLE, refuses (40001) to delete or re-key a code that usage committed after the snapshot refers to';

CREATE TRIGGER municipality_usage_reference_current BEFORE UPDATE OR DELETE ON @extschema@.municipality
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_reference_current('municipality_code');
CREATE TRIGGER consumer_system_usage_reference_current BEFORE UPDATE OR DELETE ON @extschema@.consumer_system
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_reference_current('system_code');
CREATE TRIGGER service_usage_reference_current BEFORE UPDATE OR DELETE ON @extschema@.service
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_reference_current('service_code');
ALTER TABLE @extschema@.municipality ENABLE ALWAYS TRIGGER municipality_usage_reference_current;
ALTER TABLE @extschema@.consumer_system ENABLE ALWAYS TRIGGER consumer_system_usage_reference_current;
ALTER TABLE @extschema@.service ENABLE ALWAYS TRIGGER service_usage_reference_current;
REVOKE ALL ON FUNCTION @extschema@.usage_reference_unseen(text, text) FROM PUBLIC;
/* the guard runs as the deleting role */
GRANT EXECUTE ON FUNCTION @extschema@.usage_reference_unseen(text, text) TO afregning_admin;
