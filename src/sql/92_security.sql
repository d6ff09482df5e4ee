

CREATE FUNCTION @extschema@.my_municipalities()
RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/* by oid, so a mapping row of a dropped role is simply ignored */
	SELECT coalesce(array_agg(DISTINCT m.municipality_code), '{}')
	  FROM @extschema@.municipality_role m
	  JOIN pg_catalog.pg_roles r ON r.rolname = m.role_name
	 WHERE pg_catalog.pg_has_role(r.oid, 'MEMBER')
$$;
COMMENT ON FUNCTION @extschema@.my_municipalities() IS
	'Municipality codes the current role may read through the municipality_role mapping';

/* Staff see every row; a municipality role only its own municipality's. */
DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES
			('municipality', 'code'),
			('population', 'municipality_code'),
			('usage', 'municipality_code'),
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
					   'USING (%s IN (SELECT pg_catalog.unnest(@extschema@.my_municipalities())))', t.tab, t.col);
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
	USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname = role_name AND pg_catalog.pg_has_role(r.oid, 'MEMBER')));

/* Settlements write the output ledgers as the extension owner: nobody
 * gets INSERT on those ledgers, so figures can only come from the engine. */
ALTER FUNCTION @extschema@.announce_price(integer) SECURITY DEFINER;
ALTER FUNCTION @extschema@.close_year(integer) SECURITY DEFINER;
ALTER FUNCTION @extschema@.bill_direct(date) SECURITY DEFINER;
/* rating reads the year's partition by name, which only the owner may read directly */
ALTER FUNCTION @extschema@.rated_usage(integer) SECURITY DEFINER;
/* the price is the same for everyone: compute it over all rows, not the visible ones */
ALTER FUNCTION @extschema@.preview_price(integer) SECURITY DEFINER;
ALTER FUNCTION @extschema@.explain_price(integer) SECURITY DEFINER;

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
	@extschema@.buffet_invoice, @extschema@.installment, @extschema@.schedule_charge,
	@extschema@.direct_charge_line, @extschema@.usage_line, @extschema@.municipality_role,
	@extschema@.billing_year, @extschema@.price_announcement, @extschema@.service,
	@extschema@.consumer_system, @extschema@.tariff,
	@extschema@.municipality_invoice, @extschema@.direct_charge, @extschema@.buffet_price,
	@extschema@.price_history, @extschema@.cpr_intensity
	TO afregning_municipality;

/* read-only functions for every role; settlements for the administrator only */
GRANT EXECUTE ON FUNCTION
	@extschema@.preview_price(integer), @extschema@.explain_price(integer),
	@extschema@.year_status(integer), @extschema@.my_municipalities(),
	@extschema@.apportion(numeric, numeric), @extschema@.rate(bigint, numeric),
	@extschema@.per_citizen_price(numeric, bigint, integer),
	@extschema@.graduated_charge(bigint, integer[], numeric[]),
	@extschema@.usage_route(@extschema@.system_class, @extschema@.billing_method),
	@extschema@.baseline_applies(@extschema@.system_class, @extschema@.platform),
	@extschema@.tariff_effective_month(date),
	@extschema@.what_if_price(integer, jsonb, bigint), @extschema@.forecast_price(integer)
	TO afregning_admin, afregning_reader, afregning_municipality;
/* rating reads every municipality's usage and the baselines: staff only */
GRANT EXECUTE ON FUNCTION
	@extschema@.month_tariff(date, date),
	@extschema@.rated_usage(integer), @extschema@.per_call_lines(date),
	@extschema@.per_call_lines(date, date),
	@extschema@.usage_pair(), @extschema@.refuse_missing_tariff(text, date)
	TO afregning_admin, afregning_reader;
GRANT EXECUTE ON FUNCTION
	@extschema@.announce_price(integer), @extschema@.close_year(integer),
	@extschema@.bill_direct(date), @extschema@.run_settlement(text, date),
	@extschema@.schedule_jobs(),
	/* the guards run as the loading role */
	@extschema@.refuse_locked_year(integer, text, text),
	@extschema@.usage_row_valid(date, text, text, text, text),
	@extschema@.restoring(), @extschema@.status_change_allowed(integer)
	TO afregning_admin;
