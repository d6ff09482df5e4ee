
/* ------------------------------------------------------------------
 * Dashboard views: what a BI front page shows at a glance (typed as
 * the views of 80_views.sql; readable by every role)
 * ------------------------------------------------------------------ */

CREATE VIEW @extschema@.price_history WITH (security_invoker = true) AS
SELECT b.year, b.status, b.price,
	   (lag(b.price) OVER (ORDER BY b.year))::numeric(14,2) AS previous_price,
	   (b.price - lag(b.price) OVER (ORDER BY b.year))::numeric(14,2) AS change,
	   round(100 * (b.price - lag(b.price) OVER (ORDER BY b.year))
			 / nullif(lag(b.price) OVER (ORDER BY b.year), 0), 1)::numeric(12,1) AS change_percent
  FROM @extschema@.buffet_price b;
COMMENT ON VIEW @extschema@.price_history IS
	'Buffet price per year with the change from the year before (prisudvikling)';
COMMENT ON COLUMN @extschema@.price_history.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.price_history.status IS 'open, announced or closed';
COMMENT ON COLUMN @extschema@.price_history.price IS 'Price per citizen, DKK (a preview while open)';
COMMENT ON COLUMN @extschema@.price_history.previous_price IS 'Price of the year before, DKK';
COMMENT ON COLUMN @extschema@.price_history.change IS 'price - previous_price, DKK';
COMMENT ON COLUMN @extschema@.price_history.change_percent IS 'Change in percent of the previous price, one decimal';
GRANT SELECT ON @extschema@.price_history
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.cost_type_comparison WITH (security_invoker = true) AS
SELECT c.year, c.cost_type, c.route,
	   coalesce(sum(c.amount) FILTER (WHERE c.basis = 'expected'), 0)::numeric(14,2) AS expected,
	   coalesce(sum(c.amount) FILTER (WHERE c.basis = 'actual'), 0)::numeric(14,2) AS actual,
	   (coalesce(sum(c.amount) FILTER (WHERE c.basis = 'actual'), 0)
		- coalesce(sum(c.amount) FILTER (WHERE c.basis = 'expected'), 0))::numeric(14,2) AS difference
  FROM @extschema@.cost_breakdown c
 GROUP BY c.year, c.cost_type, c.route;
COMMENT ON VIEW @extschema@.cost_type_comparison IS
	'Expected against actual costs per cost type and route (figur 1: forventet og faktisk forbrug)';
COMMENT ON COLUMN @extschema@.cost_type_comparison.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.cost_type_comparison.cost_type IS 'Cost type (omkostningstype)';
COMMENT ON COLUMN @extschema@.cost_type_comparison.route IS 'pool, system, municipality (rated per-call usage) or per_call (cost entries of per-call services)';
COMMENT ON COLUMN @extschema@.cost_type_comparison.expected IS 'Expected amount (forventet), DKK';
COMMENT ON COLUMN @extschema@.cost_type_comparison.actual IS 'Actual amount (faktisk), DKK';
COMMENT ON COLUMN @extschema@.cost_type_comparison.difference IS 'actual - expected, DKK';
GRANT SELECT ON @extschema@.cost_type_comparison
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.cpr_intensity WITH (security_invoker = true) AS
SELECT p.year, p.municipality_code::varchar(3) AS municipality_code,
	   m.name::varchar(100) AS municipality_name, p.citizens::bigint AS citizens,
	   coalesce(c.calls, 0)::bigint AS calls,
	   round(1000.0 * coalesce(c.calls, 0) / p.citizens, 1)::numeric(12,1) AS calls_per_1000_citizens,
	   coalesce(c.amount, 0)::numeric(14,2) AS amount
  FROM @extschema@.population p
  JOIN @extschema@.municipality m ON m.code = p.municipality_code
  LEFT JOIN (SELECT extract(year FROM d.month)::integer AS year, d.municipality_code,
					sum(d.calls) AS calls, sum(d.amount) AS amount
			   FROM @extschema@.direct_charge_line d
			  GROUP BY 1, 2) c
	ON c.year = p.year AND c.municipality_code = p.municipality_code;
COMMENT ON VIEW @extschema@.cpr_intensity IS
	'Per-call lookups (CPR-opslag) billed per 1,000 citizens per municipality and year: the seed asks municipalities to show restraint with costly lookups; the national comparison is municipality_benchmark';
COMMENT ON COLUMN @extschema@.cpr_intensity.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.cpr_intensity.municipality_code IS 'Municipality code';
COMMENT ON COLUMN @extschema@.cpr_intensity.municipality_name IS 'Municipality name';
COMMENT ON COLUMN @extschema@.cpr_intensity.citizens IS 'Citizens of the year';
COMMENT ON COLUMN @extschema@.cpr_intensity.calls IS 'Per-call lookups billed for the year''s months';
COMMENT ON COLUMN @extschema@.cpr_intensity.calls_per_1000_citizens IS 'calls per 1,000 citizens, one decimal';
COMMENT ON COLUMN @extschema@.cpr_intensity.amount IS 'Per-call charges billed, DKK';
GRANT SELECT ON @extschema@.cpr_intensity
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.open_carry_forward WITH (security_invoker = true) AS
SELECT c.from_year, c.to_year, c.amount::numeric(14,2) AS difference,
	   @extschema@.year_status(c.to_year)::text::varchar(16) AS to_year_status
  FROM @extschema@.carry_posting c
 WHERE @extschema@.year_status(c.to_year) <> 'closed';
COMMENT ON VIEW @extschema@.open_carry_forward IS
	'Carry-forwards not yet settled: differences waiting in years that are not closed (R10: these plus billed equal actual pool costs)';
COMMENT ON COLUMN @extschema@.open_carry_forward.from_year IS 'Closed year the difference comes from';
COMMENT ON COLUMN @extschema@.open_carry_forward.to_year IS 'Year whose price absorbs it';
COMMENT ON COLUMN @extschema@.open_carry_forward.difference IS 'Difference, or its part for this year when it was spread, DKK';
COMMENT ON COLUMN @extschema@.open_carry_forward.to_year_status IS 'Status of to_year: open or announced';
GRANT SELECT ON @extschema@.open_carry_forward
	TO afregning_admin, afregning_reader, afregning_municipality;
