
/* ------------------------------------------------------------------
 * Tables: reference data and input ledgers
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.municipality (
	code		text COLLATE "C" NOT NULL,
	name		text NOT NULL,
	region		text NOT NULL,
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
	class		text NOT NULL,
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
	platform	text NOT NULL,
	funding		text NOT NULL,			/* DEFAULT 'ordered', set in 11_labels.sql */
	billing		text NOT NULL,			/* DEFAULT 'pool', set in 11_labels.sql */
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
	cost_type		text NOT NULL,
	basis			text NOT NULL,
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
	CONSTRAINT cost_entry_corrects_other CHECK (corrects IS DISTINCT FROM entry_key)
	/* the checks on cost_type and basis are added with their domains (11_labels.sql) */
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
