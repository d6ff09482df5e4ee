
/* ------------------------------------------------------------------
 * Ledger guards: append-only ledgers and the locks of the year lifecycle
 *
 * Every guard trigger is ENABLE ALWAYS, so session_replication_role =
 * replica does not switch it off.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.refuse_ledger_change()
RETURNS trigger
AS 'MODULE_PATHNAME', 'refuse_ledger_change'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.refuse_ledger_change() IS
	'Trigger: refuses UPDATE, DELETE and TRUNCATE of a ledger table (hovedbog), which is append-only';

CREATE FUNCTION @extschema@.year_status(p_year integer)
RETURNS @extschema@.year_status
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((SELECT y.status FROM @extschema@.billing_year y WHERE y.year = p_year),
					'open'::@extschema@.year_status)
$$;
COMMENT ON FUNCTION @extschema@.year_status(integer) IS
	'Status of a billing year; a year without a billing_year row counts as open (SPEC S7)';

CREATE FUNCTION @extschema@.restoring()
RETURNS boolean
AS 'MODULE_PATHNAME', 'restore_mode_sql'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.restoring() IS
	'Whether this session replays a dump: afregning.restore_mode is on (a setting only a superuser can change) and the current role is a superuser. The lifecycle guards then let rows of locked years in, in dump order; the append-only guards stay on';

/* Raise the standard refusal for a change to a locked year. */
CREATE FUNCTION @extschema@.refuse_locked_year(p_year integer, p_what text, p_hint text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION USING
		ERRCODE = 'object_not_in_prerequisite_state',
		MESSAGE = format('%s of year %s is locked', p_what, p_year),
		DETAIL = format('Billing year %s is %s.', p_year, @extschema@.year_status(p_year)),
		HINT = p_hint;
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_locked_year(integer, text, text) IS
	'Raises the 55000 error for a change to an announced or closed year';

CREATE FUNCTION @extschema@.guard_year_rows()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	/* trigger arguments: the status from which rows lock, what they are, a hint */
	locked_from @extschema@.year_status := TG_ARGV[0]::@extschema@.year_status;
	y integer;
BEGIN
	IF @extschema@.restoring() THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	FOREACH y IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.year END,
							 CASE WHEN TG_OP <> 'DELETE' THEN NEW.year END]
	LOOP
		IF y IS NOT NULL AND @extschema@.year_status(y) >= locked_from THEN
			PERFORM @extschema@.refuse_locked_year(y, TG_ARGV[1], TG_ARGV[2]);
		END IF;
	END LOOP;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_year_rows() IS
	'Trigger: rows of a year (population, baselines) change only until the year reaches the status given as first trigger argument';

CREATE FUNCTION @extschema@.guard_cost_entry()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st @extschema@.year_status := @extschema@.year_status(NEW.year);
BEGIN
	IF @extschema@.restoring() THEN
		RETURN NEW;
	END IF;
	IF NEW.basis = 'expected' AND st <> 'open' THEN
		PERFORM @extschema@.refuse_locked_year(NEW.year, 'expected costs',
			'The price of an announced year never changes (budget certainty); budget the cost in an open year or book it as an actual cost.');
	ELSIF st = 'closed' THEN
		PERFORM @extschema@.refuse_locked_year(NEW.year, 'actual costs',
			'Enter a correction as an actual entry of an open or announced year, with "corrects" naming the entry it corrects.');
	END IF;
	IF NEW.cost_type IN ('establishment', 'infrastructure_establishment')
	   AND NEW.system_code IS NULL
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.service_order o
					   WHERE o.service_code = NEW.service_code) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'check_violation',
			MESSAGE = format('establishment entry "%s" has no payer', NEW.entry_key),
			DETAIL = format('Service %s has no orderers and the entry names no consumer system.', NEW.service_code),
			HINT = 'Establishment is paid by the ordering system(s): name the system or register the service''s orderers first.';
	END IF;
	/* a correction corrects a booked cost (an unknown key is the foreign key's to refuse) */
	IF EXISTS (SELECT 1 FROM @extschema@.cost_entry c
			   WHERE c.entry_key = NEW.corrects AND c.basis <> 'actual') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'check_violation',
			MESSAGE = format('entry "%s" cannot correct expected entry "%s"', NEW.entry_key, NEW.corrects),
			DETAIL = 'A correction names the actual entry whose booked cost it corrects.',
			HINT = 'A change of budget is a new expected entry of an open year.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_cost_entry() IS
	'Trigger: expected costs only for open years, actual costs only for open or announced years; establishment needs a payer';

CREATE FUNCTION @extschema@.tariff_effective_month(p_valid_from date)
RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN extract(day FROM p_valid_from) = 1 THEN p_valid_from
				ELSE (date_trunc('month', p_valid_from) + interval '1 month')::date END
$$;
COMMENT ON FUNCTION @extschema@.tariff_effective_month(date) IS
	'First month a tariff applies to: a valid_from inside a month takes effect from the next month (SPEC §3)';

CREATE FUNCTION @extschema@.guard_tariff()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	changed date;
BEGIN
	IF @extschema@.restoring() THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	/*
	 * S15: only months of closed years are locked.  Compare, for every month
	 * of every closed year and for the service(s) of the row, the price in
	 * force now (the table still holds OLD, not yet NEW) with the price in
	 * force after this change; the first month where they differ refuses it.
	 * So a tariff of an announced year is accepted as long as a later
	 * tariff starts before the next closed year's months, and a tariff that
	 * restates the price in force inside a closed year changes nothing.
	 */
	SELECT min(m.month) INTO changed
	  FROM (SELECT DISTINCT v.service_code
			  FROM (VALUES (CASE WHEN TG_OP <> 'INSERT' THEN OLD.service_code END),
						   (CASE WHEN TG_OP <> 'DELETE' THEN NEW.service_code END)) AS v(service_code)
			 WHERE v.service_code IS NOT NULL) s
	 CROSS JOIN (SELECT g.month::date AS month
				   FROM @extschema@.billing_year y
				  CROSS JOIN generate_series(make_date(y.year, 1, 1), make_date(y.year, 12, 1),
											 interval '1 month') AS g(month)
				  WHERE y.status = 'closed') m
	 WHERE (SELECT t.unit_price FROM @extschema@.tariff t
			 WHERE t.service_code = s.service_code
			   AND @extschema@.tariff_effective_month(t.valid_from) <= m.month
			 ORDER BY t.valid_from DESC LIMIT 1)
		   IS DISTINCT FROM
		   (SELECT a.unit_price
			  FROM (SELECT t.valid_from, t.unit_price FROM @extschema@.tariff t
					 WHERE t.service_code = s.service_code
					   AND (TG_OP = 'INSERT' OR (t.service_code, t.valid_from)
							IS DISTINCT FROM (OLD.service_code, OLD.valid_from))
					UNION ALL
					SELECT NEW.valid_from, NEW.unit_price
					 WHERE TG_OP <> 'DELETE' AND NEW.service_code = s.service_code) a
			 WHERE @extschema@.tariff_effective_month(a.valid_from) <= m.month
			 ORDER BY a.valid_from DESC LIMIT 1);
	IF changed IS NOT NULL THEN
		PERFORM @extschema@.refuse_locked_year(extract(year FROM changed)::integer, 'tariffs',
			format('The change would alter the price per call in force in %s. Only months of closed years are locked: to change those of an open or announced year alone, let them end where the closed year begins, with a tariff from its first month at the price in force there.',
				   to_char(changed, 'YYYY-MM')));
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_tariff() IS
	'Trigger: a tariff change may not alter the price per call in force in any month of a closed year, whose usage is already rated; months of open and announced years are not locked (SPEC S15)';

CREATE FUNCTION @extschema@.usage_row_valid(period date, municipality_code text,
	system_code text, service_code text, batch_key text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'usage_row_valid'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.usage_row_valid(date, text, text, text, text) IS
	'Check of a usage row: known municipality, system, service and batch (else 23503), a first day of a month (23514), a year that is not closed (55000); raises the error itself, true otherwise. STABLE, not immutable: it reads the reference tables, from a per-command cache';

/*
 * A CHECK rather than a row trigger: COPY keeps inserting in batches. It
 * is checked for new rows only, and NOT VALID says so: a closed year's rows
 * would fail it, so it is never validated against rows already loaded
 * (partitions are created empty, an upgrade adds it back over loaded years,
 * dumps replay in restore mode).
 */
ALTER TABLE @extschema@.usage ADD CONSTRAINT usage_row_valid
	CHECK (@extschema@.usage_row_valid(period, municipality_code, system_code, service_code, batch_key)) NOT VALID;

CREATE FUNCTION @extschema@.guard_usage_reference()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	/* trigger argument: the usage column that refers to this table's code */
	referenced boolean;
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.code IS NOT DISTINCT FROM OLD.code THEN
		RETURN NEW;
	END IF;
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.usage WHERE %I = $1)', '@extschema@', TG_ARGV[0])
	   INTO referenced USING OLD.code;
	IF referenced THEN
		RAISE EXCEPTION USING
			ERRCODE = 'foreign_key_violation',
			MESSAGE = format('%s %s is still referenced from usage', TG_TABLE_NAME, OLD.code),
			HINT = 'Usage is append-only: codes with usage cannot be removed or renamed.';
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_usage_reference() IS
	'Trigger: a municipality, consumer system or service that usage refers to cannot be deleted or have its code changed (the referential half of the usage_row_valid check)';

CREATE FUNCTION @extschema@.guard_billing_year()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW.status <> 'open' AND NOT @extschema@.restoring() THEN
			RAISE EXCEPTION USING
				ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('billing year %s must start open, not %s', NEW.year, NEW.status),
				HINT = 'Use afregning.announce_price() and afregning.close_year().';
		END IF;
		RETURN NEW;
	END IF;
	IF TG_OP = 'DELETE' THEN
		IF OLD.status <> 'open' THEN
			PERFORM @extschema@.refuse_locked_year(OLD.year, 'billing year',
				'Announced and closed years are part of the ledger.');
		END IF;
		RETURN OLD;
	END IF;
	IF NEW.year <> OLD.year THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'the year of a billing year cannot change',
			HINT = 'Create a new billing year instead.';
	END IF;
	/*
	 * Anyone can set the transition flag, so it is not enough on its own: a
	 * status moves one step forward only, after that step's ledger row exists.
	 */
	IF (NEW.status, NEW.announced_at, NEW.closed_at)
	   IS DISTINCT FROM (OLD.status, OLD.announced_at, OLD.closed_at)
	   AND (current_setting('afregning.transition', true) IS DISTINCT FROM NEW.year::text
			OR NOT CASE
				WHEN OLD.status = 'open' AND NEW.status = 'announced'
					THEN NEW.closed_at IS NULL
						 AND EXISTS (SELECT 1 FROM @extschema@.price_announcement a
									 WHERE a.year = NEW.year)
				WHEN OLD.status = 'announced' AND NEW.status = 'closed'
					THEN NEW.announced_at IS NOT DISTINCT FROM OLD.announced_at
						 AND EXISTS (SELECT 1 FROM @extschema@.year_close c
									 WHERE c.year = NEW.year)
				ELSE false
			   END) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('status of billing year %s cannot be set directly', NEW.year),
			HINT = 'Use afregning.announce_price() and afregning.close_year().';
	END IF;
	IF OLD.status <> 'open'
	   AND (NEW.carry_lag, NEW.price_decimals, NEW.carry_spread)
		   IS DISTINCT FROM (OLD.carry_lag, OLD.price_decimals, OLD.carry_spread) THEN
		PERFORM @extschema@.refuse_locked_year(OLD.year, 'settings',
			'carry_lag and price_decimals are fixed when the price is announced.');
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_billing_year() IS
	'Trigger: a billing year moves only forward and only through announce_price() and close_year(); its settings lock at announcement';

CREATE FUNCTION @extschema@.create_usage_partition()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	/* a restored dump brings its partitions along */
	IF to_regclass(format('%I.%I', '@extschema@', 'usage_y' || NEW.year)) IS NOT NULL THEN
		RETURN NULL;
	END IF;
	/* the partition belongs to the extension's owner, like its parent */
	EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.usage FOR VALUES FROM (%L) TO (%L)',
				   '@extschema@', 'usage_y' || NEW.year, '@extschema@',
				   make_date(NEW.year, 1, 1), make_date(NEW.year + 1, 1, 1));
	EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', '@extschema@', 'usage_y' || NEW.year);
	EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', '@extschema@', 'usage_y' || NEW.year);
	/*
	 * Row triggers are cloned to the partition, statement triggers are not:
	 * a TRUNCATE or INSERT naming the partition itself must be guarded too.
	 */
	EXECUTE format('CREATE TRIGGER usage_no_truncate BEFORE TRUNCATE ON %I.%I '
				   'FOR EACH STATEMENT EXECUTE FUNCTION %I.refuse_ledger_change()',
				   '@extschema@', 'usage_y' || NEW.year, '@extschema@');
	EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER usage_no_truncate',
				   '@extschema@', 'usage_y' || NEW.year);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.create_usage_partition() IS
	'Trigger: creates the usage partition of a new billing year (usage is partitioned by year)';

CREATE TRIGGER billing_year_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.billing_year
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_billing_year();
CREATE TRIGGER billing_year_partition AFTER INSERT ON @extschema@.billing_year
	FOR EACH ROW EXECUTE FUNCTION @extschema@.create_usage_partition();
CREATE TRIGGER population_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.population
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_year_rows('announced', 'population',
		'Population is locked when the price is announced; a later count belongs to a later year.');
CREATE TRIGGER cost_entry_guard BEFORE INSERT ON @extschema@.cost_entry
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_cost_entry();
CREATE TRIGGER baseline_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.baseline
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_year_rows('closed', 'baseline',
		'Baselines were applied when the year was closed.');
CREATE TRIGGER tariff_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.tariff
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_tariff();
CREATE TRIGGER municipality_usage_reference BEFORE UPDATE OR DELETE ON @extschema@.municipality
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_reference('municipality_code');
CREATE TRIGGER consumer_system_usage_reference BEFORE UPDATE OR DELETE ON @extschema@.consumer_system
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_reference('system_code');
CREATE TRIGGER service_usage_reference BEFORE UPDATE OR DELETE ON @extschema@.service
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_reference('service_code');

ALTER TABLE @extschema@.billing_year ENABLE ALWAYS TRIGGER billing_year_guard;
ALTER TABLE @extschema@.billing_year ENABLE ALWAYS TRIGGER billing_year_partition;
ALTER TABLE @extschema@.population ENABLE ALWAYS TRIGGER population_guard;
ALTER TABLE @extschema@.cost_entry ENABLE ALWAYS TRIGGER cost_entry_guard;
ALTER TABLE @extschema@.baseline ENABLE ALWAYS TRIGGER baseline_guard;
ALTER TABLE @extschema@.tariff ENABLE ALWAYS TRIGGER tariff_guard;
ALTER TABLE @extschema@.municipality ENABLE ALWAYS TRIGGER municipality_usage_reference;
ALTER TABLE @extschema@.consumer_system ENABLE ALWAYS TRIGGER consumer_system_usage_reference;
ALTER TABLE @extschema@.service ENABLE ALWAYS TRIGGER service_usage_reference;

/* Append-only ledgers: no UPDATE, DELETE or TRUNCATE, ever. */
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['cost_entry', 'usage', 'usage_batch', 'price_announcement',
							 'buffet_invoice', 'installment', 'year_close', 'usage_line',
							 'direct_charge_line', 'schedule_charge', 'cost_line', 'carry_posting']
	LOOP
		EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON @extschema@.%I '
					   'FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse_ledger_change()',
					   t || '_append_only', t);
		EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON @extschema@.%I '
					   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_ledger_change()',
					   t || '_no_truncate', t);
		EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ALWAYS TRIGGER %I', t, t || '_append_only');
		EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ALWAYS TRIGGER %I', t, t || '_no_truncate');
	END LOOP;
END
$$;

/* Partitions made before an upgrade get back the TRUNCATE guard that
 * create_usage_partition() gives a new one (statement triggers are not
 * cloned to partitions).  A fresh install has none yet. */
DO $$
DECLARE
	part regclass;
BEGIN
	FOR part IN SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
				 WHERE i.inhparent = '@extschema@.usage'::regclass
	LOOP
		EXECUTE format('CREATE TRIGGER usage_no_truncate BEFORE TRUNCATE ON %s '
					   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_ledger_change()', part);
		EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER usage_no_truncate', part);
	END LOOP;
END
$$;

/* DROP EXTENSION would take the ledgers with it, silently: refuse that
 * while they hold data, unless the administrator says so for the session. */
CREATE FUNCTION @extschema@.guard_drop_extension()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF tg_tag IN ('DROP EXTENSION', 'DROP SCHEMA')
	   AND current_query() ~* 'afregning'
	   AND current_setting('afregning.allow_drop', true) IS DISTINCT FROM 'on'
	   AND (EXISTS (SELECT 1 FROM @extschema@.cost_entry)
			OR EXISTS (SELECT 1 FROM @extschema@.usage_batch)
			OR EXISTS (SELECT 1 FROM @extschema@.price_announcement)) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'refusing to drop afregning while its ledgers hold data',
			DETAIL = 'Dropping the extension deletes every cost entry, usage row, invoice and carry-forward.',
			HINT = 'Take a pg_dump first, then SET afregning.allow_drop = on in the same session.';
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_drop_extension() IS
	'Event trigger: refuses DROP EXTENSION afregning (or DROP SCHEMA afregning) while the ledgers hold data, unless afregning.allow_drop = on';

CREATE EVENT TRIGGER afregning_guard_drop ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
	EXECUTE FUNCTION @extschema@.guard_drop_extension();
