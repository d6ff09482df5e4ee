
/* ------------------------------------------------------------------
 * BI views of SPEC §6 beyond the 0.1.0 set, and what a municipality
 * role needs to read every view.
 *
 * A municipality role sees the national figures and its own
 * municipality's rows. National figures that rest on other
 * municipalities' rows (the per-call charges of all municipalities, the
 * national distribution of a benchmark) come from SECURITY DEFINER
 * functions that return aggregates only, never a row of another
 * municipality; the views join them with the rows the reader may see.
 * ------------------------------------------------------------------ */

/* National tables the views read: no municipality's rows in them. */
GRANT SELECT ON @extschema@.cost_entry, @extschema@.cost_line, @extschema@.service_order,
	@extschema@.year_close, @extschema@.carry_posting, @extschema@.charge_schedule
	TO afregning_municipality;

/* Rated usage of the pool and of consumer systems is a national figure;
 * a municipality's rated per-call lines stay visible to that municipality
 * only (policy own_municipality). */
ALTER TABLE @extschema@.usage_line ENABLE ROW LEVEL SECURITY;
CREATE POLICY national_usage_line ON @extschema@.usage_line FOR SELECT
	TO afregning_municipality
	USING (route::text <> 'municipality');

/* ------------------------------------------------------------------
 * per_call_recovery: does the tariff cover the cost (SPEC §3)?
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.per_call_charged()
RETURNS TABLE (year integer, service_code text, calls bigint, amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	/* totals over every municipality: no municipality code leaves here */
	SELECT extract(year FROM d.month)::integer, d.service_code,
		   sum(d.calls)::bigint, sum(d.amount)
	  FROM @extschema@.direct_charge_line d
	 GROUP BY 1, 2
$$;
COMMENT ON FUNCTION @extschema@.per_call_charged() IS
	'National per-call charges posted (betaling pr. opslag) per year and service, summed over all municipalities; aggregates only, so every role may read them';
REVOKE ALL ON FUNCTION @extschema@.per_call_charged() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.per_call_charged()
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.per_call_recovery WITH (security_invoker = true) AS
WITH cost AS (
	/* routing as fixed by announcement and close (0.1.0 wrote route
	 * municipality for these entries) ... */
	SELECT l.entry_key, l.year, l.basis::text AS basis, l.amount
	  FROM @extschema@.cost_line l
	 WHERE l.route::text IN ('per_call', 'municipality')
	UNION ALL
	/* ... and as it stands today for what is not fixed yet */
	SELECT a.entry_key, a.year, a.basis::text, a.amount
	  FROM @extschema@.cost_allocation a
	 WHERE a.route = 'per_call'
	   AND CASE a.basis WHEN 'expected' THEN @extschema@.year_status(a.year) = 'open'
						ELSE @extschema@.year_status(a.year) <> 'closed' END
),
cost_by_service AS (
	SELECT c.year, e.service_code,
		   sum(c.amount) FILTER (WHERE c.basis = 'expected') AS expected_cost,
		   sum(c.amount) FILTER (WHERE c.basis = 'actual') AS cost
	  FROM cost c
	  JOIN @extschema@.cost_entry e ON e.entry_key = c.entry_key
	 GROUP BY c.year, e.service_code
)
SELECT coalesce(k.year, ch.year) AS year,
	   coalesce(k.service_code, ch.service_code)::varchar(64) AS service_code,
	   coalesce(k.expected_cost, 0)::numeric(14,2) AS expected_cost,
	   coalesce(k.cost, 0)::numeric(14,2) AS cost,
	   coalesce(ch.calls, 0)::bigint AS calls,
	   coalesce(ch.amount, 0)::numeric(14,2) AS charged,
	   (coalesce(ch.amount, 0) - coalesce(k.cost, 0))::numeric(14,2) AS difference
  FROM cost_by_service k
  FULL JOIN @extschema@.per_call_charged() ch
	ON ch.year = k.year AND ch.service_code = k.service_code;
COMMENT ON VIEW @extschema@.per_call_recovery IS
	'Per-call services (betaling pr. opslag): their data consumption costs (route per_call, never in the pool) beside the per-call charges posted to all municipalities, per year and service: does the tariff cover the cost? National figures, the same for every role';
COMMENT ON COLUMN @extschema@.per_call_recovery.year IS 'Billing year (of the cost entries; of the months charged)';
COMMENT ON COLUMN @extschema@.per_call_recovery.service_code IS 'Per-call service, e.g. CPR';
COMMENT ON COLUMN @extschema@.per_call_recovery.expected_cost IS 'Expected data consumption cost entries of the service (forventet), DKK';
COMMENT ON COLUMN @extschema@.per_call_recovery.cost IS 'Actual data consumption cost entries of the service (faktisk), DKK';
COMMENT ON COLUMN @extschema@.per_call_recovery.calls IS 'Calls charged to municipalities for the year''s months';
COMMENT ON COLUMN @extschema@.per_call_recovery.charged IS 'Per-call charges posted for the year''s months, all municipalities, DKK';
COMMENT ON COLUMN @extschema@.per_call_recovery.difference IS 'charged - cost, DKK: positive when the tariff recovered more than the actual cost, negative when it fell short';
GRANT SELECT ON @extschema@.per_call_recovery
	TO afregning_admin, afregning_reader, afregning_municipality;

/* ------------------------------------------------------------------
 * price_waterfall: explain_price of every announced or closed year
 * ------------------------------------------------------------------ */

CREATE VIEW @extschema@.price_waterfall WITH (security_invoker = true) AS
SELECT y.year, w.line, w.item::varchar(32) AS item,
	   (CASE WHEN w.item NOT IN ('citizens', 'price_unrounded') THEN w.amount END)::numeric(14,2) AS amount,
	   (CASE WHEN w.item = 'citizens' THEN w.amount END)::bigint AS citizens,
	   (CASE WHEN w.item = 'price_unrounded' THEN w.amount END)::numeric(24,10) AS unrounded
  FROM @extschema@.billing_year y
 CROSS JOIN LATERAL @extschema@.explain_price(y.year) w
 WHERE y.status <> 'open';
COMMENT ON VIEW @extschema@.price_waterfall IS
	'Waterfall of the price (prisudregning) of every announced or closed year, as explain_price gives it: the expected pool by cost type, carry-in, pool, citizens, unrounded and rounded price, billed and the rounding residual; money, counts and the unrounded price in separate typed columns';
COMMENT ON COLUMN @extschema@.price_waterfall.year IS 'Announced or closed billing year';
COMMENT ON COLUMN @extschema@.price_waterfall.line IS 'Line of the waterfall, in order';
COMMENT ON COLUMN @extschema@.price_waterfall.item IS 'A cost type, or carry_in, pool, citizens, price_unrounded, price, billed, rounding_residual';
COMMENT ON COLUMN @extschema@.price_waterfall.amount IS 'Amount of a money line, DKK; null on the lines citizens and price_unrounded';
COMMENT ON COLUMN @extschema@.price_waterfall.citizens IS 'Citizens of all municipalities, on the line citizens; null otherwise';
COMMENT ON COLUMN @extschema@.price_waterfall.unrounded IS 'pool / citizens to 10 decimals, on the line price_unrounded; null otherwise';
GRANT SELECT ON @extschema@.price_waterfall
	TO afregning_admin, afregning_reader, afregning_municipality;

/* ------------------------------------------------------------------
 * usage_month: the consumption loaded so far, per month
 * ------------------------------------------------------------------ */

CREATE VIEW @extschema@.usage_month WITH (security_invoker = true) AS
SELECT extract(year FROM u.period)::integer AS year, u.period AS month,
	   u.municipality_code::varchar(3) AS municipality_code,
	   u.system_code::varchar(32) AS system_code,
	   u.service_code::varchar(64) AS service_code,
	   u.calls::bigint AS calls,
	   t.unit_price::numeric(12,4) AS unit_price,
	   round(u.calls * CASE WHEN s.billing::text = 'per_call' THEN t.unit_price
							ELSE coalesce(t.unit_price, 0) END, 2)::numeric(14,2) AS amount
  FROM @extschema@.usage_summary u
  JOIN @extschema@.service s ON s.code = u.service_code
  LEFT JOIN LATERAL (
		SELECT tf.unit_price
		  FROM @extschema@.tariff tf
		 WHERE tf.service_code = u.service_code
		   AND @extschema@.tariff_effective_month(tf.valid_from) <= u.period
		 ORDER BY tf.valid_from DESC
		 LIMIT 1) t ON true;
COMMENT ON VIEW @extschema@.usage_month IS
	'Usage loaded so far (forbrug) per month, municipality, consumer system and service, rated at the tariff in force that month, one rounding to øre per row; not yet routed (routing, baselines and charges come with bill_direct and close_year). Filter on month (not year) to read only the partitions needed';
COMMENT ON COLUMN @extschema@.usage_month.year IS 'Year of the month';
COMMENT ON COLUMN @extschema@.usage_month.month IS 'Month of the calls (first day)';
COMMENT ON COLUMN @extschema@.usage_month.municipality_code IS 'Calling municipality';
COMMENT ON COLUMN @extschema@.usage_month.system_code IS 'Calling consumer system';
COMMENT ON COLUMN @extschema@.usage_month.service_code IS 'Service called';
COMMENT ON COLUMN @extschema@.usage_month.calls IS 'Calls loaded so far';
COMMENT ON COLUMN @extschema@.usage_month.unit_price IS 'Tariff in force for the month, DKK per call; null where the service has none';
COMMENT ON COLUMN @extschema@.usage_month.amount IS 'calls × unit_price rounded half away from zero to øre, DKK; 0.00 for a service without a tariff, null for a per-call service without one (bill_direct refuses it)';
GRANT SELECT ON @extschema@.usage_month
	TO afregning_admin, afregning_reader, afregning_municipality;

/* ------------------------------------------------------------------
 * invoice_preview: what an open year would cost each municipality
 * ------------------------------------------------------------------ */

CREATE VIEW @extschema@.invoice_preview WITH (security_invoker = true) AS
SELECT x.year, x.municipality_code::varchar(3) AS municipality_code,
	   x.municipality_name::varchar(100) AS municipality_name,
	   x.citizens::bigint AS citizens, x.price::numeric(14,2) AS price,
	   x.buffet_amount::numeric(14,2) AS buffet_amount,
	   x.direct_amount::numeric(14,2) AS direct_amount,
	   x.infrastructure_amount::numeric(14,2) AS infrastructure_amount,
	   (x.buffet_amount + x.direct_amount + x.infrastructure_amount)::numeric(14,2) AS total
  FROM (
	SELECT y.year, p.municipality_code, m.name AS municipality_name, p.citizens, pv.price,
		   pv.price * p.citizens AS buffet_amount,
		   coalesce((SELECT sum(d.amount) FROM @extschema@.direct_charge_line d
					  WHERE d.municipality_code = p.municipality_code
						AND d.month BETWEEN make_date(y.year, 1, 1) AND make_date(y.year, 12, 1)),
					0) AS direct_amount,
		   coalesce((SELECT sum(@extschema@.graduated_charge(p.citizens::bigint, s.from_citizens::integer[], s.rates::numeric[]))
					   FROM (SELECT c.schedule_code,
									array_agg(c.from_citizens ORDER BY c.from_citizens) AS from_citizens,
									array_agg(c.rate ORDER BY c.from_citizens) AS rates
							   FROM @extschema@.charge_schedule c
							  WHERE c.valid_from_year = (SELECT max(c2.valid_from_year)
														   FROM @extschema@.charge_schedule c2
														  WHERE c2.schedule_code = c.schedule_code
															AND c2.valid_from_year <= y.year)
							  GROUP BY c.schedule_code) s),
					0) AS infrastructure_amount
	  FROM @extschema@.billing_year y
	 CROSS JOIN LATERAL @extschema@.preview_price(y.year) pv
	  JOIN @extschema@.population p ON p.year = y.year
	  JOIN @extschema@.municipality m ON m.code = p.municipality_code
	 WHERE y.status = 'open') x;
COMMENT ON VIEW @extschema@.invoice_preview IS
	'What each municipality would pay for an open year (forventet betaling) at the previewed buffet price: buffet, per-call charges of the year''s months posted so far, and the graduated charges in force (infrastrukturpris); nothing is locked until the price is announced (then see municipality_invoice)';
COMMENT ON COLUMN @extschema@.invoice_preview.year IS 'Open billing year';
COMMENT ON COLUMN @extschema@.invoice_preview.municipality_code IS 'Municipality code (kommunekode)';
COMMENT ON COLUMN @extschema@.invoice_preview.municipality_name IS 'Municipality name';
COMMENT ON COLUMN @extschema@.invoice_preview.citizens IS 'Citizens loaded for the year so far';
COMMENT ON COLUMN @extschema@.invoice_preview.price IS 'Previewed buffet price per citizen, DKK (preview_price, over all municipalities)';
COMMENT ON COLUMN @extschema@.invoice_preview.buffet_amount IS 'price × citizens, DKK';
COMMENT ON COLUMN @extschema@.invoice_preview.direct_amount IS 'Per-call charges of the year''s months posted so far, DKK';
COMMENT ON COLUMN @extschema@.invoice_preview.infrastructure_amount IS 'Graduated per-citizen charges in force for the year (infrastrukturpris), DKK';
COMMENT ON COLUMN @extschema@.invoice_preview.total IS 'buffet_amount + direct_amount + infrastructure_amount, DKK';
GRANT SELECT ON @extschema@.invoice_preview
	TO afregning_admin, afregning_reader, afregning_municipality;

/* ------------------------------------------------------------------
 * municipality_benchmark: a municipality against the country
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.benchmark_national()
RETURNS TABLE (year integer, municipalities integer,
			   calls_q1 numeric, calls_median numeric, calls_q3 numeric, calls_mean numeric,
			   direct_q1 numeric, direct_median numeric, direct_q3 numeric, direct_mean numeric,
			   calls_distribution numeric[], direct_distribution numeric[])
LANGUAGE sql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	/* per municipality: per-call calls and charges of the year's months per
	 * 1,000 citizens, rounded as the benchmark view shows them ... */
	WITH m AS (
		SELECT p.year,
			   round(1000.0 * coalesce(c.calls, 0) / p.citizens, 1) AS calls_per_1000,
			   round(1000.0 * coalesce(c.amount, 0) / p.citizens, 2) AS direct_per_1000
		  FROM @extschema@.population p
		  LEFT JOIN (SELECT extract(year FROM d.month)::integer AS year, d.municipality_code,
							sum(d.calls) AS calls, sum(d.amount) AS amount
					   FROM @extschema@.direct_charge_line d
					  GROUP BY 1, 2) c
			ON c.year = p.year AND c.municipality_code = p.municipality_code
	)
	/* ... and only their distribution leaves: no municipality code */
	SELECT m.year, count(*)::integer,
		   round(percentile_cont(0.25) WITHIN GROUP (ORDER BY m.calls_per_1000)::numeric, 1),
		   round(percentile_cont(0.50) WITHIN GROUP (ORDER BY m.calls_per_1000)::numeric, 1),
		   round(percentile_cont(0.75) WITHIN GROUP (ORDER BY m.calls_per_1000)::numeric, 1),
		   round(avg(m.calls_per_1000), 1),
		   round(percentile_cont(0.25) WITHIN GROUP (ORDER BY m.direct_per_1000)::numeric, 2),
		   round(percentile_cont(0.50) WITHIN GROUP (ORDER BY m.direct_per_1000)::numeric, 2),
		   round(percentile_cont(0.75) WITHIN GROUP (ORDER BY m.direct_per_1000)::numeric, 2),
		   round(avg(m.direct_per_1000), 2),
		   array_agg(m.calls_per_1000 ORDER BY m.calls_per_1000 DESC),
		   array_agg(m.direct_per_1000 ORDER BY m.direct_per_1000 DESC)
	  FROM m
	 GROUP BY m.year
$$;
COMMENT ON FUNCTION @extschema@.benchmark_national() IS
	'National distribution per year of per-call use per 1,000 citizens (calls, one decimal) and of per-call charges per 1,000 citizens (DKK, two decimals) over all municipalities: count, quartiles (percentile_cont), mean and the sorted values without municipality codes, from which a municipality''s rank is counted; aggregates only, so every role may read them';
REVOKE ALL ON FUNCTION @extschema@.benchmark_national() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.benchmark_national()
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.municipality_benchmark WITH (security_invoker = true) AS
WITH own AS (
	/* the rows the reader may see: every municipality for staff, its own
	 * for a municipality role */
	SELECT p.year, p.municipality_code, m.name AS municipality_name, p.citizens,
		   coalesce(c.calls, 0) AS calls, coalesce(c.amount, 0) AS direct_amount,
		   round(1000.0 * coalesce(c.calls, 0) / p.citizens, 1) AS calls_per_1000,
		   round(1000.0 * coalesce(c.amount, 0) / p.citizens, 2) AS direct_per_1000
	  FROM @extschema@.population p
	  JOIN @extschema@.municipality m ON m.code = p.municipality_code
	  LEFT JOIN (SELECT extract(year FROM d.month)::integer AS year, d.municipality_code,
						sum(d.calls) AS calls, sum(d.amount) AS amount
				   FROM @extschema@.direct_charge_line d
				  GROUP BY 1, 2) c
		ON c.year = p.year AND c.municipality_code = p.municipality_code
)
SELECT o.year, o.municipality_code::varchar(3) AS municipality_code,
	   o.municipality_name::varchar(100) AS municipality_name,
	   o.citizens::bigint AS citizens, o.calls::bigint AS calls,
	   o.direct_amount::numeric(14,2) AS direct_amount,
	   o.calls_per_1000::numeric(12,1) AS calls_per_1000_citizens,
	   o.direct_per_1000::numeric(14,2) AS direct_per_1000_citizens,
	   n.municipalities,
	   (1 + (SELECT count(*) FROM unnest(n.calls_distribution) v WHERE v > o.calls_per_1000))::integer
		   AS calls_rank,
	   (1 + (SELECT count(*) FROM unnest(n.direct_distribution) v WHERE v > o.direct_per_1000))::integer
		   AS direct_rank,
	   n.calls_q1::numeric(12,1) AS calls_per_1000_q1,
	   n.calls_median::numeric(12,1) AS calls_per_1000_median,
	   n.calls_q3::numeric(12,1) AS calls_per_1000_q3,
	   n.calls_mean::numeric(12,1) AS calls_per_1000_mean,
	   n.direct_q1::numeric(14,2) AS direct_per_1000_q1,
	   n.direct_median::numeric(14,2) AS direct_per_1000_median,
	   n.direct_q3::numeric(14,2) AS direct_per_1000_q3,
	   n.direct_mean::numeric(14,2) AS direct_per_1000_mean
  FROM own o
  JOIN @extschema@.benchmark_national() n ON n.year = o.year;
COMMENT ON VIEW @extschema@.municipality_benchmark IS
	'A municipality against the country (benchmark) per year: its per-call use and charges per 1,000 citizens, its rank among all municipalities (1 = highest use) and the national distribution (quartiles, mean) over all municipalities with citizens that year; a municipality role sees its own rows, with the national figures computed over every municipality';
COMMENT ON COLUMN @extschema@.municipality_benchmark.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.municipality_benchmark.municipality_code IS 'Municipality code (kommunekode)';
COMMENT ON COLUMN @extschema@.municipality_benchmark.municipality_name IS 'Municipality name';
COMMENT ON COLUMN @extschema@.municipality_benchmark.citizens IS 'Citizens of the year';
COMMENT ON COLUMN @extschema@.municipality_benchmark.calls IS 'Per-call lookups (e.g. CPR) charged for the year''s months';
COMMENT ON COLUMN @extschema@.municipality_benchmark.direct_amount IS 'Per-call charges (direkte betaling) of the year''s months, DKK';
COMMENT ON COLUMN @extschema@.municipality_benchmark.calls_per_1000_citizens IS 'calls per 1,000 citizens, one decimal';
COMMENT ON COLUMN @extschema@.municipality_benchmark.direct_per_1000_citizens IS 'direct_amount per 1,000 citizens, DKK, two decimals';
COMMENT ON COLUMN @extschema@.municipality_benchmark.municipalities IS 'Municipalities with citizens that year: the size of the national distribution';
COMMENT ON COLUMN @extschema@.municipality_benchmark.calls_rank IS 'Rank by calls_per_1000_citizens among all municipalities, 1 = highest; equal values share a rank';
COMMENT ON COLUMN @extschema@.municipality_benchmark.direct_rank IS 'Rank by direct_per_1000_citizens among all municipalities, 1 = highest; equal values share a rank';
COMMENT ON COLUMN @extschema@.municipality_benchmark.calls_per_1000_q1 IS 'National first quartile of calls per 1,000 citizens (continuous percentile)';
COMMENT ON COLUMN @extschema@.municipality_benchmark.calls_per_1000_median IS 'National median of calls per 1,000 citizens';
COMMENT ON COLUMN @extschema@.municipality_benchmark.calls_per_1000_q3 IS 'National third quartile of calls per 1,000 citizens';
COMMENT ON COLUMN @extschema@.municipality_benchmark.calls_per_1000_mean IS 'National mean of calls per 1,000 citizens (each municipality counts once)';
COMMENT ON COLUMN @extschema@.municipality_benchmark.direct_per_1000_q1 IS 'National first quartile of per-call charges per 1,000 citizens, DKK';
COMMENT ON COLUMN @extschema@.municipality_benchmark.direct_per_1000_median IS 'National median of per-call charges per 1,000 citizens, DKK';
COMMENT ON COLUMN @extschema@.municipality_benchmark.direct_per_1000_q3 IS 'National third quartile of per-call charges per 1,000 citizens, DKK';
COMMENT ON COLUMN @extschema@.municipality_benchmark.direct_per_1000_mean IS 'National mean of per-call charges per 1,000 citizens, DKK (each municipality counts once)';
GRANT SELECT ON @extschema@.municipality_benchmark
	TO afregning_admin, afregning_reader, afregning_municipality;
