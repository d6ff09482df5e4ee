/*
 * afregning -- install script, version 0.1.0
 *
 * Assembled by the Makefile from the files of sql/install, one per concern,
 * in this order: types, tables, ledger guards, C functions and aggregates,
 * routing, pricing and the year lifecycle, direct charges, views, security,
 * scheduling, dump registration.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION afregning" to load this file. \quit

/* ------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------ */

CREATE TYPE @extschema@.region AS ENUM
	('Hovedstaden', 'Sjælland', 'Syddanmark', 'Midtjylland', 'Nordjylland');
COMMENT ON TYPE @extschema@.region IS
	'Danish region (region) a municipality belongs to';

CREATE TYPE @extschema@.system_class AS ENUM
	('municipal', 'monopoly_break', 'udk', 'own_billing', 'kombit_project');
COMMENT ON TYPE @extschema@.system_class IS
	'Class of a consumer system (anvendersystem): kommunalt system, monopolbrudssystem (KY, KSD, SAPA), Udbetaling Danmark, system med egen afregning, KOMBIT-projekt';

CREATE TYPE @extschema@.platform AS ENUM ('serviceplatform', 'support_system');
COMMENT ON TYPE @extschema@.platform IS
	'Where a service runs: Serviceplatformen or Støttesystemerne';

CREATE TYPE @extschema@.funding AS ENUM ('ordered', 'development_pool');
COMMENT ON TYPE @extschema@.funding IS
	'How a service was funded: ordered by consumer systems (bestilt) or by the development pool (udviklingspuljen)';

CREATE TYPE @extschema@.billing_method AS ENUM ('pool', 'per_call');
COMMENT ON TYPE @extschema@.billing_method IS
	'How a service''s consumption is recovered: through the buffet price (buffetpris) or per call from the calling municipality (betaling pr. opslag)';

CREATE TYPE @extschema@.year_status AS ENUM ('open', 'announced', 'closed');
COMMENT ON TYPE @extschema@.year_status IS
	'Lifecycle of a billing year (afregningsår): open, announced (pris udmeldt), closed (afsluttet)';

CREATE TYPE @extschema@.cost_type AS ENUM
	('establishment', 'infrastructure_establishment', 'operations',
	 'support_admin', 'data_consumption', 'dissemination', 'development_pool');
COMMENT ON TYPE @extschema@.cost_type IS
	'Cost type (omkostningstype) of figure 1: etablering, etablering af infrastrukturen, drift og vedligeholdelse, support & administration, dataforbrug, udbredelse og forretningsforståelse, udviklingspulje';

CREATE TYPE @extschema@.cost_basis AS ENUM ('expected', 'actual');
COMMENT ON TYPE @extschema@.cost_basis IS
	'Whether a cost entry is a budget figure (forventet forbrug) or a booked cost (faktisk forbrug)';

CREATE TYPE @extschema@.route AS ENUM ('pool', 'system', 'municipality');
COMMENT ON TYPE @extschema@.route IS
	'Who carries a cost: the buffet pool (buffetpuljen), a consumer system, or a municipality directly';

CREATE TYPE @extschema@.charge_kind AS ENUM ('charge', 'adjustment', 'reversal');
COMMENT ON TYPE @extschema@.charge_kind IS
	'Kind of a direct charge line: first charge of a key, later adjustment (efterregulering), or reversal of a key that disappeared';

/* ------------------------------------------------------------------
 * Tables: reference data and input ledgers
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.municipality (
	code		text COLLATE "C" NOT NULL,
	name		text NOT NULL,
	region		@extschema@.region NOT NULL,
	CONSTRAINT municipality_pkey PRIMARY KEY (code),
	CONSTRAINT municipality_code_format CHECK (code ~ '^[0-9]{3}$'),
	CONSTRAINT municipality_name_key UNIQUE (name),
	CONSTRAINT municipality_name_not_blank CHECK (btrim(name) <> '')
);
COMMENT ON TABLE @extschema@.municipality IS
	'The municipalities (kommuner) that share the infrastructure';
COMMENT ON COLUMN @extschema@.municipality.code IS
	'Three-digit municipality code (kommunekode), e.g. 101 for København';
COMMENT ON COLUMN @extschema@.municipality.name IS
	'Short name (kommunenavn) as Danmarks Statistik writes it';
COMMENT ON COLUMN @extschema@.municipality.region IS
	'Region the municipality belongs to';

CREATE TABLE @extschema@.billing_year (
	year			integer NOT NULL,
	status			@extschema@.year_status NOT NULL DEFAULT 'open',
	carry_lag		integer NOT NULL DEFAULT 2,
	price_decimals	integer NOT NULL DEFAULT 2,
	carry_spread	integer NOT NULL DEFAULT 1,
	announced_at	timestamptz,
	closed_at		timestamptz,
	CONSTRAINT billing_year_pkey PRIMARY KEY (year),
	CONSTRAINT billing_year_year_range CHECK (year BETWEEN 2000 AND 2999),
	CONSTRAINT billing_year_carry_lag_range CHECK (carry_lag BETWEEN 1 AND 10),
	CONSTRAINT billing_year_price_decimals_range CHECK (price_decimals BETWEEN 0 AND 2),
	CONSTRAINT billing_year_carry_spread_range CHECK (carry_spread BETWEEN 1 AND 5),
	CONSTRAINT billing_year_announced_at_status CHECK ((status = 'open') = (announced_at IS NULL)),
	CONSTRAINT billing_year_closed_at_status CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
COMMENT ON TABLE @extschema@.billing_year IS
	'Billing years (afregningsår) with their lifecycle status and settings; a year''s row is created by the administrator or when a carry-forward is posted into it';
COMMENT ON COLUMN @extschema@.billing_year.year IS 'Calendar year billed';
COMMENT ON COLUMN @extschema@.billing_year.status IS
	'open (costs may be budgeted, price previewed), announced (pris udmeldt: price, population and buffet invoices locked), closed (afsluttet: actual pool fixed, difference carried forward)';
COMMENT ON COLUMN @extschema@.billing_year.carry_lag IS
	'Years between a closed year and the earliest year whose price absorbs its difference (overførsel af difference); default 2';
COMMENT ON COLUMN @extschema@.billing_year.price_decimals IS
	'Decimals the buffet price per citizen is rounded to (half away from zero); default 2, i.e. øre';
COMMENT ON COLUMN @extschema@.billing_year.carry_spread IS
	'Smoothing (udjævning): over how many open years the difference of this year is spread when it is closed, split exactly by apportion; default 1';
COMMENT ON COLUMN @extschema@.billing_year.announced_at IS 'When the price was announced (udmeldt)';
COMMENT ON COLUMN @extschema@.billing_year.closed_at IS 'When the year was closed (afsluttet)';

CREATE TABLE @extschema@.population (
	year				integer NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	citizens			integer NOT NULL,
	CONSTRAINT population_pkey PRIMARY KEY (year, municipality_code),
	CONSTRAINT population_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.billing_year (year),
	CONSTRAINT population_municipality_fkey FOREIGN KEY (municipality_code)
		REFERENCES @extschema@.municipality (code),
	CONSTRAINT population_citizens_positive CHECK (citizens > 0)
);
COMMENT ON TABLE @extschema@.population IS
	'Citizens (indbyggere) of each municipality for a billing year; locked when the year''s price is announced';
COMMENT ON COLUMN @extschema@.population.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.population.municipality_code IS 'Municipality (kommune)';
COMMENT ON COLUMN @extschema@.population.citizens IS 'Number of citizens (borgere) the buffet price is multiplied by';

CREATE TABLE @extschema@.consumer_system (
	code		text COLLATE "C" NOT NULL,
	name		text NOT NULL,
	class		@extschema@.system_class NOT NULL,
	CONSTRAINT consumer_system_pkey PRIMARY KEY (code),
	CONSTRAINT consumer_system_code_format CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
	CONSTRAINT consumer_system_name_not_blank CHECK (btrim(name) <> '')
);
COMMENT ON TABLE @extschema@.consumer_system IS
	'Consumer systems (anvendersystemer) that order or call services';
COMMENT ON COLUMN @extschema@.consumer_system.code IS 'Short code of the system, e.g. KY';
COMMENT ON COLUMN @extschema@.consumer_system.name IS 'Name of the system';
COMMENT ON COLUMN @extschema@.consumer_system.class IS
	'municipal, monopoly_break (monopolbrudssystem), udk (Udbetaling Danmark), own_billing (egen afregning) or kombit_project';

CREATE TABLE @extschema@.service (
	code		text COLLATE "C" NOT NULL,
	name		text NOT NULL,
	platform	@extschema@.platform NOT NULL,
	funding		@extschema@.funding NOT NULL DEFAULT 'ordered',
	billing		@extschema@.billing_method NOT NULL DEFAULT 'pool',
	CONSTRAINT service_pkey PRIMARY KEY (code),
	CONSTRAINT service_code_format CHECK (code ~ '^[A-Za-z0-9_.-]{1,64}$'),
	CONSTRAINT service_name_not_blank CHECK (btrim(name) <> '')
);
COMMENT ON TABLE @extschema@.service IS
	'Services on Serviceplatformen and the support systems (Støttesystemerne)';
COMMENT ON COLUMN @extschema@.service.code IS 'Short code of the service, e.g. CPR';
COMMENT ON COLUMN @extschema@.service.name IS 'Name of the service';
COMMENT ON COLUMN @extschema@.service.platform IS 'serviceplatform (Serviceplatformen) or support_system (støttesystem)';
COMMENT ON COLUMN @extschema@.service.funding IS 'ordered (bestilt af anvendersystemer) or development_pool (udviklingspuljen)';
COMMENT ON COLUMN @extschema@.service.billing IS 'pool (buffetpris) or per_call (betaling pr. opslag, e.g. CPR-servicen)';

CREATE TABLE @extschema@.service_order (
	service_code	text COLLATE "C" NOT NULL,
	system_code		text COLLATE "C" NOT NULL,
	share			numeric NOT NULL,
	CONSTRAINT service_order_pkey PRIMARY KEY (service_code, system_code),
	CONSTRAINT service_order_service_fkey FOREIGN KEY (service_code)
		REFERENCES @extschema@.service (code),
	CONSTRAINT service_order_system_fkey FOREIGN KEY (system_code)
		REFERENCES @extschema@.consumer_system (code),
	CONSTRAINT service_order_share_positive CHECK (share > 0)
);
COMMENT ON TABLE @extschema@.service_order IS
	'Which consumer systems ordered (bestilte) a service, with their weights; establishment and operations are split by these';
COMMENT ON COLUMN @extschema@.service_order.service_code IS 'Ordered service';
COMMENT ON COLUMN @extschema@.service_order.system_code IS 'Ordering consumer system (bestillende anvendersystem)';
COMMENT ON COLUMN @extschema@.service_order.share IS
	'Weight of this orderer (bestillerandel); weights of a service are normalised by their sum';

CREATE TABLE @extschema@.tariff (
	service_code	text COLLATE "C" NOT NULL,
	valid_from		date NOT NULL,
	unit_price		numeric(12,4) NOT NULL,
	CONSTRAINT tariff_pkey PRIMARY KEY (service_code, valid_from),
	CONSTRAINT tariff_service_fkey FOREIGN KEY (service_code)
		REFERENCES @extschema@.service (code),
	CONSTRAINT tariff_unit_price_not_negative CHECK (unit_price >= 0),
	CONSTRAINT tariff_valid_from_finite CHECK (isfinite(valid_from))
);
COMMENT ON TABLE @extschema@.tariff IS
	'Price per call (takst pr. opslag) of a service; a tariff applies from the first whole month on or after valid_from';
COMMENT ON COLUMN @extschema@.tariff.service_code IS 'Service the tariff prices';
COMMENT ON COLUMN @extschema@.tariff.valid_from IS
	'First day the tariff is valid; inside a month it takes effect from the following month';
COMMENT ON COLUMN @extschema@.tariff.unit_price IS 'Price per call in DKK (kr. pr. kald)';

CREATE TABLE @extschema@.baseline (
	year			integer NOT NULL,
	system_code		text COLLATE "C" NOT NULL,
	service_code	text COLLATE "C" NOT NULL,
	calls			bigint NOT NULL,
	CONSTRAINT baseline_pkey PRIMARY KEY (year, system_code, service_code),
	CONSTRAINT baseline_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.billing_year (year),
	CONSTRAINT baseline_system_fkey FOREIGN KEY (system_code)
		REFERENCES @extschema@.consumer_system (code),
	CONSTRAINT baseline_service_fkey FOREIGN KEY (service_code)
		REFERENCES @extschema@.service (code),
	CONSTRAINT baseline_calls_not_negative CHECK (calls >= 0)
);
COMMENT ON TABLE @extschema@.baseline IS
	'Yearly baseline consumption (baseline forbrug) of a monopoly-break system on a support-system service: calls up to it are the system''s own, calls above it are pool-funded';
COMMENT ON COLUMN @extschema@.baseline.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.baseline.system_code IS 'Monopoly-break system (KY, KSD, SAPA)';
COMMENT ON COLUMN @extschema@.baseline.service_code IS 'Support-system service';
COMMENT ON COLUMN @extschema@.baseline.calls IS 'Calls per year covered by the system itself';

CREATE TABLE @extschema@.cost_entry (
	entry_key		text COLLATE "C" NOT NULL,
	year			integer NOT NULL,
	cost_type		@extschema@.cost_type NOT NULL,
	basis			@extschema@.cost_basis NOT NULL,
	service_code	text COLLATE "C",
	system_code		text COLLATE "C",
	amount			numeric(14,2) NOT NULL,
	corrects		text COLLATE "C",
	note			text,
	recorded_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT cost_entry_pkey PRIMARY KEY (entry_key),
	CONSTRAINT cost_entry_entry_key_not_blank CHECK (btrim(entry_key) <> ''),
	CONSTRAINT cost_entry_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.billing_year (year),
	CONSTRAINT cost_entry_service_fkey FOREIGN KEY (service_code)
		REFERENCES @extschema@.service (code),
	CONSTRAINT cost_entry_system_fkey FOREIGN KEY (system_code)
		REFERENCES @extschema@.consumer_system (code),
	CONSTRAINT cost_entry_corrects_fkey FOREIGN KEY (corrects)
		REFERENCES @extschema@.cost_entry (entry_key),
	CONSTRAINT cost_entry_corrects_actual CHECK (corrects IS NULL OR basis = 'actual'),
	CONSTRAINT cost_entry_corrects_other CHECK (corrects IS DISTINCT FROM entry_key),
	CONSTRAINT cost_entry_establishment_payer CHECK
		(cost_type NOT IN ('establishment', 'infrastructure_establishment')
		 OR system_code IS NOT NULL OR service_code IS NOT NULL)
);
COMMENT ON TABLE @extschema@.cost_entry IS
	'Ledger of expected (forventede) and actual (faktiske) costs by cost type; append-only, corrections are new entries';
COMMENT ON COLUMN @extschema@.cost_entry.entry_key IS
	'Caller-chosen unique key of the entry, so that a load can be repeated without double counting';
COMMENT ON COLUMN @extschema@.cost_entry.year IS 'Billing year the cost belongs to';
COMMENT ON COLUMN @extschema@.cost_entry.cost_type IS 'Cost type (omkostningstype) of figure 1';
COMMENT ON COLUMN @extschema@.cost_entry.basis IS 'expected (forventet, budget) or actual (faktisk)';
COMMENT ON COLUMN @extschema@.cost_entry.service_code IS 'Service the cost concerns, if any';
COMMENT ON COLUMN @extschema@.cost_entry.system_code IS 'Consumer system the cost is charged to or concerns, if any';
COMMENT ON COLUMN @extschema@.cost_entry.amount IS 'Amount in DKK; negative for credits';
COMMENT ON COLUMN @extschema@.cost_entry.corrects IS
	'Entry this actual entry corrects (rettelse), e.g. a late cost of a closed year';
COMMENT ON COLUMN @extschema@.cost_entry.note IS 'Free text';
COMMENT ON COLUMN @extschema@.cost_entry.recorded_at IS 'When the entry was recorded';

CREATE TABLE @extschema@.usage_batch (
	batch_key	text COLLATE "C" NOT NULL,
	loaded_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	note		text,
	CONSTRAINT usage_batch_pkey PRIMARY KEY (batch_key),
	CONSTRAINT usage_batch_key_not_blank CHECK (btrim(batch_key) <> '')
);
COMMENT ON TABLE @extschema@.usage_batch IS
	'Usage batches (forbrugsleverancer) loaded; a batch key can be registered once, so a batch is never loaded twice';
COMMENT ON COLUMN @extschema@.usage_batch.batch_key IS 'Key of the delivered batch, e.g. the file name';
COMMENT ON COLUMN @extschema@.usage_batch.loaded_at IS 'When the batch was registered';
COMMENT ON COLUMN @extschema@.usage_batch.note IS 'Free text';

CREATE TABLE @extschema@.usage (
	period				date NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	system_code			text COLLATE "C" NOT NULL,
	service_code		text COLLATE "C" NOT NULL,
	calls				bigint NOT NULL,
	batch_key			text COLLATE "C" NOT NULL,
	CONSTRAINT usage_calls_not_negative CHECK (calls >= 0)
	/*
	 * The references to municipality, consumer_system, service and
	 * usage_batch, the first-of-month rule and the closed-year lock are the
	 * CHECK constraint usage_row_valid, added with its C function in the
	 * guards section: declarative foreign keys run a query per row and key,
	 * which loads a year of usage fifty times slower than COPY.
	 */
) PARTITION BY RANGE (period);
COMMENT ON TABLE @extschema@.usage IS
	'Monthly call counts (dataforbrug) per municipality, consumer system and service; append-only, partitioned by year (one partition per billing year, created with the year)';
COMMENT ON COLUMN @extschema@.usage.period IS 'Month of the calls: its first day';
COMMENT ON COLUMN @extschema@.usage.municipality_code IS 'Municipality on whose behalf the calls were made';
COMMENT ON COLUMN @extschema@.usage.system_code IS 'Consumer system (anvendersystem) that made the calls';
COMMENT ON COLUMN @extschema@.usage.service_code IS 'Service called';
COMMENT ON COLUMN @extschema@.usage.calls IS 'Number of calls (kald/opslag) in the month';
COMMENT ON COLUMN @extschema@.usage.batch_key IS 'Batch the row was loaded with';

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
	cost_type		@extschema@.cost_type NOT NULL,
	basis			@extschema@.cost_basis NOT NULL,
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

/* ------------------------------------------------------------------
 * C functions: largest-remainder apportionment
 * ------------------------------------------------------------------ */

/*
 * IMMUTABLE like core's row_number(): the result depends only on the rows
 * of the partition and their order.  Not STRICT: a null total or weight on
 * any row of the partition is an error (22004), not a null part.
 */
CREATE FUNCTION @extschema@.apportion(total numeric, weight numeric)
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'apportion'
	LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.apportion(numeric, numeric) IS
	'Window function: this row''s part of total, split over all rows of the window partition in proportion to weight by largest-remainder (Hamilton) apportionment at øre (fordeling efter største rest), so that the parts sum exactly to total. total is rounded half away from zero to two decimals first and must be the same on every row of the partition; weights need not sum to 1 and must not be negative; zero weights get 0.00. Left-over øre go to the largest remainders, ties to the larger weight, then to the row first in the window''s ORDER BY (use ORDER BY key COLLATE "C" for byte-wise key order; without ORDER BY the tie order is unspecified). A negative total is split as the mirror image of its magnitude. The window frame is ignored. Errors: 22004 null total or weight (the function is not STRICT), 22023 negative weight or totals that differ within the partition, 22012 non-zero total over zero total weight, 22003 values that do not fit 64-bit integers (weights with more than 18 decimals).';

/* ------------------------------------------------------------------
 * C functions and aggregates: usage rating and per-citizen pricing
 * ------------------------------------------------------------------ */

/*
 * Support functions of the aggregate rate(calls, unit_price).  The state
 * is internal (a 128-bit sum in aggregate memory), so the transition and
 * combine functions cannot be STRICT (PostgreSQL refuses a strict
 * transition function without an initial value for an internal state);
 * they skip rows with a null input themselves, as sum() does.
 */
CREATE FUNCTION @extschema@.rate_accum(internal, bigint, numeric)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'rate_accum'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_accum(internal, bigint, numeric) IS
	'Transition function of rate(calls, unit_price): adds calls × unit price exactly; rows with a null input are skipped';

CREATE FUNCTION @extschema@.rate_combine(internal, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'rate_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_combine(internal, internal) IS
	'Combine function of rate(calls, unit_price): adds two partial states of a parallel or partial aggregation';

CREATE FUNCTION @extschema@.rate_serialize(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'rate_serialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_serialize(internal) IS
	'Serialize function of rate(calls, unit_price): the partial state as 24 bytes (128-bit sum, row count)';

CREATE FUNCTION @extschema@.rate_deserialize(bytea, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'rate_deserialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_deserialize(bytea, internal) IS
	'Deserialize function of rate(calls, unit_price): reads and validates a state written by rate_serialize';

CREATE FUNCTION @extschema@.rate_final(internal)
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'rate_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_final(internal) IS
	'Final function of rate(calls, unit_price): the sum rounded once, half away from zero, to øre; null when no row had both inputs';

CREATE AGGREGATE @extschema@.rate(calls bigint, unit_price numeric) (
	SFUNC = @extschema@.rate_accum,
	STYPE = internal,
	SSPACE = 64,
	FINALFUNC = @extschema@.rate_final,
	COMBINEFUNC = @extschema@.rate_combine,
	SERIALFUNC = @extschema@.rate_serialize,
	DESERIALFUNC = @extschema@.rate_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.rate(bigint, numeric) IS
	'Rated usage (afregnet forbrug) of a group of usage rows: the sum of calls × unit_price, rounded once, half away from zero, to øre (never row by row). unit_price is a tariff in DKK per call with at most 4 decimals. Rows with a null input are skipped; null when there is none. Errors: 22023 negative calls, or a unit price that is negative, NaN, infinite or has more than 4 decimals; 22003 a result that does not fit. Parallel safe.';

/* ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.per_citizen_price(pool numeric, citizens bigint,
											  decimals integer)
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'per_citizen_price'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.per_citizen_price(numeric, bigint, integer) IS
	'Buffet price per citizen (buffetpris pr. borger, SPEC R2): pool / citizens rounded half away from zero to decimals places (0 to 4), with exactly that scale. The pool is first rounded half away from zero to whole øre; a pool of zero or less gives price 0 (the difference is carried forward). Computed exactly in integers. Errors: 22012 no citizens, 22023 negative citizens, decimals outside 0..4 or a pool that is not finite, 22003 a pool that does not fit.';

CREATE FUNCTION @extschema@.graduated_charge(citizens bigint,
											 from_citizens integer[],
											 rates numeric[])
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'graduated_charge'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.graduated_charge(bigint, integer[], numeric[]) IS
	'Graduated per-citizen charge (trappeskala), e.g. the infrastructure price (infrastrukturpris, SPEC R11): tier i covers the citizens above from_citizens[i] up to from_citizens[i+1] (the last tier is open-ended) at rates[i] DKK per citizen; the sum is rounded once, half away from zero, to øre. Example: 25.00 kr per citizen, 12.50 above 150,000: graduated_charge(632340, ''{0,150000}'', ''{25.00,12.50}'') = 9779250.00. from_citizens must start at 0 and increase strictly; the arrays are one-dimensional, of the same non-zero length, without nulls; rates are finite, not negative, with at most 4 decimals. Errors: 22023 for any of these or negative citizens, 22003 a result that does not fit.';

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
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/*
	 * pg_dump scripts set row_security = off; a superuser session with it off
	 * is replaying a dump, in which announced and closed years arrive before
	 * their population and entries.  The append-only triggers stay on.
	 */
	SELECT current_setting('row_security') = 'off'
	   AND coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r
					 WHERE r.rolname = current_user), false)
$$;
COMMENT ON FUNCTION @extschema@.restoring() IS
	'Whether this session replays a dump (superuser with row_security = off, as pg_dump scripts set it): the lifecycle guards then let rows of locked years in, in dump order';

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
	last_closed integer := (SELECT max(y.year) FROM @extschema@.billing_year y WHERE y.status = 'closed');
	d date;
BEGIN
	IF @extschema@.restoring() THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	FOREACH d IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.valid_from END,
							 CASE WHEN TG_OP <> 'DELETE' THEN NEW.valid_from END]
	LOOP
		IF d IS NOT NULL AND last_closed IS NOT NULL
		   AND @extschema@.tariff_effective_month(d) < make_date(last_closed + 1, 1, 1) THEN
			PERFORM @extschema@.refuse_locked_year(last_closed, 'tariffs',
				'A tariff change may only take effect after the last closed year; date it in an open year.');
		END IF;
	END LOOP;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION @extschema@.guard_tariff() IS
	'Trigger: tariffs cannot change for months of closed years, whose usage is already rated';

CREATE FUNCTION @extschema@.usage_row_valid(period date, municipality_code text,
	system_code text, service_code text, batch_key text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'usage_row_valid'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.usage_row_valid(date, text, text, text, text) IS
	'Check of a usage row: known municipality, system, service and batch (else 23503), a first day of a month (23514), a year that is not closed (55000); raises the error itself, true otherwise. STABLE, not immutable: it reads the reference tables, from a per-command cache';

/*
 * A CHECK rather than a row trigger: COPY keeps inserting in batches. It
 * is checked for new rows only; a closed year's rows would fail it, so it
 * is never re-validated (partitions are created empty, dumps replay with
 * the check stepping aside, see restoring()).
 */
ALTER TABLE @extschema@.usage ADD CONSTRAINT usage_row_valid
	CHECK (@extschema@.usage_row_valid(period, municipality_code, system_code, service_code, batch_key));

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

/* ------------------------------------------------------------------
 * Routing (SPEC §3): who carries each cost line and each rated call.
 *
 * The matrix lives here and nowhere else: usage_route() and
 * baseline_applies() for usage, the cost_allocation view for cost
 * entries. Preview, announcement, close and the views all read these.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.usage_route(p_class @extschema@.system_class,
										p_billing @extschema@.billing_method)
RETURNS @extschema@.route
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
			WHEN p_class IN ('udk', 'own_billing') THEN 'system'
			WHEN p_billing = 'per_call' THEN 'municipality'
			ELSE 'pool'
		   END::@extschema@.route
$$;
COMMENT ON FUNCTION @extschema@.usage_route(@extschema@.system_class, @extschema@.billing_method) IS
	'Route of usage (dataforbrug) by a system class on a service: udk and own-billing systems carry their own, per-call services are charged to the calling municipality, the rest is pool-funded (baselines aside, see baseline_applies)';

CREATE FUNCTION @extschema@.baseline_applies(p_class @extschema@.system_class,
											 p_platform @extschema@.platform)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_class = 'monopoly_break' AND p_platform = 'support_system'
$$;
COMMENT ON FUNCTION @extschema@.baseline_applies(@extschema@.system_class, @extschema@.platform) IS
	'Whether a baseline (baseline forbrug) limits pool funding: only monopoly-break systems on support-system services (SPEC S4)';

CREATE VIEW @extschema@.cost_allocation WITH (security_invoker = true) AS
WITH entry AS (
	SELECT e.entry_key, e.year, e.cost_type, e.basis, e.service_code, e.system_code,
		   e.amount, c.class AS system_class, s.funding, s.billing,
		   /* entries split over the service's orderers by share (S1) */
		   CASE
			WHEN e.cost_type IN ('establishment', 'infrastructure_establishment')
				THEN e.system_code IS NULL
			WHEN e.cost_type = 'operations'
				THEN s.funding IS DISTINCT FROM 'development_pool'
					 AND EXISTS (SELECT 1 FROM @extschema@.service_order o
								 WHERE o.service_code = e.service_code)
			ELSE false
		   END AS split
	  FROM @extschema@.cost_entry e
	  LEFT JOIN @extschema@.consumer_system c ON c.code = e.system_code
	  LEFT JOIN @extschema@.service s ON s.code = e.service_code
)
SELECT entry.entry_key, entry.year, entry.cost_type, entry.basis, r.route,
	   CASE WHEN r.route = 'system' THEN entry.system_code END AS payer_code,
	   entry.amount
  FROM entry
 CROSS JOIN LATERAL (SELECT CASE
		WHEN entry.cost_type IN ('establishment', 'infrastructure_establishment') THEN 'system'
		WHEN entry.cost_type IN ('operations', 'support_admin', 'development_pool') THEN 'pool'
		WHEN entry.cost_type = 'dissemination' THEN
			CASE WHEN entry.system_class = 'kombit_project' THEN 'system' ELSE 'pool' END
		WHEN entry.cost_type = 'data_consumption' THEN
			CASE WHEN entry.system_class IN ('udk', 'own_billing') THEN 'system'
				 WHEN entry.billing = 'per_call' THEN 'municipality'
				 ELSE 'pool' END
	   END::@extschema@.route AS route) r
 WHERE NOT entry.split
UNION ALL
SELECT p.entry_key, p.year, p.cost_type, p.basis,
	   CASE WHEN p.cost_type <> 'operations' OR p.orderer_class IN ('monopoly_break', 'udk')
			THEN 'system' ELSE 'pool' END::@extschema@.route,
	   CASE WHEN p.cost_type <> 'operations' OR p.orderer_class IN ('monopoly_break', 'udk')
			THEN p.orderer END,
	   p.part
  FROM (SELECT entry.entry_key, entry.year, entry.cost_type, entry.basis,
			   o.system_code AS orderer, oc.class AS orderer_class,
			   @extschema@.apportion(entry.amount, o.share)
				   OVER (PARTITION BY entry.entry_key ORDER BY o.system_code COLLATE "C") AS part
		  FROM entry
		  JOIN @extschema@.service_order o ON o.service_code = entry.service_code
		  JOIN @extschema@.consumer_system oc ON oc.code = o.system_code
		 WHERE entry.split) p;
COMMENT ON VIEW @extschema@.cost_allocation IS
	'Routing of every cost entry as the matrix of SPEC §3 gives it today (fordeling af omkostninger): one row per entry and route part; split entries are apportioned exactly over the orderers by share';
COMMENT ON COLUMN @extschema@.cost_allocation.entry_key IS 'Cost entry';
COMMENT ON COLUMN @extschema@.cost_allocation.year IS 'Year of the entry';
COMMENT ON COLUMN @extschema@.cost_allocation.cost_type IS 'Cost type';
COMMENT ON COLUMN @extschema@.cost_allocation.basis IS 'expected or actual';
COMMENT ON COLUMN @extschema@.cost_allocation.route IS 'pool (buffetpris), system (anvendersystem) or municipality (per-call, recovered through direct charges)';
COMMENT ON COLUMN @extschema@.cost_allocation.payer_code IS 'Consumer system carrying the part, for route system';
COMMENT ON COLUMN @extschema@.cost_allocation.amount IS 'Part of the entry on this route, DKK';

CREATE FUNCTION @extschema@.fixed_cost_lines(p_year integer, p_basis @extschema@.cost_basis)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	unrouted text;
	n integer;
BEGIN
	/* every entry must be routed in full before its year is locked */
	SELECT string_agg(e.entry_key, ', ' ORDER BY e.entry_key) INTO unrouted
	  FROM @extschema@.cost_entry e
	  LEFT JOIN (SELECT a.entry_key, sum(a.amount) AS routed
				   FROM @extschema@.cost_allocation a
				  WHERE a.year = p_year AND a.basis = p_basis
				  GROUP BY a.entry_key) a USING (entry_key)
	 WHERE e.year = p_year AND e.basis = p_basis
	   AND a.routed IS DISTINCT FROM e.amount;
	IF unrouted IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('%s cost entries of %s cannot be routed', p_basis, p_year),
			DETAIL = format('Entries without a payer: %s.', unrouted),
			HINT = 'Establishment needs a consumer system or a service with orderers.';
	END IF;
	INSERT INTO @extschema@.cost_line (entry_key, year, cost_type, basis, route, payer_code, amount)
	SELECT a.entry_key, a.year, a.cost_type, a.basis, a.route, a.payer_code, a.amount
	  FROM @extschema@.cost_allocation a
	 WHERE a.year = p_year AND a.basis = p_basis
	   AND a.amount <> 0;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.fixed_cost_lines(integer, @extschema@.cost_basis) IS
	'Fixes the routing of a year''s expected (at announcement) or actual (at close) cost entries into cost_line; refuses entries that cannot be routed in full';

CREATE FUNCTION @extschema@.month_tariff(p_from date, p_to date)
RETURNS TABLE (service_code text, period date, tariff_from date, unit_price numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
/* a few months x services, but estimated at 1000 x 780 rows: JIT costs ~0.3 s a call */
SET jit = off
AS $$
	SELECT s.code, m.period::date, t.tariff_from, t.unit_price
	  FROM @extschema@.service s
	 CROSS JOIN generate_series(p_from, p_to, interval '1 month') AS m(period)
	  LEFT JOIN LATERAL (
			SELECT @extschema@.tariff_effective_month(t.valid_from) AS tariff_from, t.unit_price
			  FROM @extschema@.tariff t
			 WHERE t.service_code = s.code
			   AND @extschema@.tariff_effective_month(t.valid_from) <= m.period
			 ORDER BY t.valid_from DESC
			 LIMIT 1) t ON true
$$;
COMMENT ON FUNCTION @extschema@.month_tariff(date, date) IS
	'Tariff in force (takst) for every service and month from p_from to p_to: the latest tariff whose effective month is not after the month; null where the service has none';

/* ------------------------------------------------------------------
 * Rating of usage (SPEC §3, §4.3, S3-S5)
 *
 * A year is hundreds of millions of usage rows, so the one pass over them
 * does nothing but sum calls by month, system and service (and municipality
 * for per-call services);
 * routing, tariffs, baselines and the rate() aggregate then work on those
 * sums, which are bounded by the number of output cells, not of rows.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.refuse_missing_tariff(p_service text, p_period date)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION USING
		ERRCODE = 'object_not_in_prerequisite_state',
		MESSAGE = format('per-call service %s has no tariff in force for %s',
						 p_service, to_char(p_period, 'YYYY-MM')),
		DETAIL = 'Calls of a per-call service are charged at the service''s tariff.',
		HINT = 'Add a tariff for the service that is valid from the month or earlier.';
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_missing_tariff(text, date) IS
	'Raises the 55000 error for usage of a per-call service in a month without a tariff in force (a per-call service never rates at 0)';

CREATE FUNCTION @extschema@.usage_pair()
RETURNS TABLE (system_code text, service_code text, route @extschema@.route,
			   baseline_subject boolean, per_call boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/* the routing matrix once per (system, service) pair, never per usage row */
	SELECT c.code, s.code, @extschema@.usage_route(c.class, s.billing),
		   @extschema@.usage_route(c.class, s.billing) = 'pool'
		   AND @extschema@.baseline_applies(c.class, s.platform),
		   s.billing = 'per_call'
	  FROM @extschema@.consumer_system c
	 CROSS JOIN @extschema@.service s
$$;
COMMENT ON FUNCTION @extschema@.usage_pair() IS
	'Route of the usage of every consumer system on every service (SPEC §3), and whether a baseline can apply to it';

CREATE FUNCTION @extschema@.rated_usage(p_year integer)
RETURNS TABLE (route @extschema@.route, payer_code text, service_code text,
			   period date, tariff_from date, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	/* only per-call lines are kept per municipality */
	per_call_services text[] := ARRAY(SELECT s.code FROM @extschema@.service s
									  WHERE s.billing = 'per_call');
BEGIN
	IF to_regclass(format('%I.%I', '@extschema@', 'usage_y' || p_year)) IS NULL THEN
		RETURN;					/* no billing year, no partition, no usage */
	END IF;
	/*
	 * The one pass reads the year's partition by name, with no range filter:
	 * a filter on a freshly loaded, not yet analyzed partition is estimated
	 * at a few thousand rows, and the planner then sorts the whole year on
	 * disk instead of hashing it.
	 */
	RETURN QUERY EXECUTE format($query$
	WITH pair AS MATERIALIZED (
		SELECT p.*, b.calls AS baseline_calls
		  FROM @extschema@.usage_pair() p
		  LEFT JOIN @extschema@.baseline b
			ON b.year = $1 AND b.system_code = p.system_code
		   AND b.service_code = p.service_code AND p.baseline_subject
	),
	tariff AS MATERIALIZED (
		SELECT * FROM @extschema@.month_tariff(make_date($1, 1, 1), make_date($1, 12, 1))
	),
	/* the one pass over the year's usage: plain sums */
	raw AS (
		SELECT u.period, u.system_code, u.service_code,
			   CASE WHEN u.service_code = ANY ($2) THEN u.municipality_code END
				   AS municipality_code,
			   sum(u.calls)::bigint AS calls
		  FROM %I.%I u
		 GROUP BY 1, 2, 3, 4
	),
	/* cells of month x line key; a per-call month without a tariff is an error */
	cell AS (
		SELECT r.period, r.service_code, p.route, p.baseline_calls,
			   CASE WHEN p.route = 'municipality' THEN r.municipality_code
					WHEN p.route = 'system' OR p.baseline_calls IS NOT NULL THEN r.system_code
			   END AS payer_code,
			   t.tariff_from, coalesce(t.unit_price, 0) AS unit_price,
			   sum(r.calls)::bigint AS calls
		  FROM raw r
		  JOIN pair p ON p.system_code = r.system_code AND p.service_code = r.service_code
		  JOIN tariff t ON t.service_code = r.service_code AND t.period = r.period
		 WHERE CASE WHEN p.per_call AND t.unit_price IS NULL
					THEN @extschema@.refuse_missing_tariff(r.service_code, r.period)
					ELSE true END
		 GROUP BY 1, 2, 3, 4, 5, 6, 7
	),
	/* S4: a baseline is filled month by month from January */
	base AS (
		SELECT cell.*,
			   least(cell.calls,
					 greatest(0, cell.baseline_calls
								 - coalesce(sum(cell.calls) OVER (
										PARTITION BY cell.payer_code, cell.service_code
										ORDER BY cell.period
										ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))
			   )::bigint AS within
		  FROM cell
		 WHERE cell.baseline_calls IS NOT NULL
	),
	part AS (
		SELECT cell.route, cell.payer_code, cell.service_code, cell.period,
			   cell.tariff_from, cell.unit_price, cell.calls
		  FROM cell WHERE cell.baseline_calls IS NULL
		UNION ALL
		SELECT 'system', base.payer_code, base.service_code, base.period,
			   base.tariff_from, base.unit_price, base.within
		  FROM base WHERE base.within > 0
		UNION ALL
		SELECT 'pool', NULL, base.service_code, base.period,
			   base.tariff_from, base.unit_price, base.calls - base.within
		  FROM base WHERE base.calls > base.within
	)
	/* S3: per-call lines per month; pool and system lines per tariff period */
	SELECT part.route, part.payer_code, part.service_code,
		   CASE WHEN part.route = 'municipality' THEN part.period END,
		   part.tariff_from, part.unit_price,
		   sum(part.calls)::bigint, @extschema@.rate(part.calls, part.unit_price)
	  FROM part
	 GROUP BY 1, 2, 3, 4, 5, 6
	$query$, '@extschema@', 'usage_y' || p_year)
	USING p_year, per_call_services;
END
$$;
COMMENT ON FUNCTION @extschema@.rated_usage(integer) IS
	'Rates a year''s usage (afregning af forbrug): one line per route, payer, service and tariff period (per month for per-call lines), calls × tariff rounded once per line to øre by the rate aggregate; refuses per-call usage without a tariff';

/* ------------------------------------------------------------------
 * Pricing and the year lifecycle (SPEC R1-R3, R9, R10, §5, S6-S9)
 * ------------------------------------------------------------------ */

/* Lock a billing year row for a settlement step, or refuse an unknown year. */
CREATE FUNCTION @extschema@.lock_year(p_year integer)
RETURNS @extschema@.billing_year
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year;
BEGIN
	IF p_year IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'billing year must not be null';
	END IF;
	/* a second settlement of the same year waits here for the first */
	SELECT * INTO y FROM @extschema@.billing_year b WHERE b.year = p_year FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('billing year %s does not exist', p_year),
			HINT = 'Create it first: INSERT INTO afregning.billing_year (year) VALUES (...).';
	END IF;
	RETURN y;
END
$$;
COMMENT ON FUNCTION @extschema@.lock_year(integer) IS
	'Locks a billing year row for announcement or close (so concurrent runs serialise); 22023 for an unknown year';

/* Move a year to its next status; the guard trigger only lets this through. */
CREATE FUNCTION @extschema@.set_year_status(p_year integer, p_status @extschema@.year_status)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM set_config('afregning.transition', p_year::text, true);
	UPDATE @extschema@.billing_year b
	   SET status = p_status,
		   announced_at = CASE WHEN p_status = 'announced' THEN now() ELSE b.announced_at END,
		   closed_at = CASE WHEN p_status = 'closed' THEN now() ELSE b.closed_at END
	 WHERE b.year = p_year;
	PERFORM set_config('afregning.transition', '', true);
END
$$;
COMMENT ON FUNCTION @extschema@.set_year_status(integer, @extschema@.year_status) IS
	'Internal: moves a billing year to its next status on behalf of announce_price() and close_year()';

CREATE FUNCTION @extschema@.preview_price(p_year integer,
	OUT year integer, OUT expected_pool numeric, OUT carry_in numeric,
	OUT pool numeric, OUT citizens bigint, OUT price numeric)
RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year;
BEGIN
	SELECT * INTO y FROM @extschema@.billing_year b WHERE b.year = p_year;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('billing year %s does not exist', p_year);
	END IF;
	year := p_year;
	IF y.status <> 'open' THEN
		/* S8: the announced figures, never recomputed */
		SELECT a.expected_pool, a.carry_in, a.pool, a.citizens, a.price
		  INTO expected_pool, carry_in, pool, citizens, price
		  FROM @extschema@.price_announcement a WHERE a.year = p_year;
		RETURN;
	END IF;
	SELECT coalesce(sum(a.amount), 0)::numeric(14,2) INTO expected_pool
	  FROM @extschema@.cost_allocation a
	 WHERE a.year = p_year AND a.basis = 'expected' AND a.route = 'pool';
	SELECT coalesce(sum(c.amount), 0)::numeric(14,2) INTO carry_in
	  FROM @extschema@.carry_posting c WHERE c.to_year = p_year;
	pool := expected_pool + carry_in;
	SELECT coalesce(sum(p.citizens), 0) INTO citizens
	  FROM @extschema@.population p WHERE p.year = p_year;
	price := CASE WHEN citizens > 0
				  THEN @extschema@.per_citizen_price(pool, citizens, y.price_decimals) END;
END
$$;
COMMENT ON FUNCTION @extschema@.preview_price(integer) IS
	'Buffet price of a year (buffetpris): expected pool-routed costs plus carry-in, divided by all citizens and rounded half away from zero; locked figures once announced; price null while no population is loaded';

CREATE FUNCTION @extschema@.announce_price(p_year integer)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year := @extschema@.lock_year(p_year);
	prior @extschema@.billing_year;
	missing text;
	n_missing integer;
	pv record;
BEGIN
	IF y.status <> 'open' THEN
		RETURN (SELECT a.price FROM @extschema@.price_announcement a WHERE a.year = p_year);
	END IF;

	SELECT * INTO prior FROM @extschema@.billing_year b WHERE b.year = p_year - y.carry_lag;
	IF FOUND AND prior.status <> 'closed' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('cannot announce %s before %s is closed', p_year, prior.year),
			DETAIL = format('The price of %s absorbs the difference of %s (carry_lag %s).',
							p_year, prior.year, y.carry_lag),
			HINT = format('Close %s first with afregning.close_year(%s).', prior.year, prior.year);
	END IF;

	SELECT count(*), string_agg(m.code, ', ' ORDER BY m.code) FILTER (WHERE rn <= 10)
	  INTO n_missing, missing
	  FROM (SELECT m.code, row_number() OVER (ORDER BY m.code) AS rn
			  FROM @extschema@.municipality m
			 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.population p
							   WHERE p.year = p_year AND p.municipality_code = m.code)) m;
	IF n_missing > 0 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('population of %s is missing for %s municipalities', p_year, n_missing),
			DETAIL = format('No citizens for: %s.', missing),
			HINT = 'Load afregning.population for every municipality of the year.';
	END IF;

	pv := @extschema@.preview_price(p_year);
	IF pv.citizens = 0 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('year %s has no citizens', p_year),
			HINT = 'Load municipalities and their population first.';
	END IF;

	INSERT INTO @extschema@.price_announcement
		(year, expected_pool, carry_in, pool, citizens, price)
	VALUES (p_year, pv.expected_pool, pv.carry_in, pv.pool, pv.citizens, pv.price);
	PERFORM @extschema@.fixed_cost_lines(p_year, 'expected');
	INSERT INTO @extschema@.buffet_invoice (year, municipality_code, citizens, price, amount)
	SELECT p_year, p.municipality_code, p.citizens, pv.price, pv.price * p.citizens
	  FROM @extschema@.population p WHERE p.year = p_year;
	/* S12: four installments, Q1 first on ties (apportion's key order) */
	INSERT INTO @extschema@.installment (year, municipality_code, quarter, due_date, amount)
	SELECT i.year, i.municipality_code, q,
		   make_date(i.year, 3 * q - 2, 1),
		   @extschema@.apportion(i.amount, 1)
			   OVER (PARTITION BY i.municipality_code ORDER BY q)
	  FROM @extschema@.buffet_invoice i
	 CROSS JOIN generate_series(1, 4) AS q
	 WHERE i.year = p_year;
	PERFORM @extschema@.post_schedule_charges(p_year);
	PERFORM @extschema@.set_year_status(p_year, 'announced');
	RETURN pv.price;
END
$$;
COMMENT ON FUNCTION @extschema@.announce_price(integer) IS
	'Announces (udmelder) and locks the buffet price of a year: writes the price, one buffet invoice per municipality with four quarterly installments, and the graduated charges; a second call returns the locked price';

CREATE FUNCTION @extschema@.close_year(p_year integer)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year := @extschema@.lock_year(p_year);
	a @extschema@.price_announcement;
	v_actual numeric;
	v_billed numeric;
	v_diff numeric;
	target integer;
	targets integer[];
BEGIN
	IF y.status = 'closed' THEN
		RETURN (SELECT c.difference FROM @extschema@.year_close c WHERE c.year = p_year);
	ELSIF y.status = 'open' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('cannot close %s before its price is announced', p_year),
			HINT = format('Announce it first with afregning.announce_price(%s).', p_year);
	END IF;

	/* no usage may arrive while the year is being rated */
	EXECUTE format('LOCK TABLE %I.%I IN SHARE MODE', '@extschema@', 'usage_y' || p_year);
	/* fresh statistics, so the year is rated by hashing, not by a sort on disk */
	EXECUTE format('ANALYZE %I.%I', '@extschema@', 'usage_y' || p_year);

	/* S9: per-call charges of every month are posted before the year locks */
	PERFORM @extschema@.post_direct(make_date(p_year, 1, 1), make_date(p_year, 12, 1));

	PERFORM @extschema@.fixed_cost_lines(p_year, 'actual');
	INSERT INTO @extschema@.usage_line
		(year, route, payer_code, service_code, period, tariff_from, unit_price, calls, amount)
	SELECT p_year, r.route, r.payer_code, r.service_code, r.period, r.tariff_from,
		   r.unit_price, r.calls, r.amount
	  FROM @extschema@.rated_usage(p_year) r;

	SELECT * INTO a FROM @extschema@.price_announcement pa WHERE pa.year = p_year;
	/* S6: actual pool = actual entries routed to the pool + rated pool usage */
	v_actual := (SELECT coalesce(sum(l.amount), 0) FROM @extschema@.cost_line l
				  WHERE l.year = p_year AND l.basis = 'actual' AND l.route = 'pool')
			  + (SELECT coalesce(sum(u.amount), 0) FROM @extschema@.usage_line u
				  WHERE u.year = p_year AND u.route = 'pool');
	v_billed := (SELECT coalesce(sum(i.amount), 0) FROM @extschema@.buffet_invoice i
				  WHERE i.year = p_year);
	v_diff := v_actual + a.carry_in - v_billed;

	/*
	 * R9, S7: the first year >= year + carry_lag that is still open, or with
	 * smoothing the first carry_spread such years; a missing year is created.
	 */
	targets := ARRAY(SELECT t
					   FROM generate_series(p_year + y.carry_lag, p_year + y.carry_lag + 1000) AS t
					  WHERE @extschema@.year_status(t) = 'open'
					  ORDER BY t
					  LIMIT y.carry_spread);
	FOREACH target IN ARRAY targets
	LOOP
		IF NOT EXISTS (SELECT 1 FROM @extschema@.billing_year b WHERE b.year = target) THEN
			INSERT INTO @extschema@.billing_year (year) VALUES (target);
		END IF;
		/* a target must not be announced under us */
		PERFORM 1 FROM @extschema@.billing_year b WHERE b.year = target FOR UPDATE;
	END LOOP;

	INSERT INTO @extschema@.year_close (year, actual_pool, carry_in, billed, difference, to_year)
	VALUES (p_year, v_actual, a.carry_in, v_billed, v_diff, targets[1]);
	/* R10: the parts sum exactly to the difference; the earliest year takes the odd øre */
	INSERT INTO @extschema@.carry_posting (from_year, to_year, amount)
	SELECT p_year, t, @extschema@.apportion(v_diff, 1) OVER (ORDER BY t)
	  FROM unnest(targets) AS t;
	PERFORM @extschema@.set_year_status(p_year, 'closed');
	RETURN v_diff;
END
$$;
COMMENT ON FUNCTION @extschema@.close_year(integer) IS
	'Closes (afslutter) an announced year: posts outstanding per-call charges, rates the year''s usage, fixes the actual pool and carries the difference (actual pool + carry-in - billed) into the first open year >= year + carry_lag; returns that difference, also on a second call';

CREATE FUNCTION @extschema@.explain_price(p_year integer)
RETURNS TABLE (line integer, item text, amount numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pv record := @extschema@.preview_price(p_year);
	st @extschema@.year_status := @extschema@.year_status(p_year);
BEGIN
	/* the cost-type lines and carry_in add up exactly to the pool line */
	RETURN QUERY
	SELECT (row_number() OVER (ORDER BY ct))::integer, ct::text,
		   coalesce((SELECT sum(x.amount)::numeric(14,2) FROM (
						SELECT l.amount FROM @extschema@.cost_line l
						 WHERE st <> 'open' AND l.year = p_year AND l.basis = 'expected'
						   AND l.route = 'pool' AND l.cost_type = ct
						UNION ALL
						SELECT a.amount FROM @extschema@.cost_allocation a
						 WHERE st = 'open' AND a.year = p_year AND a.basis = 'expected'
						   AND a.route = 'pool' AND a.cost_type = ct) x), 0.00)
	  FROM unnest(enum_range(NULL::@extschema@.cost_type)) AS ct;
	line := 8; item := 'carry_in'; amount := pv.carry_in; RETURN NEXT;
	line := 9; item := 'pool'; amount := pv.pool; RETURN NEXT;
	line := 10; item := 'citizens'; amount := pv.citizens; RETURN NEXT;
	line := 11; item := 'price_unrounded';
	amount := CASE WHEN pv.citizens > 0 THEN round(pv.pool / pv.citizens, 10) END; RETURN NEXT;
	line := 12; item := 'price'; amount := pv.price; RETURN NEXT;
	line := 13; item := 'billed'; amount := pv.price * pv.citizens; RETURN NEXT;
	line := 14; item := 'rounding_residual'; amount := pv.pool - pv.price * pv.citizens; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.explain_price(integer) IS
	'Waterfall of a year''s buffet price (prisudregning): expected pool by cost type, carry-in, pool, citizens, unrounded and rounded price, billed amount and the rounding residual that is carried forward at close';

/* ------------------------------------------------------------------
 * Budgeting aids (SPEC §9): what-if previews and a price forecast.
 * Both only read; nothing is written.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.what_if_price(p_year integer,
	p_adjustments jsonb DEFAULT '{}',
	p_citizens bigint DEFAULT NULL,
	OUT year integer, OUT expected_pool numeric, OUT carry_in numeric,
	OUT pool numeric, OUT citizens bigint, OUT price numeric, OUT price_change numeric)
RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	base record := @extschema@.preview_price(p_year);
	decimals integer := (SELECT b.price_decimals FROM @extschema@.billing_year b WHERE b.year = p_year);
	k text;
	v jsonb;
	delta numeric := 0;
BEGIN
	IF p_adjustments IS NULL OR jsonb_typeof(p_adjustments) <> 'object' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'adjustments must be a JSON object of cost type to amount',
			HINT = 'E.g. ''{"data_consumption": 250000, "operations": -50000}''.';
	END IF;
	FOR k, v IN SELECT * FROM jsonb_each(p_adjustments)
	LOOP
		IF NOT k = ANY (enum_range(NULL::@extschema@.cost_type)::text[]) THEN
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('unknown cost type %s in adjustments', k),
				HINT = format('Use one of %s.', array_to_string(enum_range(NULL::@extschema@.cost_type)::text[], ', '));
		END IF;
		IF jsonb_typeof(v) <> 'number' THEN
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('adjustment of %s must be a number of DKK', k);
		END IF;
		delta := delta + round((v #>> '{}')::numeric, 2);
	END LOOP;
	IF p_citizens IS NOT NULL AND p_citizens <= 0 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'citizens must be positive';
	END IF;

	year := p_year;
	/* an adjustment is a change of the pool-routed expected costs of that type */
	expected_pool := base.expected_pool + delta;
	carry_in := base.carry_in;
	pool := expected_pool + carry_in;
	citizens := coalesce(p_citizens, base.citizens);
	price := CASE WHEN citizens > 0 THEN @extschema@.per_citizen_price(pool, citizens, decimals) END;
	price_change := price - base.price;
END
$$;
COMMENT ON FUNCTION @extschema@.what_if_price(integer, jsonb, bigint) IS
	'What-if (hvad nu hvis) preview of a year''s buffet price: pool-routed expected costs changed by cost type ({"cost_type": DKK, ...}) and optionally another citizen count; writes nothing';

CREATE FUNCTION @extschema@.forecast_price(p_years integer DEFAULT 3)
RETURNS TABLE (year integer, forecast_pool numeric, carry_in numeric, pool numeric,
			   citizens bigint, price numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
	mean_x numeric;
	mean_y numeric;
	slope numeric;
	last_closed integer;
	pop bigint;
BEGIN
	IF p_years IS NULL OR p_years NOT BETWEEN 1 AND 10 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'forecast horizon must be 1 to 10 years';
	END IF;
	SELECT count(*), avg(c.year), avg(c.actual_pool), max(c.year)
	  INTO n, mean_x, mean_y, last_closed
	  FROM @extschema@.year_close c;
	IF n < 2 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'a forecast needs at least two closed years',
			DETAIL = format('%s closed year(s) so far.', n);
	END IF;
	/* least-squares trend of the actual pool, in exact numeric */
	SELECT sum((c.year - mean_x) * (c.actual_pool - mean_y)) / sum((c.year - mean_x) ^ 2)
	  INTO slope
	  FROM @extschema@.year_close c;
	/* the latest population known stands in for later years */
	SELECT sum(p.citizens) INTO pop
	  FROM @extschema@.population p
	 WHERE p.year = (SELECT max(p2.year) FROM @extschema@.population p2);

	RETURN QUERY
	SELECT t, round(mean_y + slope * (t - mean_x), 2),
		   coalesce((SELECT sum(c.amount) FROM @extschema@.carry_posting c WHERE c.to_year = t), 0),
		   round(mean_y + slope * (t - mean_x), 2)
		   + coalesce((SELECT sum(c.amount) FROM @extschema@.carry_posting c WHERE c.to_year = t), 0),
		   pop,
		   @extschema@.per_citizen_price(
			   round(mean_y + slope * (t - mean_x), 2)
			   + coalesce((SELECT sum(c.amount) FROM @extschema@.carry_posting c WHERE c.to_year = t), 0),
			   pop, 2)
	  FROM generate_series(last_closed + 1, last_closed + p_years) AS t;
END
$$;
COMMENT ON FUNCTION @extschema@.forecast_price(integer) IS
	'Forecast (prognose) of the buffet price of the years after the last closed one, from the linear trend of actual pool costs, the carry-forwards already posted and the latest population; for municipal budgets, not a commitment';

/* ------------------------------------------------------------------
 * Direct charges: per-call billing of municipalities (SPEC R7, S3, S9,
 * S10) and graduated per-citizen charges (R11)
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.per_call_lines(p_from date, p_to date)
RETURNS TABLE (month date, municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH pair AS MATERIALIZED (
		SELECT * FROM @extschema@.usage_pair() p WHERE p.per_call
	),
	tariff AS MATERIALIZED (
		SELECT * FROM @extschema@.month_tariff(p_from, p_to)
	),
	/* one pass over the months: sums of the per-call services' calls */
	raw AS (
		SELECT u.period, u.municipality_code, u.system_code, u.service_code,
			   sum(u.calls)::bigint AS calls
		  FROM @extschema@.usage u
		 WHERE u.period BETWEEN p_from AND p_to
		   AND u.service_code IN (SELECT pair.service_code FROM pair)
		 GROUP BY 1, 2, 3, 4
	)
	SELECT r.period, r.municipality_code, r.service_code, t.unit_price,
		   sum(r.calls)::bigint, @extschema@.rate(r.calls, t.unit_price)
	  FROM raw r
	  JOIN pair p ON p.system_code = r.system_code AND p.service_code = r.service_code
	  JOIN tariff t ON t.service_code = r.service_code AND t.period = r.period
	 /* every per-call month needs a tariff, whoever carries the calls */
	 WHERE CASE WHEN t.unit_price IS NULL
				THEN @extschema@.refuse_missing_tariff(r.service_code, r.period)
				ELSE p.route = 'municipality' END
	 GROUP BY r.period, r.municipality_code, r.service_code, t.unit_price
$$;
COMMENT ON FUNCTION @extschema@.per_call_lines(date, date) IS
	'Per-call charges the usage of the months p_from to p_to gives now: one line per month, municipality, service and tariff, calls × tariff rounded once to øre';

CREATE FUNCTION @extschema@.per_call_lines(p_month date)
RETURNS TABLE (municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT l.municipality_code, l.service_code, l.unit_price, l.calls, l.amount
	  FROM @extschema@.per_call_lines(p_month, p_month) l
$$;
COMMENT ON FUNCTION @extschema@.per_call_lines(date) IS
	'Per-call charges a month''s usage gives now: one line per municipality, service and tariff, calls × tariff rounded once to øre';

CREATE FUNCTION @extschema@.post_direct(p_from date, p_to date)
RETURNS TABLE (month date, municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric, kind @extschema@.charge_kind)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m date;
BEGIN
	/* one run per month at a time, locked in calendar order; a second waits
	 * and then finds nothing new */
	FOR m IN SELECT generate_series(p_from, p_to, interval '1 month')::date
	LOOP
		PERFORM pg_advisory_xact_lock(hashtext('afregning.bill_direct'),
									  (extract(year FROM m) * 100 + extract(month FROM m))::integer);
	END LOOP;

	/* S10: post per key the difference between now and what was posted */
	RETURN QUERY
	WITH now_lines AS (
		SELECT * FROM @extschema@.per_call_lines(p_from, p_to)
	),
	posted AS (
		SELECT d.month, d.municipality_code, d.service_code, d.unit_price,
			   sum(d.calls)::bigint AS calls, sum(d.amount) AS amount
		  FROM @extschema@.direct_charge_line d
		 WHERE d.month BETWEEN p_from AND p_to
		 GROUP BY 1, 2, 3, 4
	),
	delta AS (
		SELECT coalesce(n.month, p.month) AS month,
			   coalesce(n.municipality_code, p.municipality_code) AS municipality_code,
			   coalesce(n.service_code, p.service_code) AS service_code,
			   coalesce(n.unit_price, p.unit_price) AS unit_price,
			   coalesce(n.calls, 0) - coalesce(p.calls, 0) AS calls,
			   coalesce(n.amount, 0) - coalesce(p.amount, 0) AS amount,
			   CASE WHEN p.municipality_code IS NULL THEN 'charge'
					WHEN n.municipality_code IS NULL THEN 'reversal'
					ELSE 'adjustment' END::@extschema@.charge_kind AS kind
		  FROM now_lines n
		  FULL JOIN posted p
			ON p.month = n.month
		   AND p.municipality_code = n.municipality_code
		   AND p.service_code = n.service_code
		   AND p.unit_price = n.unit_price
	)
	INSERT INTO @extschema@.direct_charge_line AS d
		(month, municipality_code, service_code, unit_price, calls, amount, kind)
	SELECT delta.month, delta.municipality_code, delta.service_code, delta.unit_price,
		   delta.calls, delta.amount, delta.kind
	  FROM delta
	 WHERE delta.calls <> 0 OR delta.amount <> 0
	 ORDER BY 1, 2, 3, 4
	RETURNING d.month, d.municipality_code, d.service_code, d.unit_price, d.calls, d.amount, d.kind;
END
$$;
COMMENT ON FUNCTION @extschema@.post_direct(date, date) IS
	'Internal: posts per month, municipality, service and tariff the difference between the per-call charges the months p_from to p_to give now and what was posted before; bill_direct() for one month, close_year() for the whole year in one pass';

CREATE FUNCTION @extschema@.bill_direct(p_month date)
RETURNS TABLE (municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric, kind @extschema@.charge_kind)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_month IS NULL OR extract(day FROM p_month) <> 1 OR NOT isfinite(p_month) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('month must be the first day of a month, not %s', coalesce(p_month::text, 'null')),
			HINT = format('Pass e.g. %L.', coalesce(date_trunc('month', p_month)::date::text, '2021-01-01'));
	END IF;
	RETURN QUERY
	SELECT p.municipality_code, p.service_code, p.unit_price, p.calls, p.amount, p.kind
	  FROM @extschema@.post_direct(p_month, p_month) p;
END
$$;
COMMENT ON FUNCTION @extschema@.bill_direct(date) IS
	'Posts the per-call charges (betaling pr. opslag, e.g. CPR) of a month to the calling municipalities; a re-run posts per key only the difference since the last run (adjustment, or reversal of a key that disappeared) and returns the lines it posted';

CREATE FUNCTION @extschema@.post_schedule_charges(p_year integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	/* R11: the schedule in force is the one with the latest valid_from_year <= year */
	INSERT INTO @extschema@.schedule_charge (year, municipality_code, schedule_code, citizens, amount)
	SELECT i.year, i.municipality_code, s.schedule_code, i.citizens,
		   @extschema@.graduated_charge(i.citizens, s.from_citizens, s.rates)
	  FROM @extschema@.buffet_invoice i
	 CROSS JOIN (
			SELECT c.schedule_code,
				   array_agg(c.from_citizens ORDER BY c.from_citizens) AS from_citizens,
				   array_agg(c.rate ORDER BY c.from_citizens) AS rates
			  FROM @extschema@.charge_schedule c
			 WHERE c.valid_from_year = (SELECT max(c2.valid_from_year)
										  FROM @extschema@.charge_schedule c2
										 WHERE c2.schedule_code = c.schedule_code
										   AND c2.valid_from_year <= p_year)
			 GROUP BY c.schedule_code) s
	 WHERE i.year = p_year;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.post_schedule_charges(integer) IS
	'Bills the graduated per-citizen charges in force for a year (e.g. infrastrukturpris) to every municipality; called by announce_price()';

/* The published infrastructure price (infrastrukturpris), charged since
 * 2020: 25.00 kr per citizen, half price for every citizen above 150,000. */
INSERT INTO @extschema@.charge_schedule (schedule_code, valid_from_year, from_citizens, rate)
VALUES ('infrastructure', 2020, 0, 25.00),
	   ('infrastructure', 2020, 150000, 12.50);

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

/* ------------------------------------------------------------------
 * Dashboard views: what a BI front page shows at a glance
 * ------------------------------------------------------------------ */

CREATE VIEW @extschema@.price_history WITH (security_invoker = true) AS
SELECT b.year, b.status, b.price,
	   lag(b.price) OVER (ORDER BY b.year) AS previous_price,
	   b.price - lag(b.price) OVER (ORDER BY b.year) AS change,
	   round(100 * (b.price - lag(b.price) OVER (ORDER BY b.year))
			 / nullif(lag(b.price) OVER (ORDER BY b.year), 0), 1) AS change_percent
  FROM @extschema@.buffet_price b;
COMMENT ON VIEW @extschema@.price_history IS
	'Buffet price per year with the change from the year before (prisudvikling)';
COMMENT ON COLUMN @extschema@.price_history.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.price_history.status IS 'open, announced or closed';
COMMENT ON COLUMN @extschema@.price_history.price IS 'Price per citizen, DKK (a preview while open)';
COMMENT ON COLUMN @extschema@.price_history.previous_price IS 'Price of the year before, DKK';
COMMENT ON COLUMN @extschema@.price_history.change IS 'price - previous_price, DKK';
COMMENT ON COLUMN @extschema@.price_history.change_percent IS 'Change in percent of the previous price, one decimal';

CREATE VIEW @extschema@.cost_type_comparison WITH (security_invoker = true) AS
SELECT c.year, c.cost_type, c.route,
	   coalesce(sum(c.amount) FILTER (WHERE c.basis = 'expected'), 0) AS expected,
	   coalesce(sum(c.amount) FILTER (WHERE c.basis = 'actual'), 0) AS actual,
	   coalesce(sum(c.amount) FILTER (WHERE c.basis = 'actual'), 0)
	   - coalesce(sum(c.amount) FILTER (WHERE c.basis = 'expected'), 0) AS difference
  FROM @extschema@.cost_breakdown c
 GROUP BY c.year, c.cost_type, c.route;
COMMENT ON VIEW @extschema@.cost_type_comparison IS
	'Expected against actual costs per cost type and route (figur 1: forventet og faktisk forbrug)';
COMMENT ON COLUMN @extschema@.cost_type_comparison.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.cost_type_comparison.cost_type IS 'Cost type (omkostningstype)';
COMMENT ON COLUMN @extschema@.cost_type_comparison.route IS 'pool, system or municipality';
COMMENT ON COLUMN @extschema@.cost_type_comparison.expected IS 'Expected amount (forventet), DKK';
COMMENT ON COLUMN @extschema@.cost_type_comparison.actual IS 'Actual amount (faktisk), DKK';
COMMENT ON COLUMN @extschema@.cost_type_comparison.difference IS 'actual - expected, DKK';

CREATE VIEW @extschema@.cpr_intensity WITH (security_invoker = true) AS
SELECT p.year, p.municipality_code, m.name AS municipality_name, p.citizens,
	   coalesce(c.calls, 0)::bigint AS calls,
	   round(1000.0 * coalesce(c.calls, 0) / p.citizens, 1) AS calls_per_1000_citizens,
	   coalesce(c.amount, 0) AS amount
  FROM @extschema@.population p
  JOIN @extschema@.municipality m ON m.code = p.municipality_code
  LEFT JOIN (SELECT extract(year FROM d.month)::integer AS year, d.municipality_code,
					sum(d.calls) AS calls, sum(d.amount) AS amount
			   FROM @extschema@.direct_charge_line d
			  GROUP BY 1, 2) c
	ON c.year = p.year AND c.municipality_code = p.municipality_code;
COMMENT ON VIEW @extschema@.cpr_intensity IS
	'Per-call lookups (CPR-opslag) billed per 1,000 citizens per municipality and year: the seed asks municipalities to show restraint with costly lookups';
COMMENT ON COLUMN @extschema@.cpr_intensity.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.cpr_intensity.municipality_code IS 'Municipality code';
COMMENT ON COLUMN @extschema@.cpr_intensity.municipality_name IS 'Municipality name';
COMMENT ON COLUMN @extschema@.cpr_intensity.citizens IS 'Citizens of the year';
COMMENT ON COLUMN @extschema@.cpr_intensity.calls IS 'Per-call lookups billed for the year''s months';
COMMENT ON COLUMN @extschema@.cpr_intensity.calls_per_1000_citizens IS 'calls per 1,000 citizens, one decimal';
COMMENT ON COLUMN @extschema@.cpr_intensity.amount IS 'Per-call charges billed, DKK';

CREATE VIEW @extschema@.open_carry_forward WITH (security_invoker = true) AS
SELECT c.from_year, c.to_year, c.amount AS difference,
	   @extschema@.year_status(c.to_year)::text AS to_year_status
  FROM @extschema@.carry_posting c
 WHERE @extschema@.year_status(c.to_year) <> 'closed';
COMMENT ON VIEW @extschema@.open_carry_forward IS
	'Carry-forwards not yet settled: differences waiting in years that are not closed (R10: these plus billed equal actual pool costs)';
COMMENT ON COLUMN @extschema@.open_carry_forward.from_year IS 'Closed year the difference comes from';
COMMENT ON COLUMN @extschema@.open_carry_forward.to_year IS 'Year whose price absorbs it';
COMMENT ON COLUMN @extschema@.open_carry_forward.difference IS 'Difference, or its part for this year when it was spread, DKK';
COMMENT ON COLUMN @extschema@.open_carry_forward.to_year_status IS 'Status of to_year: open or announced';

/* ------------------------------------------------------------------
 * Operations: settlement runs with a log, and pg_cron scheduling
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.settlement_run (
	run_id			bigint GENERATED ALWAYS AS IDENTITY,
	job				text NOT NULL,
	period			date NOT NULL,
	started_at		timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	finished_at		timestamptz,
	status			text NOT NULL DEFAULT 'running',
	rows_posted		integer,
	result			text,
	error_message	text,
	run_by			name NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT settlement_run_pkey PRIMARY KEY (run_id),
	CONSTRAINT settlement_run_job CHECK (job IN ('bill_direct', 'announce_price', 'close_year', 'preview_price')),
	CONSTRAINT settlement_run_status CHECK (status IN ('running', 'succeeded', 'failed', 'refused'))
);
CREATE INDEX settlement_run_job_idx ON @extschema@.settlement_run (job, period);
COMMENT ON TABLE @extschema@.settlement_run IS
	'Log of settlement runs (kørselslog) started through run_settlement(), e.g. by pg_cron: what, for which period, when, outcome, rows posted';
COMMENT ON COLUMN @extschema@.settlement_run.run_id IS 'Run number';
COMMENT ON COLUMN @extschema@.settlement_run.job IS 'bill_direct, announce_price, close_year or preview_price';
COMMENT ON COLUMN @extschema@.settlement_run.period IS 'Month (bill_direct) or first day of the year settled';
COMMENT ON COLUMN @extschema@.settlement_run.started_at IS 'When the run started';
COMMENT ON COLUMN @extschema@.settlement_run.finished_at IS 'When the run ended';
COMMENT ON COLUMN @extschema@.settlement_run.status IS 'running, succeeded, failed, or refused (the same settlement was already running)';
COMMENT ON COLUMN @extschema@.settlement_run.rows_posted IS 'Ledger lines posted by the run';
COMMENT ON COLUMN @extschema@.settlement_run.result IS 'Price, difference or preview the run returned';
COMMENT ON COLUMN @extschema@.settlement_run.error_message IS 'Error of a failed or refused run';
COMMENT ON COLUMN @extschema@.settlement_run.run_by IS 'Role that started the run';

CREATE FUNCTION @extschema@.run_settlement(p_job text, p_period date)
RETURNS @extschema@.settlement_run
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	run @extschema@.settlement_run;
	y integer := extract(year FROM p_period)::integer;
	msg text;
	state text;
	before integer;
BEGIN
	IF p_job IS NULL OR p_job NOT IN ('bill_direct', 'announce_price', 'close_year', 'preview_price') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('unknown settlement job %s', coalesce(p_job, 'null')),
			HINT = 'Use bill_direct, announce_price, close_year or preview_price.';
	END IF;
	IF p_period IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'settlement period must not be null';
	END IF;

	INSERT INTO @extschema@.settlement_run (job, period, run_by)
	VALUES (p_job, p_period, session_user) RETURNING * INTO run;

	/* the same settlement twice at once: the second is refused, not queued */
	IF NOT pg_try_advisory_xact_lock(hashtext('afregning.run_settlement'),
									 hashtext(p_job || ':' || p_period)) THEN
		UPDATE @extschema@.settlement_run r
		   SET status = 'refused', finished_at = clock_timestamp(),
			   error_message = format('%s for %s is already running', p_job, p_period)
		 WHERE r.run_id = run.run_id RETURNING * INTO run;
		RAISE WARNING '%', run.error_message;
		RETURN run;
	END IF;

	BEGIN
		CASE p_job
			WHEN 'bill_direct' THEN
				SELECT count(*), sum(b.amount)::text INTO run.rows_posted, run.result
				  FROM @extschema@.bill_direct(p_period) b;
			WHEN 'announce_price' THEN
				/* what this run posted: a repeated announcement posts nothing */
				before := (SELECT count(*) FROM @extschema@.buffet_invoice i WHERE i.year = y);
				run.result := @extschema@.announce_price(y)::text;
				run.rows_posted := (SELECT count(*) FROM @extschema@.buffet_invoice i WHERE i.year = y) - before;
			WHEN 'close_year' THEN
				before := (SELECT count(*) FROM @extschema@.usage_line u WHERE u.year = y);
				run.result := @extschema@.close_year(y)::text;
				run.rows_posted := (SELECT count(*) FROM @extschema@.usage_line u WHERE u.year = y) - before;
			WHEN 'preview_price' THEN
				run.result := (SELECT pv::text FROM @extschema@.preview_price(y) pv);
				run.rows_posted := 0;
		END CASE;
		run.status := 'succeeded';
	EXCEPTION WHEN OTHERS THEN
		/* keep the log row: the failed settlement itself is rolled back */
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
		run.status := 'failed';
		run.error_message := state || ': ' || msg;
		run.rows_posted := 0;
	END;
	UPDATE @extschema@.settlement_run r
	   SET status = run.status, finished_at = clock_timestamp(),
		   rows_posted = run.rows_posted, result = run.result,
		   error_message = run.error_message
	 WHERE r.run_id = run.run_id RETURNING * INTO run;
	IF run.status = 'failed' THEN
		RAISE WARNING 'settlement % for % failed: %', p_job, p_period, run.error_message;
	END IF;
	RETURN run;
END
$$;
COMMENT ON FUNCTION @extschema@.run_settlement(text, date) IS
	'Runs one settlement (bill_direct of a month, or announce/close/preview of the year of p_period) and logs it in settlement_run; a concurrent run of the same job and period is refused and logged; a failure is logged and rolled back';

CREATE FUNCTION @extschema@.schedule_jobs()
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	j record;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'pg_cron is not installed in this database',
			DETAIL = 'The standard settlement jobs are pg_cron jobs.',
			HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database and run CREATE EXTENSION pg_cron; or run afregning.run_settlement() from another scheduler.';
	END IF;
	/* pg_cron runs in GMT: every command computes its period explicitly in UTC */
	FOR j IN SELECT * FROM (VALUES
		('afregning-bill-direct',
		 '0 3 2 * *',
		 'SELECT afregning.run_settlement(''bill_direct'', (date_trunc(''month'', now() AT TIME ZONE ''UTC'') - interval ''1 month'')::date)'),
		('afregning-preview-next-year',
		 '0 4 1 3 *',
		 'SELECT afregning.run_settlement(''preview_price'', make_date(extract(year FROM now() AT TIME ZONE ''UTC'')::integer + 1, 1, 1))')
		) AS v(n, s, c)
	LOOP
		/* a job of the same name is updated in place, so this is idempotent */
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' USING j.n, j.s, j.c;
		job_name := j.n; schedule := j.s; command := j.c;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.schedule_jobs() IS
	'Registers the standard pg_cron jobs under stable names (idempotent): direct billing of the previous month on the 2nd at 03:00 GMT, and a preview of next year''s price on 1 March (before the spring announcement); refuses with 55000 when pg_cron is missing';

/* ------------------------------------------------------------------
 * Security (SPEC §7): roles, row-level security, privileges
 *
 * Three NOLOGIN group roles; people log in as their own roles and are
 * granted membership. Roles are cluster-wide, so a second database that
 * installs the extension reuses them.
 * ------------------------------------------------------------------ */

DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['afregning_admin', 'afregning_reader', 'afregning_municipality']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
					  WHERE rolname = r AND (rolsuper OR rolbypassrls)) THEN
			/* a pre-made role that bypasses RLS would defeat the policies below */
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_role_specification',
				MESSAGE = format('role %s exists with SUPERUSER or BYPASSRLS', r),
				HINT = 'Drop or alter the role before installing afregning.';
		END IF;
	END LOOP;
END
$$;

CREATE TABLE @extschema@.municipality_role (
	role_name			text NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	CONSTRAINT municipality_role_pkey PRIMARY KEY (role_name, municipality_code),
	CONSTRAINT municipality_role_municipality_fkey FOREIGN KEY (municipality_code)
		REFERENCES @extschema@.municipality (code)
);
COMMENT ON TABLE @extschema@.municipality_role IS
	'Which database role reads which municipality''s rows (kommunens adgang): members of role_name see municipality_code through row-level security';
COMMENT ON COLUMN @extschema@.municipality_role.role_name IS
	'Database role; every member of it (directly or indirectly) gets access';
COMMENT ON COLUMN @extschema@.municipality_role.municipality_code IS 'Municipality the role may read';

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
	@extschema@.usage_row_valid(date, text, text, text, text)
	TO afregning_admin;

/* ------------------------------------------------------------------
 * Dump registration: user data survives pg_dump / pg_restore
 * ------------------------------------------------------------------ */

SELECT pg_catalog.pg_extension_config_dump('@extschema@.municipality', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.billing_year', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.population', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consumer_system', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.service', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.service_order', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tariff', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.baseline', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cost_entry', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.usage_batch', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.price_announcement', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.buffet_invoice', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.installment', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.year_close', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.usage_line', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.direct_charge_line', '');
/* the seeded infrastructure schedule comes back with CREATE EXTENSION */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.charge_schedule',
	$$WHERE (schedule_code, valid_from_year) <> ('infrastructure', 2020)$$);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.schedule_charge', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cost_line', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.municipality_role', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.settlement_run', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.settlement_run_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.direct_charge_line_line_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.carry_posting', '');
