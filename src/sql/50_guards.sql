
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

/* The one place the name of a year's usage partition is made. */
CREATE FUNCTION @extschema@.usage_partition(p_year integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 'usage_y' || p_year::text
$$;
REVOKE ALL ON FUNCTION @extschema@.usage_partition(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.usage_partition(integer)
	TO afregning_admin, afregning_reader;
COMMENT ON FUNCTION @extschema@.usage_partition(integer) IS
	'Name of the usage partition of a billing year (usage_yYYYY, in schema afregning): created with the year, read by rating and close';

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
REVOKE ALL ON FUNCTION @extschema@.year_status(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.year_status(integer) TO afregning_admin, afregning_reader, afregning_municipality;

/*
 * The status a row of a year is checked against, read with a FOR SHARE
 * lock on the year's row: an entry or population row that waited for a
 * running announce_price() or close_year() then sees the year as that
 * step left it (READ COMMITTED), or fails with 40001 (REPEATABLE READ and
 * SERIALIZABLE), instead of landing, unseen, in a year that was locked
 * meanwhile.  The lock is held to commit, so a step that locks the year
 * waits for rows still being written into it.
 */
CREATE FUNCTION @extschema@.year_status_for_write(p_year integer)
RETURNS @extschema@.year_status
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st @extschema@.year_status;
BEGIN
	SELECT y.status INTO st FROM @extschema@.billing_year y WHERE y.year = p_year FOR SHARE;
	RETURN coalesce(st, 'open'::@extschema@.year_status);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.year_status_for_write(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.year_status_for_write(integer) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.year_status_for_write(integer) IS
	'Status of a billing year for a row about to be written into it, read with a FOR SHARE lock on the year, so that a concurrent announcement or close is seen (or the write fails with 40001); open for a year without a row';

CREATE FUNCTION @extschema@.restoring()
RETURNS boolean
AS 'MODULE_PATHNAME', 'restore_mode_sql'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.restoring() IS
	'Whether this session replays a dump: afregning.restore_mode is on (a setting only a superuser can change) and both the current and the session user are superusers. The lifecycle guards then let rows of locked years in, in dump order; the append-only guards stay on';
REVOKE ALL ON FUNCTION @extschema@.restoring() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.restoring() TO afregning_admin;

/* Raise the standard refusal for a change to a locked year. */
CREATE FUNCTION @extschema@.refuse_locked_year(p_year integer, p_what text, p_hint text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION USING
		ERRCODE = 'object_not_in_prerequisite_state',
		MESSAGE = format('%s of year %s %s locked', p_what, p_year,
						 CASE WHEN p_what LIKE '%s' THEN 'are' ELSE 'is' END),
		DETAIL = format('Billing year %s is %s.', p_year, @extschema@.year_status(p_year)),
		HINT = p_hint;
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_locked_year(integer, text, text) IS
	'Raises the 55000 error for a change to an announced or closed year';
REVOKE ALL ON FUNCTION @extschema@.refuse_locked_year(integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.refuse_locked_year(integer, text, text) TO afregning_admin;

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
		IF y IS NOT NULL AND @extschema@.year_status_for_write(y) >= locked_from THEN
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
	st @extschema@.year_status;
BEGIN
	IF @extschema@.restoring() THEN
		RETURN NEW;
	END IF;
	st := @extschema@.year_status_for_write(NEW.year);
	IF NEW.basis = 'expected' AND st <> 'open' THEN
		PERFORM @extschema@.refuse_locked_year(NEW.year, 'expected costs'::text,
			'The price of an announced year never changes (budget certainty); budget the cost in an open year or book it as an actual cost.'::text);
	ELSIF st = 'closed' THEN
		PERFORM @extschema@.refuse_locked_year(NEW.year, 'actual costs'::text,
			'Enter a correction as an actual entry of an open or announced year, with "corrects" naming the entry it corrects.'::text);
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

/*
 * A batch key registered twice: the primary key would refuse it too, but
 * with no word on what to do instead.  (Two sessions registering the same
 * key at once still meet the primary key; the second gets its plain 23505.)
 */
CREATE FUNCTION @extschema@.guard_usage_batch()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM @extschema@.usage_batch b WHERE b.batch_key = NEW.batch_key) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'unique_violation',
			MESSAGE = format('usage batch "%s" is already registered', NEW.batch_key),
			DETAIL = 'A batch is loaded once (S11); its rows are already in afregning.usage.',
			HINT = 'Deliver late or corrected usage as a new batch with its own key.';
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.guard_usage_batch() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.guard_usage_batch() TO afregning_admin;
COMMENT ON FUNCTION @extschema@.guard_usage_batch() IS
	'Trigger: refuses a usage batch key that is already registered (23505) with a hint to deliver a new batch';
CREATE TRIGGER usage_batch_registered_once BEFORE INSERT ON @extschema@.usage_batch
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_usage_batch();
ALTER TABLE @extschema@.usage_batch ENABLE ALWAYS TRIGGER usage_batch_registered_once;

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
REVOKE ALL ON FUNCTION @extschema@.tariff_effective_month(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.tariff_effective_month(date) TO afregning_admin, afregning_reader, afregning_municipality;

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
		PERFORM @extschema@.refuse_locked_year(extract(year FROM changed)::integer, 'tariffs'::text,
			format('The change would alter the price per call in force in %s. Only months of closed years are locked: to change those of an open or announced year alone, let them end where the closed year begins, with a tariff from its first month at the price in force there.',
				   to_char(changed, 'YYYY-MM'))::text);
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_tariff() IS
	'Trigger: a tariff change may not alter the price per call in force in any month of a closed year, whose usage is already rated; months of open and announced years are not locked (SPEC S15)';

CREATE FUNCTION @extschema@.usage_row_valid(period date, municipality_code text,
	system_code text, service_code text, calls bigint, batch_key text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'usage_row_check'
/* it locks the rows it reads (the year FOR SHARE, codes FOR KEY SHARE) */
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.usage_row_valid(date, text, text, text, bigint, text) IS
	'Check of a usage row: known municipality, system, service and batch (else 23503), a first day of a month (23514), a year that is not closed (55000); raises the error itself, true otherwise, and adds the row''s calls to its statement''s monthly sums (written to usage_summary when the statement ends). Volatile: it reads the reference tables from a per-command cache and locks what it reads (the year FOR SHARE, codes FOR KEY SHARE), so a concurrent close or delete is seen';
REVOKE ALL ON FUNCTION @extschema@.usage_row_valid(date, text, text, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.usage_row_valid(date, text, text, text, bigint, text) TO afregning_admin;

/*
 * A CHECK rather than a row trigger: COPY keeps inserting in batches. It
 * is checked for new rows only, and NOT VALID says so: a closed year's rows
 * would fail it, so it is never validated against rows already loaded
 * (partitions are created empty, an upgrade adds it back over loaded years,
 * dumps replay in restore mode).
 */
ALTER TABLE @extschema@.usage ADD CONSTRAINT usage_row_valid
	CHECK (@extschema@.usage_row_valid(period, municipality_code, system_code, service_code,
									   calls, batch_key)) NOT VALID;

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
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.usage_summary WHERE %I = $1)', '@extschema@', TG_ARGV[0])
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

CREATE FUNCTION @extschema@.status_change_allowed(p_year integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'status_change_allowed'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.status_change_allowed(integer) IS
	'Whether set_year_status() is changing the status of this billing year right now (a flag in C that only set_year_status() raises, for its own UPDATE); the billing_year guard lets a status change through only then';
REVOKE ALL ON FUNCTION @extschema@.status_change_allowed(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.status_change_allowed(integer) TO afregning_admin;

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
			PERFORM @extschema@.refuse_locked_year(OLD.year, 'billing year'::text,
				'Announced and closed years are part of the ledger.'::text);
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
	 * Only set_year_status() changes a status: it raises a flag in C for
	 * the one UPDATE it runs, which no session can set otherwise, and only
	 * the extension's owner (announce_price() and close_year()) may call
	 * it.  And even then a status moves one step forward only, after that
	 * step's ledger row exists.
	 */
	IF (NEW.status, NEW.announced_at, NEW.closed_at)
	   IS DISTINCT FROM (OLD.status, OLD.announced_at, OLD.closed_at)
	   AND (NOT @extschema@.status_change_allowed(NEW.year)
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
		PERFORM @extschema@.refuse_locked_year(OLD.year, 'settings'::text,
			'carry_lag and price_decimals are fixed when the price is announced.'::text);
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
	IF to_regclass(format('%I.%I', '@extschema@', @extschema@.usage_partition(NEW.year))) IS NOT NULL THEN
		RETURN NULL;
	END IF;
	/* the partition belongs to the extension's owner, like its parent */
	EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.usage FOR VALUES FROM (%L) TO (%L)',
				   '@extschema@', @extschema@.usage_partition(NEW.year), '@extschema@',
				   make_date(NEW.year, 1, 1), make_date(NEW.year + 1, 1, 1));
	EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', '@extschema@', @extschema@.usage_partition(NEW.year));
	EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', '@extschema@', @extschema@.usage_partition(NEW.year));
	/*
	 * Row triggers are cloned to the partition, statement triggers are not:
	 * a TRUNCATE or INSERT naming the partition itself must be guarded too.
	 */
	EXECUTE format('CREATE TRIGGER usage_no_truncate BEFORE TRUNCATE ON %I.%I '
				   'FOR EACH STATEMENT EXECUTE FUNCTION %I.refuse_ledger_change()',
				   '@extschema@', @extschema@.usage_partition(NEW.year), '@extschema@');
	EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER usage_no_truncate',
				   '@extschema@', @extschema@.usage_partition(NEW.year));
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

/* ------------------------------------------------------------------
 * The DROP guard: DDL that would delete ledger data
 *
 * DROP EXTENSION, DROP SCHEMA, DROP TABLE of a ledger or usage partition,
 * DROP OWNED BY their owner, DETACH PARTITION and DROP COLUMN are judged
 * by what they name (the parse tree, in C), not by the text of the query,
 * before they run: a sql_drop trigger of the extension would be dropped
 * along with it, and rows of a dropped table can no longer be counted.
 * A sql_drop trigger catches what CASCADE takes along (a ledger column
 * that goes with a dropped type, say).  Both are ENABLE ALWAYS, so
 * session_replication_role = replica does not switch them off.  The
 * only way past them is afregning.allow_drop, which only a superuser can
 * set (docs/restore.md).
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.ledgers_hold_data()
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text;
	found_rows boolean;
BEGIN
	/* the append-only ledgers; a table already dropped by a cascade is skipped */
	FOREACH t IN ARRAY ARRAY['cost_entry', 'usage', 'usage_batch', 'price_announcement',
							 'buffet_invoice', 'installment', 'year_close', 'usage_line',
							 'direct_charge_line', 'schedule_charge', 'cost_line', 'carry_posting']
	LOOP
		CONTINUE WHEN pg_catalog.to_regclass(format('%I.%I', '@extschema@', t)) IS NULL;
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', '@extschema@', t) INTO found_rows;
		IF found_rows THEN
			RETURN true;
		END IF;
	END LOOP;
	RETURN false;
END
$$;
COMMENT ON FUNCTION @extschema@.ledgers_hold_data() IS
	'Whether any ledger table (hovedbog) holds a row, counted over all municipalities; the DROP guard refuses to drop ledgers that do';

CREATE FUNCTION @extschema@.drop_allowed()
RETURNS boolean
AS 'MODULE_PATHNAME', 'drop_allowed_sql'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.drop_allowed() IS
	'Whether afregning.allow_drop is on (a setting only a superuser can change) and both the current and the session user are superusers: the DROP guard then lets ledger data be dropped';

CREATE FUNCTION @extschema@.guard_ddl_start()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'guard_ddl_start'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.guard_ddl_start() IS
	'Event trigger (ddl_command_start): refuses, while the ledgers hold data, a command that names the extension, its schema, one of its tables, the objects of their owner, or a partition or column of one of its tables (55000), unless afregning.allow_drop';

CREATE FUNCTION @extschema@.guard_dropped_objects()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	what text;
BEGIN
	SELECT string_agg(format('%s %s', d.object_type, d.object_identity), ', ' ORDER BY d.object_identity)
	  INTO what
	  FROM pg_catalog.pg_event_trigger_dropped_objects() d
	 WHERE d.schema_name = '@extschema@' AND d.object_type IN ('table', 'table column')
	   AND NOT d.is_temporary;
	/* this fires for every drop in the database: check privileges of nobody else's */
	IF what IS NULL THEN
		RETURN;
	END IF;
	IF NOT @extschema@.drop_allowed() AND @extschema@.ledgers_hold_data() THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('refusing to drop %s while the ledgers of afregning hold data', what),
			DETAIL = 'The command would delete posted costs, usage, invoices or carry-forwards.',
			HINT = 'Take a pg_dump first; then a superuser may SET afregning.allow_drop = on for the session and repeat the command.';
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_dropped_objects() IS
	'Event trigger (sql_drop): refuses a command whose cascade dropped a table or column of the extension''s schema while the ledgers hold data (55000), unless afregning.allow_drop';

CREATE EVENT TRIGGER afregning_guard_ddl ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP TABLE', 'DROP OWNED', 'ALTER TABLE')
	EXECUTE FUNCTION @extschema@.guard_ddl_start();
ALTER EVENT TRIGGER afregning_guard_ddl ENABLE ALWAYS;
CREATE EVENT TRIGGER afregning_guard_dropped ON sql_drop
	EXECUTE FUNCTION @extschema@.guard_dropped_objects();
ALTER EVENT TRIGGER afregning_guard_dropped ENABLE ALWAYS;
COMMENT ON EVENT TRIGGER afregning_guard_ddl IS
	'Refuses DDL that names afregning''s extension, schema, tables, their owner''s objects, partitions or columns while the ledgers hold data';
COMMENT ON EVENT TRIGGER afregning_guard_dropped IS
	'Refuses a command whose cascade dropped a table or column of afregning''s schema while the ledgers hold data';

/* TRUNCATE skips the row guards: refuse it once a year of the table is locked. */
CREATE FUNCTION @extschema@.guard_truncate_locked()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y integer;
BEGIN
	IF @extschema@.restoring() THEN
		RETURN NULL;
	END IF;
	IF TG_TABLE_NAME = 'population' THEN
		SELECT min(p.year) INTO y FROM @extschema@.population p
		 WHERE @extschema@.year_status(p.year) >= 'announced'::@extschema@.year_status;
	ELSIF TG_TABLE_NAME = 'baseline' THEN
		SELECT min(b.year) INTO y FROM @extschema@.baseline b
		 WHERE @extschema@.year_status(b.year) >= 'closed'::@extschema@.year_status;
	ELSIF TG_TABLE_NAME = 'tariff' THEN
		SELECT max(b.year) INTO y FROM @extschema@.billing_year b
		 WHERE b.status = 'closed'::@extschema@.year_status;
		IF NOT EXISTS (SELECT 1 FROM @extschema@.tariff t
					   WHERE @extschema@.tariff_effective_month(t.valid_from) < make_date(y + 1, 1, 1)) THEN
			y := NULL;
		END IF;
	END IF;
	IF y IS NOT NULL THEN
		PERFORM @extschema@.refuse_locked_year(y, TG_TABLE_NAME::text,
			'TRUNCATE would remove rows that a settled year was computed from.'::text);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_truncate_locked() IS
	'Trigger: refuses TRUNCATE of population, baseline or tariff while they hold rows of a locked year (55000), outside restore mode';

CREATE TRIGGER population_no_truncate BEFORE TRUNCATE ON @extschema@.population
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.guard_truncate_locked();
CREATE TRIGGER baseline_no_truncate BEFORE TRUNCATE ON @extschema@.baseline
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.guard_truncate_locked();
CREATE TRIGGER tariff_no_truncate BEFORE TRUNCATE ON @extschema@.tariff
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.guard_truncate_locked();
ALTER TABLE @extschema@.population ENABLE ALWAYS TRIGGER population_no_truncate;
ALTER TABLE @extschema@.baseline ENABLE ALWAYS TRIGGER baseline_no_truncate;
ALTER TABLE @extschema@.tariff ENABLE ALWAYS TRIGGER tariff_no_truncate;
