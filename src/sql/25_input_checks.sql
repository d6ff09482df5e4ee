
/* ------------------------------------------------------------------
 * Input checks: what settlement cannot use is refused at entry
 *
 * A CHECK (x >= 0) lets NaN through (NaN sorts above every number), and a
 * typmod such as numeric(12,4) rounds a value on input, before any CHECK
 * sees it: a tariff of 0.00004 was stored as 0.0000 without a word.  So
 * the money columns of the input tables are plain numeric, and CHECK
 * constraints refuse (23514, named after the rule) what is not finite,
 * what is out of range and what has more decimal places than the column's
 * unit.  Decimal places are counted as written (scale), trailing zeros
 * included, so that a stored value is exactly what the model computes
 * with and shows.
 *
 *   column                     unit / decimals   range
 *   cost_entry.amount          øre, 2            |amount| < 10^12 (numeric(14,2))
 *   tariff.unit_price          1/10000 DKK, 4    0 <= unit_price < 10^8 (numeric(12,4))
 *   charge_schedule.rate       1/10000 DKK, 4    0 <= rate < 10^8; graduated_charge()
 *                                                computes tiers exactly at 4 decimals
 *                                                and rounds the charge once to øre
 *   service_order.share        any, up to 1000   0 < share <= 10^9 (SPEC S13: a weight;
 *                                                1/3.0 has 20 decimals and is accepted;
 *                                                apportion() splits by any scale exactly)
 *
 * Population (citizens >= 1) and billing_year.price_decimals (0 to 2) are
 * checked since 0.1.0.
 *
 * Constraints are applied in name order, so for every column "finite"
 * comes first and names the commonest poison.  On an upgrade from 0.1.0
 * the typmod columns already hold only finite values of their scale;
 * shares were unconstrained, and a share that settlement cannot use (NaN,
 * above 10^9) stops the upgrade with the constraint's name: correct it
 * (service_order is reference data, not a ledger) and update again.
 *
 * This file runs before the guards and the views: on an upgrade the
 * prelude has dropped every view that read these columns, and the
 * append-only triggers are not there yet.  numeric(p,s) to numeric needs
 * no table rewrite.
 * ------------------------------------------------------------------ */

ALTER TABLE @extschema@.cost_entry ALTER COLUMN amount TYPE numeric;
ALTER TABLE @extschema@.cost_entry
	ADD CONSTRAINT cost_entry_amount_finite CHECK (abs(amount) < 'Infinity'::numeric),
	ADD CONSTRAINT cost_entry_amount_range CHECK (abs(amount) < 1000000000000::numeric),
	ADD CONSTRAINT cost_entry_amount_whole_ore CHECK (scale(amount) <= 2);
COMMENT ON COLUMN @extschema@.cost_entry.amount IS
	'Amount in DKK, at most 2 decimal places (øre) and below 10^12 in magnitude; negative for credits';
COMMENT ON CONSTRAINT cost_entry_amount_finite ON @extschema@.cost_entry IS
	'An amount is a number: NaN and infinities are refused';
COMMENT ON CONSTRAINT cost_entry_amount_range ON @extschema@.cost_entry IS
	'An amount fits numeric(14,2): its magnitude is below 10^12 DKK';
COMMENT ON CONSTRAINT cost_entry_amount_whole_ore ON @extschema@.cost_entry IS
	'An amount is written with at most 2 decimal places (whole øre); it is never rounded silently';

ALTER TABLE @extschema@.tariff ALTER COLUMN unit_price TYPE numeric;
ALTER TABLE @extschema@.tariff
	ADD CONSTRAINT tariff_unit_price_finite CHECK (abs(unit_price) < 'Infinity'::numeric),
	ADD CONSTRAINT tariff_unit_price_range CHECK (unit_price < 100000000::numeric),
	ADD CONSTRAINT tariff_unit_price_scale CHECK (scale(unit_price) <= 4);
COMMENT ON COLUMN @extschema@.tariff.unit_price IS
	'Price per call in DKK (kr. pr. kald), at most 4 decimal places, from 0 to below 10^8';
COMMENT ON CONSTRAINT tariff_unit_price_finite ON @extschema@.tariff IS
	'A tariff is a number: NaN and infinities are refused';
COMMENT ON CONSTRAINT tariff_unit_price_range ON @extschema@.tariff IS
	'A tariff fits numeric(12,4): below 10^8 DKK per call';
COMMENT ON CONSTRAINT tariff_unit_price_scale ON @extschema@.tariff IS
	'A tariff is written with at most 4 decimal places (1/10000 DKK); it is never rounded silently';

ALTER TABLE @extschema@.charge_schedule ALTER COLUMN rate TYPE numeric;
ALTER TABLE @extschema@.charge_schedule
	ADD CONSTRAINT charge_schedule_rate_finite CHECK (abs(rate) < 'Infinity'::numeric),
	ADD CONSTRAINT charge_schedule_rate_range CHECK (rate < 100000000::numeric),
	ADD CONSTRAINT charge_schedule_rate_scale CHECK (scale(rate) <= 4);
COMMENT ON COLUMN @extschema@.charge_schedule.rate IS
	'DKK per citizen per year within the tier, at most 4 decimal places (graduated_charge computes exactly at 1/10000 DKK and rounds each charge once to øre), from 0 to below 10^8';
COMMENT ON CONSTRAINT charge_schedule_rate_finite ON @extschema@.charge_schedule IS
	'A rate is a number: NaN and infinities are refused';
COMMENT ON CONSTRAINT charge_schedule_rate_range ON @extschema@.charge_schedule IS
	'A rate is below 10^8 DKK per citizen';
COMMENT ON CONSTRAINT charge_schedule_rate_scale ON @extschema@.charge_schedule IS
	'A rate is written with at most 4 decimal places, the precision graduated_charge() computes with; it is never rounded silently';

ALTER TABLE @extschema@.service_order
	ADD CONSTRAINT service_order_share_finite CHECK (abs(share) < 'Infinity'::numeric),
	ADD CONSTRAINT service_order_share_range CHECK (share <= 1000000000::numeric),
	ADD CONSTRAINT service_order_share_scale CHECK (scale(share) <= 1000);
COMMENT ON COLUMN @extschema@.service_order.share IS
	'Weight of this orderer (bestillerandel), above 0 and at most 10^9, with any number of decimal places up to 1000 (e.g. 1/3.0); weights of a service are normalised by their sum, exactly';
COMMENT ON CONSTRAINT service_order_share_finite ON @extschema@.service_order IS
	'A share is a number: NaN and infinities are refused';
COMMENT ON CONSTRAINT service_order_share_range ON @extschema@.service_order IS
	'A share is at most 10^9; only the ratios of a service''s shares matter';
COMMENT ON CONSTRAINT service_order_share_scale ON @extschema@.service_order IS
	'A share has at most 1000 decimal places, the most a numeric type modifier can declare';

/* ------------------------------------------------------------------
 * Seeded charge schedules and user edits (they must survive a dump)
 *
 * CREATE EXTENSION seeds the infrastructure price (base/60_seed.sql).  A
 * seeded row is marked seeded and left out of dumps, because the restore's
 * CREATE EXTENSION brings it back.  As soon as the administrator inserts,
 * changes or deletes a row of a seeded schedule (schedule_code and
 * valid_from_year), every row of that schedule becomes user data
 * (seeded = false) and is dumped.  On restore, in restore mode, the first
 * dumped row of such a schedule removes the seeded rows of it, so that the
 * restored schedule is exactly the dumped one: an edited rate, an added
 * tier and a deleted tier all survive.  A seeded schedule cannot be
 * emptied (the seed would come back with the next restore): set its rates
 * to 0, or add a schedule with a later valid_from_year.
 * ------------------------------------------------------------------ */

ALTER TABLE @extschema@.charge_schedule ADD COLUMN seeded boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN @extschema@.charge_schedule.seeded IS
	'The row is as CREATE EXTENSION seeded it, and is therefore not dumped; any change to a row of its schedule turns the whole schedule into user data';

CREATE FUNCTION @extschema@.charge_schedule_seed()
RETURNS TABLE (schedule_code text, valid_from_year integer, from_citizens integer, rate numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/* the rows base/60_seed.sql inserts: infrastrukturpris since 2020 */
	VALUES ('infrastructure'::text, 2020, 0, 25.00::numeric),
		   ('infrastructure'::text, 2020, 150000, 12.50::numeric)
$$;
COMMENT ON FUNCTION @extschema@.charge_schedule_seed() IS
	'The charge schedule rows CREATE EXTENSION seeds: the infrastructure price (infrastrukturpris) of 25.00 kr per citizen, 12.50 above 150,000, from 2020';
REVOKE ALL ON FUNCTION @extschema@.charge_schedule_seed() FROM PUBLIC;
/* the schedule guard runs as the administrator who edits a schedule */
GRANT EXECUTE ON FUNCTION @extschema@.charge_schedule_seed() TO afregning_admin, afregning_reader;

/* A fresh install has just inserted the seed.  A database of 0.1.0 holds
 * it too, unless the administrator changed that schedule: then the whole
 * schedule is the administrator's and stays user data. */
WITH seed AS (
	SELECT s.schedule_code COLLATE "C" AS schedule_code, s.valid_from_year,
		   s.from_citizens, s.rate
	  FROM @extschema@.charge_schedule_seed() s
), unchanged AS (
	SELECT k.schedule_code, k.valid_from_year
	  FROM (SELECT DISTINCT seed.schedule_code, seed.valid_from_year FROM seed) k
	 WHERE NOT EXISTS (
			(SELECT c.from_citizens, c.rate FROM @extschema@.charge_schedule c
			  WHERE c.schedule_code = k.schedule_code AND c.valid_from_year = k.valid_from_year
			 EXCEPT
			 SELECT seed.from_citizens, seed.rate FROM seed
			  WHERE seed.schedule_code = k.schedule_code AND seed.valid_from_year = k.valid_from_year)
			UNION ALL
			(SELECT seed.from_citizens, seed.rate FROM seed
			  WHERE seed.schedule_code = k.schedule_code AND seed.valid_from_year = k.valid_from_year
			 EXCEPT
			 SELECT c.from_citizens, c.rate FROM @extschema@.charge_schedule c
			  WHERE c.schedule_code = k.schedule_code AND c.valid_from_year = k.valid_from_year))
)
UPDATE @extschema@.charge_schedule c
   SET seeded = true
  FROM unchanged u
 WHERE c.schedule_code = u.schedule_code AND c.valid_from_year = u.valid_from_year;

/* replaces the 0.1.0 condition, which left out the seeded schedule even when edited */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.charge_schedule', 'WHERE NOT seeded');

CREATE FUNCTION @extschema@.guard_charge_schedule_seed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_WHEN = 'BEFORE' THEN
		/* only CREATE EXTENSION seeds; a row written later is user data */
		NEW.seeded := false;
		IF @extschema@.restoring() THEN
			/* a dumped row of a seeded schedule replaces the seed of it */
			DELETE FROM @extschema@.charge_schedule c
			 WHERE c.schedule_code = NEW.schedule_code
			   AND c.valid_from_year = NEW.valid_from_year
			   AND c.seeded;
		END IF;
		RETURN NEW;
	END IF;

	IF @extschema@.restoring() THEN
		RETURN NULL;
	END IF;
	/* AFTER: the schedule(s) touched become user data as a whole */
	UPDATE @extschema@.charge_schedule c
	   SET seeded = false
	 WHERE c.seeded
	   AND ((TG_OP <> 'INSERT' AND c.schedule_code = OLD.schedule_code
			 AND c.valid_from_year = OLD.valid_from_year)
			OR (TG_OP <> 'DELETE' AND c.schedule_code = NEW.schedule_code
				AND c.valid_from_year = NEW.valid_from_year));
	IF TG_OP <> 'INSERT'
	   AND EXISTS (SELECT 1 FROM @extschema@.charge_schedule_seed() s
				   WHERE s.schedule_code COLLATE "C" = OLD.schedule_code
					 AND s.valid_from_year = OLD.valid_from_year)
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.charge_schedule c
					   WHERE c.schedule_code = OLD.schedule_code
						 AND c.valid_from_year = OLD.valid_from_year) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('the seeded charge schedule %s from %s cannot be emptied',
							 OLD.schedule_code, OLD.valid_from_year),
			DETAIL = 'CREATE EXTENSION seeds it, so a restore from a dump would bring it back.',
			HINT = 'Set its rates to 0, or add a schedule with a later valid_from_year.';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_charge_schedule_seed() IS
	'Trigger: keeps seeded charge schedule rows apart from user rows, so that edits survive pg_dump / pg_restore: a written row is user data, a change to a seeded schedule makes all of it user data, a seeded schedule cannot be emptied, and in restore mode a dumped row replaces the seed of its schedule';

CREATE TRIGGER charge_schedule_seed_before BEFORE INSERT OR UPDATE ON @extschema@.charge_schedule
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_charge_schedule_seed();
CREATE TRIGGER charge_schedule_seed_after AFTER INSERT OR UPDATE OR DELETE ON @extschema@.charge_schedule
	FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_charge_schedule_seed();
ALTER TABLE @extschema@.charge_schedule ENABLE ALWAYS TRIGGER charge_schedule_seed_before;
ALTER TABLE @extschema@.charge_schedule ENABLE ALWAYS TRIGGER charge_schedule_seed_after;
