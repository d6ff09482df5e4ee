
/* ------------------------------------------------------------------
 * The value lists of the input tables (SPEC §6): region, system class,
 * platform, funding, billing method, cost type and cost basis
 *
 * 0.1.0 made them enums.  An enum refuses a typo with 22P02 but cannot
 * say what it expected, and a finance user typing 'drift' for operations
 * deserves the list.  They are domains over text now, of the same names,
 * whose check refuses a value outside the list with 22P02 and a HINT
 * naming the valid values.  The lists are written once, in labels(), in
 * their documented order (explain_price and what_if_price follow it).
 *
 * A fresh install creates these columns as text and an upgrade finds them
 * as the 0.1.0 enums; both end here with the columns of the domains.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.labels(p_list text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_list
		WHEN 'region' THEN
			ARRAY['Hovedstaden', 'Sjælland', 'Syddanmark', 'Midtjylland', 'Nordjylland']
		WHEN 'system_class' THEN
			ARRAY['municipal', 'monopoly_break', 'udk', 'own_billing', 'kombit_project']
		WHEN 'platform' THEN ARRAY['serviceplatform', 'support_system']
		WHEN 'funding' THEN ARRAY['ordered', 'development_pool']
		WHEN 'billing_method' THEN ARRAY['pool', 'per_call']
		WHEN 'cost_type' THEN
			ARRAY['establishment', 'infrastructure_establishment', 'operations', 'support_admin',
				  'data_consumption', 'dissemination', 'development_pool']
		WHEN 'cost_basis' THEN ARRAY['expected', 'actual']
	END::text[]
$$;
COMMENT ON FUNCTION @extschema@.labels(text) IS
	'The valid values (gyldige værdier) of a value list, in their documented order: region, system_class, platform, funding, billing_method, cost_type or cost_basis; null for another name';
REVOKE ALL ON FUNCTION @extschema@.labels(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.labels(text)
	TO afregning_admin, afregning_reader, afregning_municipality;

/* The check of each domain: a valid value, or 22P02 naming the valid ones. */
CREATE FUNCTION @extschema@.label_valid(p_list text, p_value text)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_value IS NULL OR p_value = ANY (@extschema@.labels(p_list)) THEN
		RETURN true;
	END IF;
	RAISE EXCEPTION USING
		ERRCODE = 'invalid_text_representation',
		MESSAGE = format('invalid input value for %s: "%s"', p_list, p_value),
		DETAIL = format('A %s is one of: %s.', p_list,
						array_to_string(@extschema@.labels(p_list), ', ')),
		HINT = format('Use one of the values above; SELECT afregning.labels(%L) lists them.', p_list);
END
$$;
COMMENT ON FUNCTION @extschema@.label_valid(text, text) IS
	'Check of the value-list domains: true for a value of labels(p_list) or null, otherwise 22P02 with the valid values in its DETAIL';
REVOKE ALL ON FUNCTION @extschema@.label_valid(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.label_valid(text, text)
	TO afregning_admin, afregning_reader, afregning_municipality;

DO $$
DECLARE
	list record;
	col record;
	old regtype;
BEGIN
	/* the checks and defaults of these columns are made again below, on
	 * the domains (an enum's default would keep its old type alive) */
	ALTER TABLE @extschema@.cost_entry
		DROP CONSTRAINT IF EXISTS cost_entry_corrects_actual,
		DROP CONSTRAINT IF EXISTS cost_entry_establishment_payer;
	ALTER TABLE @extschema@.service
		ALTER COLUMN funding DROP DEFAULT,
		ALTER COLUMN billing DROP DEFAULT;

	FOR list IN SELECT * FROM (VALUES
			('region', 'Danish region (region) a municipality belongs to'),
			('system_class', 'Class of a consumer system (anvendersystem): kommunalt system, monopolbrudssystem (KY, KSD, SAPA), Udbetaling Danmark, system med egen afregning, KOMBIT-projekt'),
			('platform', 'Where a service runs: Serviceplatformen or Støttesystemerne'),
			('funding', 'How a service was funded: ordered by consumer systems (bestilt) or by the development pool (udviklingspuljen)'),
			('billing_method', 'How a service''s consumption is recovered: through the buffet price (buffetpris) or per call from the calling municipality (betaling pr. opslag)'),
			('cost_type', 'Cost type (omkostningstype) of figure 1: etablering, etablering af infrastrukturen, drift og vedligeholdelse, support & administration, dataforbrug, udbredelse og forretningsforståelse, udviklingspulje'),
			('cost_basis', 'Whether a cost entry is a budget figure (forventet forbrug) or a booked cost (faktisk forbrug)'))
			AS v(name, comment)
	LOOP
		/* an upgrade: the 0.1.0 enum steps aside for the domain of its name */
		old := to_regtype(format('%I.%I', '@extschema@', list.name));
		IF old IS NOT NULL THEN
			EXECUTE format('ALTER TYPE %I.%I RENAME TO %I', '@extschema@', list.name,
						   list.name || '_0_1_0');
		END IF;
		EXECUTE format('CREATE DOMAIN %I.%I AS text CONSTRAINT %I CHECK (%I.label_valid(%L, VALUE))',
					   '@extschema@', list.name, list.name || '_valid', '@extschema@', list.name);
		EXECUTE format('COMMENT ON DOMAIN %I.%I IS %L', '@extschema@', list.name,
					   list.comment || '; its values are labels(''' || list.name || ''')');

		FOR col IN SELECT * FROM (VALUES
				('municipality', 'region', 'region'),
				('consumer_system', 'class', 'system_class'),
				('service', 'platform', 'platform'),
				('service', 'funding', 'funding'),
				('service', 'billing', 'billing_method'),
				('cost_entry', 'cost_type', 'cost_type'),
				('cost_entry', 'basis', 'cost_basis'),
				('cost_line', 'cost_type', 'cost_type'),
				('cost_line', 'basis', 'cost_basis')) AS c(tab, name, list)
			 WHERE c.list = list.name
		LOOP
			EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE %I.%I USING %I::text',
						   '@extschema@', col.tab, col.name, '@extschema@', list.name, col.name);
		END LOOP;

		IF old IS NOT NULL THEN
			EXECUTE format('DROP TYPE %I.%I', '@extschema@', list.name || '_0_1_0');
		END IF;
	END LOOP;
END
$$;

ALTER TABLE @extschema@.service
	ALTER COLUMN funding SET DEFAULT 'ordered',
	ALTER COLUMN billing SET DEFAULT 'pool';
ALTER TABLE @extschema@.cost_entry
	ADD CONSTRAINT cost_entry_corrects_actual CHECK (corrects IS NULL OR basis = 'actual'),
	ADD CONSTRAINT cost_entry_establishment_payer CHECK
		(cost_type NOT IN ('establishment', 'infrastructure_establishment')
		 OR system_code IS NOT NULL OR service_code IS NOT NULL);
