
/* ------------------------------------------------------------------
 * Tables: output ledgers written by the settlement functions
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.price_announcement (
	year			integer NOT NULL,
	expected_pool	numeric(14,2) NOT NULL,
	carry_in		numeric(14,2) NOT NULL,
	pool			numeric(14,2) NOT NULL,
	citizens		bigint NOT NULL,
	price			numeric(12,2) NOT NULL,
	announced_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT price_announcement_pkey PRIMARY KEY (year),
	CONSTRAINT price_announcement_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.billing_year (year),
	CONSTRAINT price_announcement_pool_sum CHECK (pool = expected_pool + carry_in),
	CONSTRAINT price_announcement_citizens_positive CHECK (citizens > 0),
	CONSTRAINT price_announcement_price_not_negative CHECK (price >= 0)
);
COMMENT ON TABLE @extschema@.price_announcement IS
	'The locked buffet price (udmeldt buffetpris) of each announced year and the figures it was computed from';
COMMENT ON COLUMN @extschema@.price_announcement.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.price_announcement.expected_pool IS 'Expected pool-routed costs of the year (forventede omkostninger)';
COMMENT ON COLUMN @extschema@.price_announcement.carry_in IS 'Differences of earlier years carried into this price (overført difference)';
COMMENT ON COLUMN @extschema@.price_announcement.pool IS 'expected_pool + carry_in: what the price must recover';
COMMENT ON COLUMN @extschema@.price_announcement.citizens IS 'Total citizens of all municipalities';
COMMENT ON COLUMN @extschema@.price_announcement.price IS 'Buffet price per citizen per year (buffetpris pr. borger), DKK';
COMMENT ON COLUMN @extschema@.price_announcement.announced_at IS 'When the price was announced';

CREATE TABLE @extschema@.buffet_invoice (
	year				integer NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	citizens			integer NOT NULL,
	price				numeric(12,2) NOT NULL,
	amount				numeric(14,2) NOT NULL,
	CONSTRAINT buffet_invoice_pkey PRIMARY KEY (year, municipality_code),
	CONSTRAINT buffet_invoice_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.price_announcement (year),
	CONSTRAINT buffet_invoice_municipality_fkey FOREIGN KEY (municipality_code)
		REFERENCES @extschema@.municipality (code),
	CONSTRAINT buffet_invoice_amount_exact CHECK (amount = price * citizens)
);
COMMENT ON TABLE @extschema@.buffet_invoice IS
	'Buffet invoice (buffetprisfaktura) of each municipality for an announced year: price × citizens';
COMMENT ON COLUMN @extschema@.buffet_invoice.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.buffet_invoice.municipality_code IS 'Invoiced municipality';
COMMENT ON COLUMN @extschema@.buffet_invoice.citizens IS 'Citizens locked at announcement';
COMMENT ON COLUMN @extschema@.buffet_invoice.price IS 'Buffet price per citizen';
COMMENT ON COLUMN @extschema@.buffet_invoice.amount IS 'Invoiced amount, DKK';

CREATE TABLE @extschema@.installment (
	year				integer NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	quarter				integer NOT NULL,
	due_date			date NOT NULL,
	amount				numeric(14,2) NOT NULL,
	CONSTRAINT installment_pkey PRIMARY KEY (year, municipality_code, quarter),
	CONSTRAINT installment_invoice_fkey FOREIGN KEY (year, municipality_code)
		REFERENCES @extschema@.buffet_invoice (year, municipality_code),
	CONSTRAINT installment_quarter_range CHECK (quarter BETWEEN 1 AND 4),
	CONSTRAINT installment_due_date CHECK
		(due_date = pg_catalog.make_date(year, 3 * quarter - 2, 1))
);
COMMENT ON TABLE @extschema@.installment IS
	'Quarterly installments (rater) of a buffet invoice; the four sum exactly to the invoice';
COMMENT ON COLUMN @extschema@.installment.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.installment.municipality_code IS 'Invoiced municipality';
COMMENT ON COLUMN @extschema@.installment.quarter IS 'Quarter 1 to 4';
COMMENT ON COLUMN @extschema@.installment.due_date IS 'Due date: 1 January, 1 April, 1 July or 1 October';
COMMENT ON COLUMN @extschema@.installment.amount IS 'Installment amount, DKK';

CREATE TABLE @extschema@.year_close (
	year			integer NOT NULL,
	actual_pool		numeric(14,2) NOT NULL,
	carry_in		numeric(14,2) NOT NULL,
	billed			numeric(14,2) NOT NULL,
	difference		numeric(14,2) NOT NULL,
	to_year			integer NOT NULL,
	closed_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT year_close_pkey PRIMARY KEY (year),
	CONSTRAINT year_close_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.price_announcement (year),
	CONSTRAINT year_close_to_year_fkey FOREIGN KEY (to_year)
		REFERENCES @extschema@.billing_year (year),
	CONSTRAINT year_close_difference_sum CHECK (difference = actual_pool + carry_in - billed),
	CONSTRAINT year_close_forward CHECK (to_year > year)
);
COMMENT ON TABLE @extschema@.year_close IS
	'Closing of a billing year (årsafslutning) and the difference it carried forward (overførsel af difference)';
COMMENT ON COLUMN @extschema@.year_close.year IS 'Closed year';
COMMENT ON COLUMN @extschema@.year_close.actual_pool IS 'Actual pool-routed costs of the year, incl. rated usage (faktiske omkostninger)';
COMMENT ON COLUMN @extschema@.year_close.carry_in IS 'Carry-in that was part of the year''s price';
COMMENT ON COLUMN @extschema@.year_close.billed IS 'Buffet invoices of the year';
COMMENT ON COLUMN @extschema@.year_close.difference IS
	'actual_pool + carry_in - billed: positive raises, negative lowers the price of to_year';
COMMENT ON COLUMN @extschema@.year_close.to_year IS 'Year whose price absorbs the difference';
COMMENT ON COLUMN @extschema@.year_close.closed_at IS 'When the year was closed';

CREATE TABLE @extschema@.carry_posting (
	from_year		integer NOT NULL,
	to_year			integer NOT NULL,
	amount			numeric(14,2) NOT NULL,
	CONSTRAINT carry_posting_pkey PRIMARY KEY (from_year, to_year),
	CONSTRAINT carry_posting_from_fkey FOREIGN KEY (from_year)
		REFERENCES @extschema@.year_close (year),
	CONSTRAINT carry_posting_to_fkey FOREIGN KEY (to_year)
		REFERENCES @extschema@.billing_year (year),
	CONSTRAINT carry_posting_forward CHECK (to_year > from_year)
);
CREATE INDEX carry_posting_to_year_idx ON @extschema@.carry_posting (to_year);
COMMENT ON TABLE @extschema@.carry_posting IS
	'Where each closed year''s difference went: one row per receiving year, more than one when the difference is spread (udjævning); the parts sum exactly to the difference';
COMMENT ON COLUMN @extschema@.carry_posting.from_year IS 'Closed year the difference comes from';
COMMENT ON COLUMN @extschema@.carry_posting.to_year IS 'Year whose price absorbs this part';
COMMENT ON COLUMN @extschema@.carry_posting.amount IS 'Part of the difference, DKK';

CREATE TABLE @extschema@.usage_line (
	year			integer NOT NULL,
	route			@extschema@.route NOT NULL,
	payer_code		text COLLATE "C",
	service_code	text COLLATE "C" NOT NULL,
	period			date,
	tariff_from		date,
	unit_price		numeric(12,4) NOT NULL,
	calls			bigint NOT NULL,
	amount			numeric(14,2) NOT NULL,
	CONSTRAINT usage_line_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.price_announcement (year),
	CONSTRAINT usage_line_service_fkey FOREIGN KEY (service_code)
		REFERENCES @extschema@.service (code),
	CONSTRAINT usage_line_payer CHECK ((route = 'pool') = (payer_code IS NULL)),
	CONSTRAINT usage_line_period CHECK ((route = 'municipality') = (period IS NOT NULL))
);
CREATE INDEX usage_line_year_idx ON @extschema@.usage_line (year);
COMMENT ON TABLE @extschema@.usage_line IS
	'Rated usage of a closed year (afregnet forbrug), one line per route, payer, service and tariff period (per month for per-call lines), each rounded once to øre';
COMMENT ON COLUMN @extschema@.usage_line.year IS 'Closed year';
COMMENT ON COLUMN @extschema@.usage_line.route IS 'pool, system or municipality';
COMMENT ON COLUMN @extschema@.usage_line.payer_code IS 'Consumer system or municipality code; null for the pool';
COMMENT ON COLUMN @extschema@.usage_line.service_code IS 'Service';
COMMENT ON COLUMN @extschema@.usage_line.period IS 'Month of a per-call line; null otherwise';
COMMENT ON COLUMN @extschema@.usage_line.tariff_from IS 'First month of the tariff applied; null where the service had no tariff';
COMMENT ON COLUMN @extschema@.usage_line.unit_price IS 'Price per call applied, DKK';
COMMENT ON COLUMN @extschema@.usage_line.calls IS 'Calls rated on this line';
COMMENT ON COLUMN @extschema@.usage_line.amount IS 'calls × unit_price rounded half away from zero to øre';

CREATE TABLE @extschema@.direct_charge_line (
	line_id				bigint GENERATED ALWAYS AS IDENTITY,
	month				date NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	service_code		text COLLATE "C" NOT NULL,
	unit_price			numeric(12,4) NOT NULL,
	calls				bigint NOT NULL,
	amount				numeric(14,2) NOT NULL,
	kind				@extschema@.charge_kind NOT NULL,
	posted_at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT direct_charge_line_pkey PRIMARY KEY (line_id),
	CONSTRAINT direct_charge_line_municipality_fkey FOREIGN KEY (municipality_code)
		REFERENCES @extschema@.municipality (code),
	CONSTRAINT direct_charge_line_service_fkey FOREIGN KEY (service_code)
		REFERENCES @extschema@.service (code),
	CONSTRAINT direct_charge_line_month_first CHECK (extract(day FROM month) = 1)
);
CREATE INDEX direct_charge_line_key_idx ON @extschema@.direct_charge_line
	(month, municipality_code, service_code, unit_price);
COMMENT ON TABLE @extschema@.direct_charge_line IS
	'Per-call charges (betaling pr. opslag) posted to municipalities by bill_direct; a re-run posts only the difference as adjustment or reversal lines';
COMMENT ON COLUMN @extschema@.direct_charge_line.line_id IS 'Posting order';
COMMENT ON COLUMN @extschema@.direct_charge_line.month IS 'Month of the calls (first day)';
COMMENT ON COLUMN @extschema@.direct_charge_line.municipality_code IS 'Charged municipality';
COMMENT ON COLUMN @extschema@.direct_charge_line.service_code IS 'Per-call service, e.g. CPR';
COMMENT ON COLUMN @extschema@.direct_charge_line.unit_price IS 'Tariff applied, DKK per call';
COMMENT ON COLUMN @extschema@.direct_charge_line.calls IS 'Calls added (or removed) by this line';
COMMENT ON COLUMN @extschema@.direct_charge_line.amount IS 'Amount added (or removed) by this line, DKK';
COMMENT ON COLUMN @extschema@.direct_charge_line.kind IS 'charge, adjustment (efterregulering) or reversal';
COMMENT ON COLUMN @extschema@.direct_charge_line.posted_at IS 'When the line was posted';

CREATE TABLE @extschema@.charge_schedule (
	schedule_code	text COLLATE "C" NOT NULL,
	valid_from_year	integer NOT NULL,
	from_citizens	integer NOT NULL,
	rate			numeric(12,2) NOT NULL,
	CONSTRAINT charge_schedule_pkey PRIMARY KEY (schedule_code, valid_from_year, from_citizens),
	CONSTRAINT charge_schedule_from_citizens_not_negative CHECK (from_citizens >= 0),
	CONSTRAINT charge_schedule_rate_not_negative CHECK (rate >= 0),
	CONSTRAINT charge_schedule_year_range CHECK (valid_from_year BETWEEN 2000 AND 2999)
);
COMMENT ON TABLE @extschema@.charge_schedule IS
	'Graduated per-citizen charges billed beside the buffet price, e.g. the infrastructure price (infrastrukturpris): each tier''s rate applies to the citizens above from_citizens up to the next tier';
COMMENT ON COLUMN @extschema@.charge_schedule.schedule_code IS 'Name of the charge, e.g. infrastructure';
COMMENT ON COLUMN @extschema@.charge_schedule.valid_from_year IS 'First year the tiers apply; a later valid_from_year replaces the whole schedule';
COMMENT ON COLUMN @extschema@.charge_schedule.from_citizens IS 'Citizens counted before this tier starts (0 for the first tier)';
COMMENT ON COLUMN @extschema@.charge_schedule.rate IS 'DKK per citizen per year within the tier';

CREATE TABLE @extschema@.schedule_charge (
	year				integer NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	schedule_code		text COLLATE "C" NOT NULL,
	citizens			integer NOT NULL,
	amount				numeric(14,2) NOT NULL,
	CONSTRAINT schedule_charge_pkey PRIMARY KEY (year, municipality_code, schedule_code),
	CONSTRAINT schedule_charge_invoice_fkey FOREIGN KEY (year, municipality_code)
		REFERENCES @extschema@.buffet_invoice (year, municipality_code)
);
COMMENT ON TABLE @extschema@.schedule_charge IS
	'Graduated per-citizen charges (e.g. infrastrukturpris) billed to each municipality at announcement';
COMMENT ON COLUMN @extschema@.schedule_charge.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.schedule_charge.municipality_code IS 'Charged municipality';
COMMENT ON COLUMN @extschema@.schedule_charge.schedule_code IS 'Charge schedule applied';
COMMENT ON COLUMN @extschema@.schedule_charge.citizens IS 'Citizens the charge was computed for';
COMMENT ON COLUMN @extschema@.schedule_charge.amount IS 'Charge, DKK';

CREATE TABLE @extschema@.cost_line (
	entry_key		text COLLATE "C" NOT NULL,
	year			integer NOT NULL,
	cost_type		text NOT NULL,
	basis			text NOT NULL,
	route			@extschema@.route NOT NULL,
	payer_code		text COLLATE "C",
	amount			numeric(14,2) NOT NULL,
	fixed_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT cost_line_entry_fkey FOREIGN KEY (entry_key)
		REFERENCES @extschema@.cost_entry (entry_key),
	CONSTRAINT cost_line_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.price_announcement (year),
	CONSTRAINT cost_line_payer CHECK (route <> 'system' OR payer_code IS NOT NULL)
);
CREATE INDEX cost_line_year_idx ON @extschema@.cost_line (year, basis);
COMMENT ON TABLE @extschema@.cost_line IS
	'Routing of cost entries fixed by the lifecycle: expected entries at announcement, actual entries at close, so later changes to orderers or classes never move a settled øre';
COMMENT ON COLUMN @extschema@.cost_line.entry_key IS 'Routed cost entry';
COMMENT ON COLUMN @extschema@.cost_line.year IS 'Year of the entry';
COMMENT ON COLUMN @extschema@.cost_line.cost_type IS 'Cost type of the entry';
COMMENT ON COLUMN @extschema@.cost_line.basis IS 'expected or actual';
COMMENT ON COLUMN @extschema@.cost_line.route IS 'pool, system or municipality';
COMMENT ON COLUMN @extschema@.cost_line.payer_code IS 'Consumer system for route system; null otherwise';
COMMENT ON COLUMN @extschema@.cost_line.amount IS 'Part of the entry on this route, DKK (split exactly by apportion)';
COMMENT ON COLUMN @extschema@.cost_line.fixed_at IS 'When the routing was fixed';
