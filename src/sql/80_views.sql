
/* ------------------------------------------------------------------
 * Views for reports and dashboards (SPEC §6). All are security_invoker,
 * so row-level security applies to the reader, not to the owner.
 * ------------------------------------------------------------------ */

CREATE VIEW @extschema@.buffet_price WITH (security_invoker = true) AS
SELECT y.year, y.status::text AS status, p.expected_pool, p.carry_in, p.pool,
	   p.citizens, p.price, y.announced_at
  FROM @extschema@.billing_year y
 CROSS JOIN LATERAL @extschema@.preview_price(y.year) p;
COMMENT ON VIEW @extschema@.buffet_price IS
	'Buffet price (buffetpris) per year: locked figures for announced and closed years, a live preview for open ones';
COMMENT ON COLUMN @extschema@.buffet_price.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.buffet_price.status IS 'open, announced or closed';
COMMENT ON COLUMN @extschema@.buffet_price.expected_pool IS 'Expected pool-routed costs (forventede omkostninger), DKK';
COMMENT ON COLUMN @extschema@.buffet_price.carry_in IS 'Differences of earlier years carried in (overført difference), DKK';
COMMENT ON COLUMN @extschema@.buffet_price.pool IS 'expected_pool + carry_in, DKK';
COMMENT ON COLUMN @extschema@.buffet_price.citizens IS 'Citizens of all municipalities';
COMMENT ON COLUMN @extschema@.buffet_price.price IS 'Price per citizen per year, DKK (null while no population is loaded)';
COMMENT ON COLUMN @extschema@.buffet_price.announced_at IS 'When the price was announced; null while open';

CREATE VIEW @extschema@.carry_forward WITH (security_invoker = true) AS
SELECT c.year AS from_year, c.to_year, c.actual_pool, c.carry_in, c.billed,
	   c.difference, c.closed_at
  FROM @extschema@.year_close c;
COMMENT ON VIEW @extschema@.carry_forward IS
	'Year-end differences carried forward (overførsel af difference): positive raises, negative lowers the price of to_year';
COMMENT ON COLUMN @extschema@.carry_forward.from_year IS 'Closed year';
COMMENT ON COLUMN @extschema@.carry_forward.to_year IS 'Year whose price absorbs the difference';
COMMENT ON COLUMN @extschema@.carry_forward.actual_pool IS 'Actual pool-routed costs of from_year, DKK';
COMMENT ON COLUMN @extschema@.carry_forward.carry_in IS 'Carry-in that was part of from_year''s price, DKK';
COMMENT ON COLUMN @extschema@.carry_forward.billed IS 'Buffet invoices of from_year, DKK';
COMMENT ON COLUMN @extschema@.carry_forward.difference IS 'actual_pool + carry_in - billed, DKK';
COMMENT ON COLUMN @extschema@.carry_forward.closed_at IS 'When from_year was closed';

CREATE VIEW @extschema@.routed_cost WITH (security_invoker = true) AS
/* routing fixed by announcement (expected) and close (actual) ... */
SELECT l.year, l.cost_type, l.basis, l.route, l.payer_code, l.amount
  FROM @extschema@.cost_line l
UNION ALL
/* ... and as it stands today for what is not fixed yet ... */
SELECT a.year, a.cost_type, a.basis, a.route, a.payer_code, a.amount
  FROM @extschema@.cost_allocation a
 WHERE CASE a.basis WHEN 'expected' THEN @extschema@.year_status(a.year) = 'open'
					ELSE @extschema@.year_status(a.year) <> 'closed' END
UNION ALL
/* ... plus rated usage of closed years, which is actual data consumption */
SELECT u.year, 'data_consumption', 'actual', u.route, u.payer_code, u.amount
  FROM @extschema@.usage_line u;
COMMENT ON VIEW @extschema@.routed_cost IS
	'Every cost on its route (omkostninger og hvem der bærer dem): cost entries as fixed at announcement and close, or as routed today while not yet fixed, and rated usage of closed years';
COMMENT ON COLUMN @extschema@.routed_cost.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.routed_cost.cost_type IS 'Cost type (omkostningstype)';
COMMENT ON COLUMN @extschema@.routed_cost.basis IS 'expected (forventet) or actual (faktisk)';
COMMENT ON COLUMN @extschema@.routed_cost.route IS 'pool, system or municipality';
COMMENT ON COLUMN @extschema@.routed_cost.payer_code IS 'Consumer system (route system) or municipality (per-call usage); null for the pool';
COMMENT ON COLUMN @extschema@.routed_cost.amount IS 'Amount, DKK';

CREATE VIEW @extschema@.cost_breakdown WITH (security_invoker = true) AS
SELECT r.year, r.cost_type::text AS cost_type, r.basis::text AS basis,
	   r.route::text AS route, sum(r.amount) AS amount
  FROM @extschema@.routed_cost r
 GROUP BY r.year, r.cost_type, r.basis, r.route;
COMMENT ON VIEW @extschema@.cost_breakdown IS
	'Costs by year, cost type, basis and route (figur 1: omkostningstyper og hvem der betaler): cost entries plus rated usage of closed years';
COMMENT ON COLUMN @extschema@.cost_breakdown.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.cost_breakdown.cost_type IS 'Cost type (omkostningstype)';
COMMENT ON COLUMN @extschema@.cost_breakdown.basis IS 'expected (forventet) or actual (faktisk)';
COMMENT ON COLUMN @extschema@.cost_breakdown.route IS 'pool, system or municipality';
COMMENT ON COLUMN @extschema@.cost_breakdown.amount IS 'Amount, DKK';

CREATE VIEW @extschema@.direct_charge WITH (security_invoker = true) AS
SELECT d.month, 'municipality'::text AS payer_kind, d.municipality_code AS payer_code,
	   d.service_code, sum(d.calls)::bigint AS calls, sum(d.amount) AS amount
  FROM @extschema@.direct_charge_line d
 GROUP BY d.month, d.municipality_code, d.service_code
UNION ALL
SELECT greatest(coalesce(u.tariff_from, make_date(u.year, 1, 1)), make_date(u.year, 1, 1)),
	   'system', u.payer_code, u.service_code, sum(u.calls)::bigint, sum(u.amount)
  FROM @extschema@.usage_line u
 WHERE u.route = 'system'
 GROUP BY 1, 3, 4;
COMMENT ON VIEW @extschema@.direct_charge IS
	'Usage charged outside the pool: per-call charges of municipalities by month (betaling pr. opslag), and usage that consumer systems carry themselves, settled at close per tariff period (month = first month of the period)';
COMMENT ON COLUMN @extschema@.direct_charge.month IS 'Month of the calls; for systems the first month of the tariff period';
COMMENT ON COLUMN @extschema@.direct_charge.payer_kind IS 'municipality or system';
COMMENT ON COLUMN @extschema@.direct_charge.payer_code IS 'Municipality code or consumer system code';
COMMENT ON COLUMN @extschema@.direct_charge.service_code IS 'Service called';
COMMENT ON COLUMN @extschema@.direct_charge.calls IS 'Calls charged';
COMMENT ON COLUMN @extschema@.direct_charge.amount IS 'Amount charged, DKK (all postings and adjustments summed)';

CREATE VIEW @extschema@.system_charge WITH (security_invoker = true) AS
SELECT r.year, r.payer_code AS system_code, s.name AS system_name, s.class::text AS system_class,
	   r.cost_type::text AS cost_type, r.basis::text AS basis, sum(r.amount) AS amount
  FROM @extschema@.routed_cost r
  JOIN @extschema@.consumer_system s ON s.code = r.payer_code
 WHERE r.route = 'system'
 GROUP BY r.year, r.payer_code, s.name, s.class, r.cost_type, r.basis;
COMMENT ON VIEW @extschema@.system_charge IS
	'Costs carried by consumer systems outside the pool (afregnes via anvendersystemet): establishment, operations of monopoly-break and UDK orders, own data consumption, baseline consumption, KOMBIT-project dissemination; expected and actual apart';
COMMENT ON COLUMN @extschema@.system_charge.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.system_charge.system_code IS 'Consumer system';
COMMENT ON COLUMN @extschema@.system_charge.system_name IS 'Name of the system';
COMMENT ON COLUMN @extschema@.system_charge.system_class IS 'Class of the system';
COMMENT ON COLUMN @extschema@.system_charge.cost_type IS 'Cost type';
COMMENT ON COLUMN @extschema@.system_charge.basis IS 'expected or actual';
COMMENT ON COLUMN @extschema@.system_charge.amount IS 'Amount, DKK';

CREATE VIEW @extschema@.municipality_invoice WITH (security_invoker = true) AS
SELECT i.year, i.municipality_code, m.name AS municipality_name, i.citizens,
	   i.amount AS buffet_amount,
	   coalesce(d.amount, 0.00) AS direct_amount,
	   coalesce(g.amount, 0.00) AS infrastructure_amount,
	   i.amount + coalesce(d.amount, 0.00) + coalesce(g.amount, 0.00) AS total
  FROM @extschema@.buffet_invoice i
  JOIN @extschema@.municipality m ON m.code = i.municipality_code
  LEFT JOIN (SELECT extract(year FROM dl.month)::integer AS year, dl.municipality_code,
					sum(dl.amount) AS amount
			   FROM @extschema@.direct_charge_line dl
			  GROUP BY 1, 2) d
	ON d.year = i.year AND d.municipality_code = i.municipality_code
  LEFT JOIN (SELECT sc.year, sc.municipality_code, sum(sc.amount) AS amount
			   FROM @extschema@.schedule_charge sc
			  GROUP BY 1, 2) g
	ON g.year = i.year AND g.municipality_code = i.municipality_code;
COMMENT ON VIEW @extschema@.municipality_invoice IS
	'What each municipality pays for a year (kommunens samlede betaling): buffet invoice, per-call charges of the year''s months and graduated charges such as the infrastructure price';
COMMENT ON COLUMN @extschema@.municipality_invoice.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.municipality_invoice.municipality_code IS 'Municipality code (kommunekode)';
COMMENT ON COLUMN @extschema@.municipality_invoice.municipality_name IS 'Municipality name';
COMMENT ON COLUMN @extschema@.municipality_invoice.citizens IS 'Citizens locked at announcement';
COMMENT ON COLUMN @extschema@.municipality_invoice.buffet_amount IS 'Buffet price × citizens, DKK';
COMMENT ON COLUMN @extschema@.municipality_invoice.direct_amount IS 'Per-call charges (e.g. CPR) of the year''s months posted so far, DKK';
COMMENT ON COLUMN @extschema@.municipality_invoice.infrastructure_amount IS 'Graduated per-citizen charges (infrastrukturpris), DKK';
COMMENT ON COLUMN @extschema@.municipality_invoice.total IS 'buffet_amount + direct_amount + infrastructure_amount, DKK';
