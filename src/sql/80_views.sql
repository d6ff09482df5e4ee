
/* ------------------------------------------------------------------
 * Views for reports and dashboards (SPEC §6). All are security_invoker,
 * so row-level security applies to the reader, not to the owner.
 *
 * Every column has a definite type that BI tools map without guessing
 * (SPEC §6): money numeric(14,2), prices per call numeric(12,4), codes
 * varchar(3) (municipality), varchar(32) (consumer system, payer),
 * varchar(64) (service), names varchar(100), enum values varchar(16)
 * (cost_type varchar(32)), citizens and calls bigint.
 *
 * Every role reads every view (SPEC §6): staff see all rows, a
 * municipality role the national figures plus its own municipality's
 * rows (row-level security on the tables underneath).
 * ------------------------------------------------------------------ */

CREATE VIEW @extschema@.buffet_price WITH (security_invoker = true) AS
SELECT y.year, y.status::text::varchar(16) AS status,
	   p.expected_pool::numeric(14,2) AS expected_pool,
	   p.carry_in::numeric(14,2) AS carry_in,
	   p.pool::numeric(14,2) AS pool,
	   p.citizens::bigint AS citizens,
	   p.price::numeric(14,2) AS price,
	   y.announced_at
  FROM @extschema@.billing_year y
 CROSS JOIN LATERAL @extschema@.preview_price(y.year) p;
COMMENT ON VIEW @extschema@.buffet_price IS
	'Buffet price (buffetpris) per year: locked figures for announced and closed years, a live preview for open ones; computed over all municipalities for every role';
COMMENT ON COLUMN @extschema@.buffet_price.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.buffet_price.status IS 'open, announced or closed';
COMMENT ON COLUMN @extschema@.buffet_price.expected_pool IS 'Expected pool-routed costs (forventede omkostninger), DKK';
COMMENT ON COLUMN @extschema@.buffet_price.carry_in IS 'Differences of earlier years carried in (overført difference), DKK';
COMMENT ON COLUMN @extschema@.buffet_price.pool IS 'expected_pool + carry_in, DKK';
COMMENT ON COLUMN @extschema@.buffet_price.citizens IS 'Citizens of all municipalities';
COMMENT ON COLUMN @extschema@.buffet_price.price IS 'Price per citizen per year, DKK (null while no population is loaded)';
COMMENT ON COLUMN @extschema@.buffet_price.announced_at IS 'When the price was announced; null while open';
GRANT SELECT ON @extschema@.buffet_price
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.carry_forward WITH (security_invoker = true) AS
SELECT c.year AS from_year, coalesce(p.to_year, c.to_year) AS to_year,
	   c.actual_pool::numeric(14,2) AS actual_pool,
	   c.carry_in::numeric(14,2) AS carry_in,
	   c.billed::numeric(14,2) AS billed,
	   c.difference::numeric(14,2) AS difference,
	   coalesce(p.amount, c.difference)::numeric(14,2) AS posted,
	   c.closed_at
  FROM @extschema@.year_close c
  LEFT JOIN @extschema@.carry_posting p ON p.from_year = c.year;
COMMENT ON VIEW @extschema@.carry_forward IS
	'Year-end differences carried forward (overførsel af difference), one row per posting: a difference spread over several years (udjævning) gives one row per receiving year. R10 from this view alone: sum of actual_pool over distinct from_year = sum of billed over distinct from_year + sum of posted into years not yet closed, for the closed years';
COMMENT ON COLUMN @extschema@.carry_forward.from_year IS 'Closed year';
COMMENT ON COLUMN @extschema@.carry_forward.to_year IS 'Year whose price absorbs this posting';
COMMENT ON COLUMN @extschema@.carry_forward.actual_pool IS 'Actual pool-routed costs of from_year, DKK (repeated on every posting of the year)';
COMMENT ON COLUMN @extschema@.carry_forward.carry_in IS 'Carry-in that was part of from_year''s price, DKK (repeated on every posting)';
COMMENT ON COLUMN @extschema@.carry_forward.billed IS 'Buffet invoices of from_year, DKK (repeated on every posting)';
COMMENT ON COLUMN @extschema@.carry_forward.difference IS 'actual_pool + carry_in - billed: the whole difference of from_year, DKK (repeated on every posting)';
COMMENT ON COLUMN @extschema@.carry_forward.posted IS 'Part of the difference carried into to_year, DKK; equals difference unless the difference is spread; the parts of a year sum exactly to it';
COMMENT ON COLUMN @extschema@.carry_forward.closed_at IS 'When from_year was closed';
GRANT SELECT ON @extschema@.carry_forward
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.routed_cost WITH (security_invoker = true) AS
SELECT x.year, x.cost_type::varchar(32) AS cost_type, x.basis::varchar(16) AS basis,
	   x.route::varchar(16) AS route, x.payer_code::varchar(32) AS payer_code,
	   x.calls::bigint AS calls, x.amount::numeric(14,2) AS amount
  FROM (
	/* routing fixed by announcement (expected) and close (actual); cost
	 * lines of 0.1.0 wrote per_call entries as route municipality ... */
	SELECT l.year, l.cost_type::text AS cost_type, l.basis::text AS basis,
		   CASE WHEN l.route::text = 'municipality' THEN 'per_call' ELSE l.route::text END AS route,
		   l.payer_code::text AS payer_code, NULL::bigint AS calls, l.amount::numeric AS amount
	  FROM @extschema@.cost_line l
	UNION ALL
	/* ... and as it stands today for what is not fixed yet ... */
	SELECT a.year, a.cost_type::text, a.basis::text, a.route::text, a.payer_code::text,
		   NULL::bigint, a.amount::numeric
	  FROM @extschema@.cost_allocation a
	 WHERE CASE a.basis WHEN 'expected' THEN @extschema@.year_status(a.year) = 'open'
						ELSE @extschema@.year_status(a.year) <> 'closed' END
	UNION ALL
	/* ... plus rated usage of closed years, which is actual data consumption */
	SELECT u.year, 'data_consumption', 'actual', u.route::text, u.payer_code::text,
		   u.calls, u.amount::numeric
	  FROM @extschema@.usage_line u) x;
COMMENT ON VIEW @extschema@.routed_cost IS
	'Every cost on its route (omkostninger og hvem der bærer dem): cost entries as fixed at announcement and close, or as routed today while not yet fixed, and rated usage of closed years. Route municipality holds rated per-call usage (the per-call charges): a municipality role sees only its own such rows; route per_call holds the cost entries those charges recover, never added to the municipality route';
COMMENT ON COLUMN @extschema@.routed_cost.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.routed_cost.cost_type IS 'Cost type (omkostningstype)';
COMMENT ON COLUMN @extschema@.routed_cost.basis IS 'expected (forventet) or actual (faktisk)';
COMMENT ON COLUMN @extschema@.routed_cost.route IS 'pool, system, municipality (rated per-call usage, charged per call) or per_call (cost entries of per-call services)';
COMMENT ON COLUMN @extschema@.routed_cost.payer_code IS 'Consumer system (route system) or municipality (route municipality); null for the pool and per_call';
COMMENT ON COLUMN @extschema@.routed_cost.calls IS 'Calls rated, for rated usage; null for cost entries';
COMMENT ON COLUMN @extschema@.routed_cost.amount IS 'Amount, DKK';
GRANT SELECT ON @extschema@.routed_cost
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.cost_breakdown WITH (security_invoker = true) AS
SELECT r.year, r.cost_type, r.basis, r.route, sum(r.amount)::numeric(14,2) AS amount
  FROM @extschema@.routed_cost r
 GROUP BY r.year, r.cost_type, r.basis, r.route;
COMMENT ON VIEW @extschema@.cost_breakdown IS
	'Costs by year, cost type, basis and route (figur 1: omkostningstyper og hvem der betaler): cost entries plus rated usage of closed years; for a municipality role the route municipality holds its own per-call usage only';
COMMENT ON COLUMN @extschema@.cost_breakdown.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.cost_breakdown.cost_type IS 'Cost type (omkostningstype)';
COMMENT ON COLUMN @extschema@.cost_breakdown.basis IS 'expected (forventet) or actual (faktisk)';
COMMENT ON COLUMN @extschema@.cost_breakdown.route IS 'pool, system, municipality (rated per-call usage) or per_call (cost entries of per-call services, recovered by the per-call charges)';
COMMENT ON COLUMN @extschema@.cost_breakdown.amount IS 'Amount, DKK';
GRANT SELECT ON @extschema@.cost_breakdown
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.direct_charge WITH (security_invoker = true) AS
SELECT d.month, 'municipality'::varchar(16) AS payer_kind,
	   d.municipality_code::varchar(32) AS payer_code,
	   d.service_code::varchar(64) AS service_code,
	   sum(d.calls)::bigint AS calls, sum(d.amount)::numeric(14,2) AS amount
  FROM @extschema@.direct_charge_line d
 GROUP BY d.month, d.municipality_code, d.service_code;
COMMENT ON VIEW @extschema@.direct_charge IS
	'Per-call charges of municipalities by month (betaling pr. opslag), all postings and adjustments summed. Usage that consumer systems carry themselves is settled per year at close, not per month: it is in system_charge (cost_type data_consumption, basis actual)';
COMMENT ON COLUMN @extschema@.direct_charge.month IS 'Month of the calls (first day)';
COMMENT ON COLUMN @extschema@.direct_charge.payer_kind IS 'Always municipality; kept for compatibility with 0.1.0, when system usage was listed here too';
COMMENT ON COLUMN @extschema@.direct_charge.payer_code IS 'Charged municipality (kommunekode)';
COMMENT ON COLUMN @extschema@.direct_charge.service_code IS 'Per-call service called, e.g. CPR';
COMMENT ON COLUMN @extschema@.direct_charge.calls IS 'Calls charged';
COMMENT ON COLUMN @extschema@.direct_charge.amount IS 'Amount charged, DKK (all postings and adjustments summed)';
GRANT SELECT ON @extschema@.direct_charge
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.system_charge WITH (security_invoker = true) AS
SELECT r.year, r.payer_code AS system_code, s.name::varchar(100) AS system_name,
	   s.class::text::varchar(16) AS system_class,
	   r.cost_type, r.basis, sum(r.calls)::bigint AS calls,
	   sum(r.amount)::numeric(14,2) AS amount
  FROM @extschema@.routed_cost r
  JOIN @extschema@.consumer_system s ON s.code = r.payer_code
 WHERE r.route = 'system'
 GROUP BY r.year, r.payer_code, s.name, s.class, r.cost_type, r.basis;
COMMENT ON VIEW @extschema@.system_charge IS
	'Costs carried by consumer systems outside the pool (afregnes via anvendersystemet), per year: establishment, operations of monopoly-break and UDK orders, own data consumption, KOMBIT-project dissemination, and rated usage of closed years (own billing, UDK, baseline consumption) as data_consumption actual; expected and actual apart. System usage is settled per year at close, never per month';
COMMENT ON COLUMN @extschema@.system_charge.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.system_charge.system_code IS 'Consumer system';
COMMENT ON COLUMN @extschema@.system_charge.system_name IS 'Name of the system';
COMMENT ON COLUMN @extschema@.system_charge.system_class IS 'Class of the system: municipal, monopoly_break, udk, own_billing or kombit_project';
COMMENT ON COLUMN @extschema@.system_charge.cost_type IS 'Cost type (omkostningstype)';
COMMENT ON COLUMN @extschema@.system_charge.basis IS 'expected or actual';
COMMENT ON COLUMN @extschema@.system_charge.calls IS 'Calls rated to the system in the year (rated usage of a closed year); null for cost entries';
COMMENT ON COLUMN @extschema@.system_charge.amount IS 'Amount, DKK';
GRANT SELECT ON @extschema@.system_charge
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.municipality_invoice WITH (security_invoker = true) AS
SELECT i.year, i.municipality_code::varchar(3) AS municipality_code,
	   m.name::varchar(100) AS municipality_name, i.citizens::bigint AS citizens,
	   i.amount::numeric(14,2) AS buffet_amount,
	   coalesce(d.amount, 0.00)::numeric(14,2) AS direct_amount,
	   coalesce(g.amount, 0.00)::numeric(14,2) AS infrastructure_amount,
	   (i.amount + coalesce(d.amount, 0.00) + coalesce(g.amount, 0.00))::numeric(14,2) AS total
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
	'What each municipality pays for an announced or closed year (kommunens samlede betaling): buffet invoice, per-call charges of the year''s months and graduated charges such as the infrastructure price; open years are in invoice_preview';
COMMENT ON COLUMN @extschema@.municipality_invoice.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.municipality_invoice.municipality_code IS 'Municipality code (kommunekode)';
COMMENT ON COLUMN @extschema@.municipality_invoice.municipality_name IS 'Municipality name';
COMMENT ON COLUMN @extschema@.municipality_invoice.citizens IS 'Citizens locked at announcement';
COMMENT ON COLUMN @extschema@.municipality_invoice.buffet_amount IS 'Buffet price × citizens, DKK';
COMMENT ON COLUMN @extschema@.municipality_invoice.direct_amount IS 'Per-call charges (e.g. CPR) of the year''s months posted so far, DKK';
COMMENT ON COLUMN @extschema@.municipality_invoice.infrastructure_amount IS 'Graduated per-citizen charges (infrastrukturpris), DKK';
COMMENT ON COLUMN @extschema@.municipality_invoice.total IS 'buffet_amount + direct_amount + infrastructure_amount, DKK';
GRANT SELECT ON @extschema@.municipality_invoice
	TO afregning_admin, afregning_reader, afregning_municipality;
