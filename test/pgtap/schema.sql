/*
 * The data model contract (SPEC §6) and every constraint of the input
 * tables: names, columns, money types, enum labels, comments, and for every
 * CHECK / NOT NULL / UNIQUE / PRIMARY KEY / FOREIGN KEY a bad row that is
 * refused with its SQLSTATE, followed by a check that nothing was written.
 */
BEGIN;
SELECT plan(222);
SET LOCAL search_path = afregning, public;

/* ------------------------------------------------------------------
 * Tables, views and functions of the contract
 * ------------------------------------------------------------------ */

SELECT has_schema('afregning');

/*
 * Names and columns are asserted here only (signatures, labels and view types
 * in interface.sql). The lists are complete, so any name added or dropped is
 * a visible change; SPEC §6 names come first, columns in catalog order.
 */

/* tables_are counts the partitioned usage, and its per-year partitions too:
 * those are storage made with each billing year, not names of the contract */
SELECT tables_are('afregning', ARRAY[
	/* SPEC §6 */
	'municipality', 'population', 'consumer_system', 'service', 'service_order', 'tariff',
	'baseline', 'billing_year', 'cost_entry', 'usage',
	/* ledgers and bookkeeping */
	'approval', 'buffet_invoice', 'carry_posting', 'charge_schedule', 'cost_line',
	'direct_charge_line', 'direct_posting', 'installment', 'ledger_link', 'municipality_role',
	'price_announcement', 'schedule_charge', 'settlement_run', 'usage_batch', 'usage_line', 'usage_summary',
	'year_close'
]::name[] || ARRAY(SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
				  WHERE i.inhparent = 'afregning.usage'::regclass),
	'the tables of schema afregning');

SELECT views_are('afregning', ARRAY[
	/* SPEC §6 */
	'buffet_price', 'municipality_invoice', 'cost_breakdown', 'carry_forward',
	'per_call_recovery', 'price_waterfall', 'usage_month', 'invoice_preview',
	'settlement_status', 'municipality_benchmark', 'direct_charge',
	/* further reports */
	'approval_log', 'cost_allocation', 'cost_type_comparison', 'cpr_intensity',
	'open_carry_forward', 'price_history', 'routed_cost', 'system_charge'
], 'the views of schema afregning');

SELECT functions_are('afregning', ARRAY[
	/* SPEC §6 */
	'preview_price', 'announce_price', 'close_year', 'bill_direct', 'explain_price',
	'apportion', 'schedule_jobs',
	/* helpers, triggers, aggregate support, steps */
	'baseline_applies', 'benchmark_national', 'bind_municipality_role', 'chained_ledgers',
	'charge_schedule_seed', 'create_usage_partition', 'create_usage_period_index',
	'create_usage_period_index_trigger', 'drop_allowed', 'finish_direct_step',
	'fixed_cost_lines', 'forecast_price', 'graduated_charge', 'guard_billing_year',
	'guard_charge_schedule_seed', 'guard_cost_entry', 'guard_ddl_start',
	'guard_dropped_objects', 'guard_tariff', 'guard_truncate_locked', 'guard_usage_batch',
	'guard_usage_reference', 'guard_usage_reference_current', 'guard_usage_routing',
	'guard_year_rows', 'invoking_user', 'ledger_chain', 'ledger_chain_step',
	'ledger_link_pending', 'ledger_link_row', 'ledger_row_digest', 'ledger_row_key',
	'label_valid', 'labels', 'ledgers_hold_data', 'live_phase', 'lock_carry_target', 'lock_direct_months', 'lock_year',
	'log_step_end', 'log_step_failed', 'log_step_start', 'month_tariff', 'my_municipalities',
	'number_buffet_invoice', 'outer_role', 'per_call_charged', 'per_call_lines',
	'per_citizen_price', 'post_direct', 'post_schedule_charges', 'progress_begin',
	'progress_end', 'progress_phase', 'rate', 'rate_accum', 'rate_combine', 'rate_deserialize',
	'rate_final', 'rate_serialize', 'rated_cells', 'rated_usage', 'record_approval',
	'refuse_ledger_change', 'refuse_ledger_link_insert', 'refuse_locked_year',
	'refuse_missing_tariff', 'refuse_stale_snapshot', 'relation_snapshot_current',
	'report_phase', 'reraise', 'restoring', 'route_costs', 'run_settlement',
	'run_settlement_step', 'run_step', 'set_year_status', 'settle', 'settlement_jobs', 'settlement_runs',
	'status_change_allowed', 'tariff_effective_month', 'try_step_lock', 'usage_group_rows',
	'usage_groups', 'usage_groups_accum', 'usage_groups_combine', 'usage_groups_deserialize',
	'usage_groups_merge', 'usage_groups_merge_accum', 'usage_groups_serialize', 'usage_pair',
	'usage_partition', 'usage_reference_unseen', 'usage_route', 'usage_row_valid', 'usage_summary_apply', 'usage_summary_pending', 'usage_summary_reset',
	'verify_ledger', 'waterfall_text', 'what_if_price', 'year_status', 'year_status_for_write'
], 'the functions of schema afregning');

SELECT columns_are('afregning', 'municipality', ARRAY['code', 'name', 'region'],
	'table municipality');
SELECT columns_are('afregning', 'population', ARRAY['year', 'municipality_code', 'citizens'],
	'table population');
SELECT columns_are('afregning', 'consumer_system', ARRAY['code', 'name', 'class'],
	'table consumer_system');
SELECT columns_are('afregning', 'service', ARRAY['code', 'name', 'platform', 'funding', 'billing'],
	'table service');
SELECT columns_are('afregning', 'service_order', ARRAY['service_code', 'system_code', 'share'],
	'table service_order');
SELECT columns_are('afregning', 'tariff', ARRAY['service_code', 'valid_from', 'unit_price'],
	'table tariff');
SELECT columns_are('afregning', 'baseline', ARRAY['year', 'system_code', 'service_code', 'calls'],
	'table baseline');
SELECT columns_are('afregning', 'billing_year',
	ARRAY['year', 'status', 'carry_lag', 'price_decimals', 'carry_spread', 'announced_at',
		  'closed_at'],
	'table billing_year');
SELECT columns_are('afregning', 'cost_entry',
	ARRAY['entry_key', 'year', 'cost_type', 'basis', 'service_code', 'system_code', 'amount',
		  'corrects', 'note', 'recorded_at'],
	'table cost_entry');
SELECT columns_are('afregning', 'usage',
	ARRAY['period', 'municipality_code', 'system_code', 'service_code', 'calls', 'batch_key'],
	'table usage');
SELECT columns_are('afregning', 'approval',
	ARRAY['year', 'step', 'session_user_name', 'current_user_name', 'approved_at', 'waterfall',
		  'waterfall_sha256'],
	'table approval');
SELECT columns_are('afregning', 'buffet_invoice',
	ARRAY['year', 'municipality_code', 'citizens', 'price', 'amount', 'invoice_number'],
	'table buffet_invoice');
SELECT columns_are('afregning', 'carry_posting', ARRAY['from_year', 'to_year', 'amount'],
	'table carry_posting');
SELECT columns_are('afregning', 'charge_schedule',
	ARRAY['schedule_code', 'valid_from_year', 'from_citizens', 'rate', 'seeded'],
	'table charge_schedule');
SELECT columns_are('afregning', 'cost_line',
	ARRAY['entry_key', 'year', 'cost_type', 'basis', 'route', 'payer_code', 'amount', 'fixed_at',
		  'line_id'],
	'table cost_line');
SELECT columns_are('afregning', 'direct_charge_line',
	ARRAY['line_id', 'month', 'municipality_code', 'service_code', 'unit_price', 'calls', 'amount',
		  'kind', 'posted_at'],
	'table direct_charge_line');
SELECT columns_are('afregning', 'direct_posting', ARRAY['month', 'postings', 'last_posted_at'],
	'table direct_posting');
SELECT columns_are('afregning', 'installment',
	ARRAY['year', 'municipality_code', 'quarter', 'due_date', 'amount'],
	'table installment');
SELECT columns_are('afregning', 'ledger_link',
	ARRAY['link_id', 'ledger', 'row_key', 'row_digest', 'chain'],
	'table ledger_link');
SELECT columns_are('afregning', 'municipality_role',
	ARRAY['role_name', 'municipality_code', 'role_oid'],
	'table municipality_role');
SELECT columns_are('afregning', 'price_announcement',
	ARRAY['year', 'expected_pool', 'carry_in', 'pool', 'citizens', 'price', 'announced_at'],
	'table price_announcement');
SELECT columns_are('afregning', 'schedule_charge',
	ARRAY['year', 'municipality_code', 'schedule_code', 'citizens', 'amount'],
	'table schedule_charge');
SELECT columns_are('afregning', 'settlement_run',
	ARRAY['run_id', 'job', 'period', 'started_at', 'finished_at', 'status', 'rows_posted', 'result',
		  'error_message', 'run_by', 'sqlstate', 'detail', 'hint', 'phase', 'backend_pid',
		  'session_role', 'acting_role', 'entry'],
	'table settlement_run');
SELECT columns_are('afregning', 'usage_batch', ARRAY['batch_key', 'loaded_at', 'note'],
	'table usage_batch');
SELECT columns_are('afregning', 'usage_summary',
	ARRAY['period', 'municipality_code', 'system_code', 'service_code', 'calls', 'usage_rows'],
	'table usage_summary');
SELECT columns_are('afregning', 'usage_line',
	ARRAY['year', 'route', 'payer_code', 'service_code', 'period', 'tariff_from', 'unit_price',
		  'calls', 'amount', 'line_id'],
	'table usage_line');
SELECT columns_are('afregning', 'year_close',
	ARRAY['year', 'actual_pool', 'carry_in', 'billed', 'difference', 'to_year', 'closed_at'],
	'table year_close');

SELECT columns_are('afregning', 'buffet_price',
	ARRAY['year', 'status', 'expected_pool', 'carry_in', 'pool', 'citizens', 'price',
		  'announced_at'],
	'view buffet_price');
SELECT columns_are('afregning', 'municipality_invoice',
	ARRAY['year', 'municipality_code', 'municipality_name', 'citizens', 'buffet_amount',
		  'direct_amount', 'infrastructure_amount', 'total'],
	'view municipality_invoice');
SELECT columns_are('afregning', 'cost_breakdown',
	ARRAY['year', 'cost_type', 'basis', 'route', 'amount'],
	'view cost_breakdown');
SELECT columns_are('afregning', 'carry_forward',
	ARRAY['from_year', 'to_year', 'actual_pool', 'carry_in', 'billed', 'difference', 'posted',
		  'closed_at'],
	'view carry_forward');
SELECT columns_are('afregning', 'per_call_recovery',
	ARRAY['year', 'service_code', 'expected_cost', 'cost', 'calls', 'charged', 'difference'],
	'view per_call_recovery');
SELECT columns_are('afregning', 'price_waterfall',
	ARRAY['year', 'line', 'item', 'amount', 'citizens', 'unrounded'],
	'view price_waterfall');
SELECT columns_are('afregning', 'usage_month',
	ARRAY['year', 'month', 'municipality_code', 'system_code', 'service_code', 'calls',
		  'unit_price', 'amount'],
	'view usage_month');
SELECT columns_are('afregning', 'invoice_preview',
	ARRAY['year', 'municipality_code', 'municipality_name', 'citizens', 'price', 'buffet_amount',
		  'direct_amount', 'infrastructure_amount', 'total'],
	'view invoice_preview');
SELECT columns_are('afregning', 'settlement_status',
	ARRAY['run_id', 'job', 'period', 'who', 'session_role', 'started', 'finished', 'state',
		  'sqlstate', 'message', 'detail', 'hint', 'phase', 'rows_posted', 'result', 'entry'],
	'view settlement_status');
SELECT columns_are('afregning', 'municipality_benchmark',
	ARRAY['year', 'municipality_code', 'municipality_name', 'citizens', 'calls', 'direct_amount',
		  'calls_per_1000_citizens', 'direct_per_1000_citizens', 'municipalities', 'calls_rank',
		  'direct_rank', 'calls_per_1000_q1', 'calls_per_1000_median', 'calls_per_1000_q3',
		  'calls_per_1000_mean', 'direct_per_1000_q1', 'direct_per_1000_median',
		  'direct_per_1000_q3', 'direct_per_1000_mean'],
	'view municipality_benchmark');
SELECT columns_are('afregning', 'direct_charge',
	ARRAY['month', 'payer_kind', 'payer_code', 'service_code', 'calls', 'amount'],
	'view direct_charge');
SELECT columns_are('afregning', 'approval_log',
	ARRAY['year', 'step', 'session_user_name', 'current_user_name', 'approved_at',
		  'waterfall_sha256'],
	'view approval_log');
SELECT columns_are('afregning', 'cost_allocation',
	ARRAY['entry_key', 'year', 'cost_type', 'basis', 'route', 'payer_code', 'amount'],
	'view cost_allocation');
SELECT columns_are('afregning', 'cost_type_comparison',
	ARRAY['year', 'cost_type', 'route', 'expected', 'actual', 'difference'],
	'view cost_type_comparison');
SELECT columns_are('afregning', 'cpr_intensity',
	ARRAY['year', 'municipality_code', 'municipality_name', 'citizens', 'calls',
		  'calls_per_1000_citizens', 'amount'],
	'view cpr_intensity');
SELECT columns_are('afregning', 'open_carry_forward',
	ARRAY['from_year', 'to_year', 'difference', 'to_year_status'],
	'view open_carry_forward');
SELECT columns_are('afregning', 'price_history',
	ARRAY['year', 'status', 'price', 'previous_price', 'change', 'change_percent'],
	'view price_history');
SELECT columns_are('afregning', 'routed_cost',
	ARRAY['year', 'cost_type', 'basis', 'route', 'payer_code', 'calls', 'amount'],
	'view routed_cost');
SELECT columns_are('afregning', 'system_charge',
	ARRAY['year', 'system_code', 'system_name', 'system_class', 'cost_type', 'basis', 'calls',
		  'amount'],
	'view system_charge');
SELECT is((SELECT p.prokind FROM pg_proc p
			WHERE p.oid = 'afregning.apportion(numeric,numeric)'::regprocedure),
		  'w'::"char", 'apportion is a window function');
SELECT is((SELECT array_agg(o.name ORDER BY o.n)
			 FROM pg_proc p, unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS o(name, mode, n)
			WHERE p.oid = 'afregning.preview_price(integer)'::regprocedure AND o.mode = 'o'),
		  ARRAY['year', 'expected_pool', 'carry_in', 'pool', 'citizens', 'price']::text[],
		  'preview_price returns year, expected_pool, carry_in, pool, citizens, price');

/* ------------------------------------------------------------------
 * Column types: codes, counts and money
 * ------------------------------------------------------------------ */

SELECT col_type_is('afregning', 'municipality', 'code', 'text', 'municipality.code is text');
SELECT col_type_is('afregning', 'municipality', 'region', 'afregning', 'region', 'municipality.region is a region');
SELECT col_type_is('afregning', 'population', 'year', 'integer', 'population.year is integer');
SELECT col_type_is('afregning', 'population', 'citizens', 'integer', 'population.citizens is integer');
SELECT col_type_is('afregning', 'consumer_system', 'class', 'afregning', 'system_class',
	'consumer_system.class is a system_class');
SELECT col_type_is('afregning', 'service', 'platform', 'afregning', 'platform', 'service.platform is a platform');
SELECT col_type_is('afregning', 'service', 'funding', 'afregning', 'funding', 'service.funding is a funding');
SELECT col_type_is('afregning', 'service', 'billing', 'afregning', 'billing_method',
	'service.billing is a billing_method');
SELECT col_type_is('afregning', 'service_order', 'share', 'numeric', 'service_order.share is numeric');
SELECT col_type_is('afregning', 'tariff', 'valid_from', 'date', 'tariff.valid_from is a date');
/* plain numeric with CHECKs: a typmod would round extra decimals away before any CHECK (input_checks.sql) */
SELECT col_type_is('afregning', 'tariff', 'unit_price', 'numeric', 'tariff.unit_price is numeric, checked to 4 decimals');
SELECT col_type_is('afregning', 'baseline', 'calls', 'bigint', 'baseline.calls is bigint');
SELECT col_type_is('afregning', 'billing_year', 'status', 'afregning', 'year_status',
	'billing_year.status is a year_status');
SELECT col_type_is('afregning', 'billing_year', 'announced_at', 'timestamp with time zone',
	'billing_year.announced_at is timestamptz');
SELECT col_type_is('afregning', 'cost_entry', 'cost_type', 'afregning', 'cost_type',
	'cost_entry.cost_type is a cost_type');
SELECT col_type_is('afregning', 'cost_entry', 'basis', 'afregning', 'cost_basis',
	'cost_entry.basis is a cost_basis');
SELECT col_type_is('afregning', 'cost_entry', 'amount', 'numeric', 'cost_entry.amount is numeric, checked to øre');
SELECT col_type_is('afregning', 'usage', 'period', 'date', 'usage.period is a date');
SELECT col_type_is('afregning', 'usage', 'calls', 'bigint', 'usage.calls is bigint');
SELECT col_type_is('afregning', t, c, 'numeric(14,2)', format('%s.%s is numeric(14,2)', t, c))
  FROM (VALUES ('price_announcement', 'expected_pool'), ('price_announcement', 'carry_in'),
			   ('price_announcement', 'pool'), ('buffet_invoice', 'amount'),
			   ('installment', 'amount'), ('year_close', 'actual_pool'),
			   ('year_close', 'carry_in'), ('year_close', 'billed'),
			   ('year_close', 'difference'), ('usage_line', 'amount'),
			   ('direct_charge_line', 'amount'), ('schedule_charge', 'amount'),
			   ('cost_line', 'amount')) AS m(t, c);
SELECT col_type_is('afregning', t, c, 'numeric(12,4)', format('%s.%s is numeric(12,4)', t, c))
  FROM (VALUES ('usage_line', 'unit_price'), ('direct_charge_line', 'unit_price')) AS m(t, c);
SELECT col_type_is('afregning', t, 'price', 'numeric(12,2)', format('%s.price is numeric(12,2)', t))
  FROM unnest(ARRAY['price_announcement', 'buffet_invoice']) AS t;

/* ------------------------------------------------------------------
 * Value lists: exactly the labels of the spec, in this order; the input
 * tables' lists are domains over text (their typos are refused with the
 * list, test/pgtap/input_checks.sql), the rest enums
 * ------------------------------------------------------------------ */

SELECT is(labels('region'),
	ARRAY['Hovedstaden', 'Sjælland', 'Syddanmark', 'Midtjylland', 'Nordjylland'], 'region labels');
SELECT is(labels('system_class'),
	ARRAY['municipal', 'monopoly_break', 'udk', 'own_billing', 'kombit_project'], 'system_class labels');
SELECT is(labels('platform'), ARRAY['serviceplatform', 'support_system'], 'platform labels');
SELECT is(labels('funding'), ARRAY['ordered', 'development_pool'], 'funding labels');
SELECT is(labels('billing_method'), ARRAY['pool', 'per_call'], 'billing_method labels');
SELECT is(labels('cost_type'),
	ARRAY['establishment', 'infrastructure_establishment', 'operations', 'support_admin',
		  'data_consumption', 'dissemination', 'development_pool'], 'cost_type labels');
SELECT is(labels('cost_basis'), ARRAY['expected', 'actual'], 'cost_basis labels');
SELECT is((SELECT string_agg(t.typname || ':' || format_type(t.typbasetype, NULL) || ':'
							 || pg_get_constraintdef(c.oid), ', ' ORDER BY t.typname)
			 FROM pg_type t JOIN pg_constraint c ON c.contypid = t.oid
			WHERE t.typnamespace = 'afregning'::regnamespace AND t.typtype = 'd'),
	'billing_method:text:CHECK (label_valid(''billing_method''::text, VALUE)), '
	|| 'cost_basis:text:CHECK (label_valid(''cost_basis''::text, VALUE)), '
	|| 'cost_type:text:CHECK (label_valid(''cost_type''::text, VALUE)), '
	|| 'funding:text:CHECK (label_valid(''funding''::text, VALUE)), '
	|| 'platform:text:CHECK (label_valid(''platform''::text, VALUE)), '
	|| 'region:text:CHECK (label_valid(''region''::text, VALUE)), '
	|| 'system_class:text:CHECK (label_valid(''system_class''::text, VALUE))',
	'the seven value lists of the input tables are domains over text checked by label_valid()');
SELECT enum_has_labels('afregning', 'year_status', ARRAY['open', 'announced', 'closed'], 'year_status labels');
SELECT enum_has_labels('afregning', 'route', ARRAY['pool', 'system', 'municipality', 'per_call'], 'route labels');

/* ------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------ */

SELECT col_is_pk('afregning', 'municipality', ARRAY['code'], 'municipality key: code');
SELECT col_is_pk('afregning', 'population', ARRAY['year', 'municipality_code'], 'population key: year, municipality');
SELECT col_is_pk('afregning', 'consumer_system', ARRAY['code'], 'consumer_system key: code');
SELECT col_is_pk('afregning', 'service', ARRAY['code'], 'service key: code');
SELECT col_is_pk('afregning', 'service_order', ARRAY['service_code', 'system_code'], 'service_order key');
SELECT col_is_pk('afregning', 'tariff', ARRAY['service_code', 'valid_from'], 'tariff key');
SELECT col_is_pk('afregning', 'baseline', ARRAY['year', 'system_code', 'service_code'], 'baseline key');
SELECT col_is_pk('afregning', 'billing_year', ARRAY['year'], 'billing_year key: year');
SELECT col_is_pk('afregning', 'cost_entry', ARRAY['entry_key'], 'cost_entry key: entry_key');
SELECT col_is_pk('afregning', 'usage_batch', ARRAY['batch_key'], 'usage_batch key: batch_key');

/* ------------------------------------------------------------------
 * Documentation: every table, view, column, function and enum of the
 * schema has a comment. Usage partitions, created per billing year,
 * are the parent table's storage and are left out.
 * ------------------------------------------------------------------ */

SELECT is_empty($$
	SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'afregning' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	   AND NOT c.relispartition
	   AND coalesce(btrim(obj_description(c.oid, 'pg_class')), '') = ''
$$, 'every table and view of schema afregning has a comment');
SELECT is_empty($$
	SELECT c.relname, a.attname
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	 WHERE n.nspname = 'afregning' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	   AND NOT c.relispartition
	   AND coalesce(btrim(col_description(c.oid, a.attnum)), '') = ''
$$, 'every column of every table and view of schema afregning has a comment');
SELECT is_empty($$
	SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	 WHERE n.nspname = 'afregning'
	   AND coalesce(btrim(obj_description(p.oid, 'pg_proc')), '') = ''
$$, 'every function and aggregate of schema afregning has a comment');
SELECT is_empty($$
	SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
	 WHERE n.nspname = 'afregning' AND t.typtype IN ('e', 'd')
	   AND coalesce(btrim(obj_description(t.oid, 'pg_type')), '') = ''
$$, 'every enum and domain of schema afregning has a comment');
/* the check above must see the objects it claims to check */
SELECT cmp_ok((SELECT count(*)::integer FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'afregning' AND c.relkind IN ('r', 'p', 'v')), '>=', 16,
	'the comment checks cover at least the 11 input tables and 5 views');

/* ------------------------------------------------------------------
 * Fixture: three municipalities, one open year, a few systems/services
 * ------------------------------------------------------------------ */

INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'),
	('147', 'Frederiksberg', 'Hovedstaden'),
	('151', 'Ballerup', 'Hovedstaden');
INSERT INTO billing_year (year) VALUES (2021);
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2021, '101', 638117), (2021, '147', 104305), (2021, '151', 48617);
INSERT INTO consumer_system (code, name, class) VALUES
	('KY', 'Kommunernes Ydelsessystem', 'monopoly_break'),
	('UDK-PENSION', 'Pension', 'udk'),
	('ESDH', 'Kommunalt ESDH', 'municipal');
INSERT INTO service (code, name, platform, funding, billing) VALUES
	('CPR', 'CPR-servicen', 'serviceplatform', 'ordered', 'per_call'),
	('ADR', 'Adresseservice', 'support_system', 'ordered', 'pool'),
	('NYSVC', 'Ny service uden bestillere', 'serviceplatform', 'ordered', 'pool');
INSERT INTO service_order (service_code, system_code, share) VALUES ('ADR', 'KY', 1);
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES ('CPR', '2021-01-01', 0.2500);
INSERT INTO baseline (year, system_code, service_code, calls) VALUES (2021, 'KY', 'ADR', 1000);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('E1', 2021, 'support_admin', 'expected', 100000.00);
INSERT INTO usage_batch (batch_key) VALUES ('B1');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'ESDH', 'CPR', 10, 'B1');

SELECT is((SELECT status FROM billing_year WHERE year = 2021), 'open'::year_status,
	'a new billing year starts open');
SELECT is((SELECT (carry_lag, price_decimals)::text FROM billing_year WHERE year = 2021), '(2,2)',
	'carry_lag defaults to 2, price_decimals to 2');
SELECT is((SELECT string_agg(pg_get_expr(c.relpartbound, c.oid), '; ') FROM pg_inherits i
			  JOIN pg_class c ON c.oid = i.inhrelid
			 WHERE i.inhparent = 'afregning.usage'::regclass),
	$$FOR VALUES FROM ('2021-01-01') TO ('2022-01-01')$$,
	'inserting billing year 2021 created its usage partition, 2021-01-01 to 2022-01-01');
SELECT is((SELECT (funding, billing)::text FROM service WHERE code = 'NYSVC'), '(ordered,pool)',
	'service funding and billing as given');

/* ------------------------------------------------------------------
 * municipality
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO municipality VALUES ('1', 'Et', 'Hovedstaden')$$, '23514', NULL,
	'municipality code of one digit is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('1011', 'Fire', 'Hovedstaden')$$, '23514', NULL,
	'municipality code of four digits is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('abc', 'Bogstaver', 'Hovedstaden')$$, '23514', NULL,
	'municipality code of letters is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('1 1', 'Mellemrum', 'Hovedstaden')$$, '23514', NULL,
	'municipality code with a blank is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('153', 'København', 'Hovedstaden')$$, '23505', NULL,
	'duplicate municipality name is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('101', 'Anden', 'Hovedstaden')$$, '23505', NULL,
	'duplicate municipality code is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('153', NULL, 'Hovedstaden')$$, '23502', NULL,
	'municipality without a name is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('153', '  ', 'Hovedstaden')$$, '23514', NULL,
	'municipality with a blank name is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES (NULL, 'Ingen kode', 'Hovedstaden')$$, '23502', NULL,
	'municipality without a code is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('153', 'Brøndby', NULL)$$, '23502', NULL,
	'municipality without a region is refused');
SELECT throws_ok($$INSERT INTO municipality VALUES ('153', 'Brøndby', 'Bornholm')$$, '22P02', NULL,
	'municipality with an unknown region label is refused');
SELECT results_eq($$SELECT code, name FROM municipality ORDER BY code$$,
	$$VALUES ('101'::text COLLATE "C", 'København'::text), ('147', 'Frederiksberg'), ('151', 'Ballerup')$$,
	'no municipality was written or changed by the refused rows');

/* ------------------------------------------------------------------
 * billing_year
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO billing_year (year, carry_lag) VALUES (2022, 0)$$, '23514', NULL,
	'carry_lag 0 is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, carry_lag) VALUES (2022, 11)$$, '23514', NULL,
	'carry_lag 11 is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, price_decimals) VALUES (2022, 3)$$, '23514', NULL,
	'price_decimals 3 is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, price_decimals) VALUES (2022, -1)$$, '23514', NULL,
	'price_decimals -1 is refused');
SELECT throws_ok($$INSERT INTO billing_year (year) VALUES (1999)$$, '23514', NULL,
	'year 1999 is refused');
SELECT throws_ok($$INSERT INTO billing_year (year) VALUES (3000)$$, '23514', NULL,
	'year 3000 is refused');
SELECT throws_ok($$INSERT INTO billing_year (year) VALUES (2021)$$, '23505', NULL,
	'a second row for year 2021 is refused');
SELECT throws_ok($$INSERT INTO billing_year (year) VALUES (NULL)$$, '23502', NULL,
	'a billing year without a year is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, status) VALUES (2022, 'done')$$, '22P02', NULL,
	'an unknown status label is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, carry_lag) VALUES (2022, NULL)$$, '23502', NULL,
	'a null carry_lag is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, closed_at) VALUES (2022, now())$$, '23514', NULL,
	'closed_at on an open year is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, announced_at) VALUES (2022, now())$$, '23514', NULL,
	'announced_at on an open year is refused');
SELECT results_eq($$SELECT year, status::text, carry_lag, price_decimals FROM billing_year$$,
	$$VALUES (2021, 'open', 2, 2)$$,
	'no billing year was written by the refused rows');
SELECT is((SELECT count(*)::integer FROM pg_inherits i WHERE i.inhparent = 'afregning.usage'::regclass), 1,
	'no usage partition was left by the refused billing years (only 2021''s)');

/* ------------------------------------------------------------------
 * population
 * ------------------------------------------------------------------ */

INSERT INTO municipality (code, name, region) VALUES ('153', 'Brøndby', 'Hovedstaden');

SELECT throws_ok($$INSERT INTO population VALUES (2021, '153', 0)$$, '23514', NULL,
	'population of 0 citizens is refused');
SELECT throws_ok($$INSERT INTO population VALUES (2021, '153', -35000)$$, '23514', NULL,
	'negative population is refused');
SELECT throws_ok($$INSERT INTO population VALUES (2021, '153', NULL)$$, '23502', NULL,
	'population without citizens is refused');
SELECT throws_ok($$INSERT INTO population VALUES (2021, '999', 35000)$$, '23503', NULL,
	'population of an unknown municipality is refused');
SELECT throws_ok($$INSERT INTO population VALUES (2030, '153', 35000)$$, '23503', NULL,
	'population of a year without a billing_year row is refused');
SELECT throws_ok($$INSERT INTO population VALUES (2021, '101', 1)$$, '23505', NULL,
	'a second population row for 2021/101 is refused');
SELECT throws_ok($$INSERT INTO population VALUES (2021, '153', 3000000000)$$, '22003', NULL,
	'citizens beyond integer range are refused');
SELECT results_eq($$SELECT year, municipality_code, citizens FROM population ORDER BY 2$$,
	$$VALUES (2021, '101'::text COLLATE "C", 638117), (2021, '147', 104305), (2021, '151', 48617)$$,
	'no population row was written or changed by the refused rows');

/* ------------------------------------------------------------------
 * consumer_system and service
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO consumer_system VALUES ('KSD', 'KSD', 'monopolbrud')$$, '22P02', NULL,
	'an unknown system class label is refused');
SELECT throws_ok($$INSERT INTO consumer_system VALUES ('KSD', 'KSD', NULL)$$, '23502', NULL,
	'a system without a class is refused');
SELECT throws_ok($$INSERT INTO consumer_system VALUES ('KY', 'Igen', 'municipal')$$, '23505', NULL,
	'a duplicate system code is refused');
SELECT throws_ok($$INSERT INTO consumer_system VALUES ('K S D', 'KSD', 'monopoly_break')$$, '23514', NULL,
	'a system code with blanks is refused');
SELECT throws_ok($$INSERT INTO consumer_system VALUES ('KSD', '', 'monopoly_break')$$, '23514', NULL,
	'a system with a blank name is refused');
SELECT is((SELECT count(*)::integer FROM consumer_system), 3,
	'no consumer system was written by the refused rows');

SELECT throws_ok($$INSERT INTO service (code, name, platform) VALUES ('X', 'X', 'mainframe')$$, '22P02', NULL,
	'an unknown platform label is refused');
SELECT throws_ok($$INSERT INTO service (code, name, platform, funding) VALUES ('X', 'X', 'serviceplatform', 'gift')$$,
	'22P02', NULL, 'an unknown funding label is refused');
SELECT throws_ok($$INSERT INTO service (code, name, platform, billing) VALUES ('X', 'X', 'serviceplatform', 'flat')$$,
	'22P02', NULL, 'an unknown billing label is refused');
SELECT throws_ok($$INSERT INTO service (code, name, platform) VALUES ('X', 'X', NULL)$$, '23502', NULL,
	'a service without a platform is refused');
SELECT throws_ok($$INSERT INTO service (code, name, platform) VALUES ('CPR', 'Igen', 'serviceplatform')$$,
	'23505', NULL, 'a duplicate service code is refused');
SELECT throws_ok($$INSERT INTO service (code, name, platform) VALUES ('X Y', 'X', 'serviceplatform')$$,
	'23514', NULL, 'a service code with a blank is refused');
SELECT is((SELECT count(*)::integer FROM service), 3, 'no service was written by the refused rows');

/* ------------------------------------------------------------------
 * service_order
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO service_order VALUES ('ADR', 'UDK-PENSION', 0)$$, '23514', NULL,
	'an order share of 0 is refused');
SELECT throws_ok($$INSERT INTO service_order VALUES ('ADR', 'UDK-PENSION', -0.5)$$, '23514', NULL,
	'a negative order share is refused');
SELECT throws_ok($$INSERT INTO service_order VALUES ('ADR', 'UDK-PENSION', NULL)$$, '23502', NULL,
	'an order without a share is refused');
SELECT throws_ok($$INSERT INTO service_order VALUES ('NOPE', 'KY', 1)$$, '23503', NULL,
	'an order of an unknown service is refused');
SELECT throws_ok($$INSERT INTO service_order VALUES ('ADR', 'NOPE', 1)$$, '23503', NULL,
	'an order by an unknown system is refused');
SELECT throws_ok($$INSERT INTO service_order VALUES ('ADR', 'KY', 2)$$, '23505', NULL,
	'a second order of ADR by KY is refused');
SELECT results_eq($$SELECT service_code, system_code, share FROM service_order$$,
	$$VALUES ('ADR'::text COLLATE "C", 'KY'::text COLLATE "C", 1::numeric)$$,
	'no service order was written or changed by the refused rows');

/* ------------------------------------------------------------------
 * tariff
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO tariff VALUES ('CPR', '2021-07-01', -0.0001)$$, '23514', NULL,
	'a negative tariff is refused');
SELECT throws_ok($$INSERT INTO tariff VALUES ('CPR', '2021-07-01', NULL)$$, '23502', NULL,
	'a tariff without a price is refused');
SELECT throws_ok($$INSERT INTO tariff VALUES ('NOPE', '2021-07-01', 1)$$, '23503', NULL,
	'a tariff of an unknown service is refused');
SELECT throws_ok($$INSERT INTO tariff VALUES ('CPR', '2021-01-01', 0.30)$$, '23505', NULL,
	'a second tariff of CPR from the same day is refused');
SELECT throws_ok($$INSERT INTO tariff VALUES ('CPR', 'infinity', 0.30)$$, '23514', NULL,
	'a tariff valid from infinity is refused');
/* the range of numeric(12,4): at most 8 digits before the point */
SELECT throws_ok($$INSERT INTO tariff VALUES ('CPR', '2021-07-01', 100000000)$$, '23514', NULL,
	'a tariff of 100,000,000 kr (beyond numeric(12,4)) is refused');
SELECT results_eq($$SELECT service_code, valid_from, unit_price FROM tariff$$,
	$$VALUES ('CPR'::text COLLATE "C", '2021-01-01'::date, 0.2500::numeric)$$,
	'no tariff was written or changed by the refused rows');

/* ------------------------------------------------------------------
 * baseline
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO baseline VALUES (2021, 'KY', 'CPR', -1)$$, '23514', NULL,
	'negative baseline calls are refused');
SELECT throws_ok($$INSERT INTO baseline VALUES (2021, 'KY', 'CPR', NULL)$$, '23502', NULL,
	'a baseline without calls is refused');
SELECT throws_ok($$INSERT INTO baseline VALUES (2030, 'KY', 'CPR', 5)$$, '23503', NULL,
	'a baseline of a year without a billing_year row is refused');
SELECT throws_ok($$INSERT INTO baseline VALUES (2021, 'NOPE', 'CPR', 5)$$, '23503', NULL,
	'a baseline of an unknown system is refused');
SELECT throws_ok($$INSERT INTO baseline VALUES (2021, 'KY', 'NOPE', 5)$$, '23503', NULL,
	'a baseline of an unknown service is refused');
SELECT throws_ok($$INSERT INTO baseline VALUES (2021, 'KY', 'ADR', 5)$$, '23505', NULL,
	'a second baseline of 2021/KY/ADR is refused');
SELECT results_eq($$SELECT year, system_code, service_code, calls FROM baseline$$,
	$$VALUES (2021, 'KY'::text COLLATE "C", 'ADR'::text COLLATE "C", 1000::bigint)$$,
	'no baseline was written or changed by the refused rows');

/* ------------------------------------------------------------------
 * cost_entry
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E1', 2021, 'operations', 'actual', 5.00)$$, '23505', NULL,
	'a duplicate entry_key is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
				   VALUES ('E2', 2021, 'support_admin', 'expected', 5.00, 'E1')$$, '23514', NULL,
	'an expected entry with corrects is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
				   VALUES ('E2', 2021, 'support_admin', 'actual', 5.00, 'E2')$$, '23514', NULL,
	'an entry correcting itself is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
				   VALUES ('E2', 2021, 'support_admin', 'actual', 5.00, 'NOPE')$$, '23503', NULL,
	'an entry correcting an unknown entry is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E2', 2021, 'establishment', 'expected', 5.00)$$, '23514', NULL,
	'establishment with neither system nor service is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E2', 2021, 'infrastructure_establishment', 'expected', 5.00)$$, '23514', NULL,
	'infrastructure establishment with neither system nor service is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, service_code)
				   VALUES ('E2', 2021, 'establishment', 'expected', 5.00, 'NYSVC')$$, '23514', NULL,
	'establishment of a service without orderers and without a system is refused (trigger)');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E2', 2030, 'support_admin', 'expected', 5.00)$$, '23503', NULL,
	'an entry of a year without a billing_year row is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E2', 2021, 'coffee', 'expected', 5.00)$$, '22P02', NULL,
	'an unknown cost_type label is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E2', 2021, 'support_admin', 'budget', 5.00)$$, '22P02', NULL,
	'an unknown basis label is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E2', 2021, 'support_admin', 'expected', NULL)$$, '23502', NULL,
	'an entry without an amount is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES (NULL, 2021, 'support_admin', 'expected', 5.00)$$, '23502', NULL,
	'an entry without an entry_key is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES (' ', 2021, 'support_admin', 'expected', 5.00)$$, '23514', NULL,
	'a blank entry_key is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, service_code)
				   VALUES ('E2', 2021, 'operations', 'expected', 5.00, 'NOPE')$$, '23503', NULL,
	'an entry of an unknown service is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, system_code)
				   VALUES ('E2', 2021, 'dissemination', 'expected', 5.00, 'NOPE')$$, '23503', NULL,
	'an entry of an unknown system is refused');
/* the range of numeric(14,2): at most 12 digits before the point, 999,999,999,999.99 is the largest */
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E2', 2021, 'support_admin', 'expected', 1000000000000.00)$$, '23514', NULL,
	'an amount of 10^12 kr (beyond numeric(14,2)) is refused');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('E2', 2021, 'support_admin', 'expected', -1000000000000.00)$$, '23514', NULL,
	'an amount of -10^12 kr is refused');
SELECT results_eq($$SELECT entry_key, year, cost_type::text, basis::text, amount FROM cost_entry$$,
	$$VALUES ('E1'::text COLLATE "C", 2021, 'support_admin', 'expected', 100000.00)$$,
	'no cost entry was written or changed by the refused rows');

/* the largest amount that fits is accepted; more decimals are refused, not rounded (input_checks.sql) */
SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				  VALUES ('E3', 2021, 'support_admin', 'expected', 999999999999.99)$$,
	'999,999,999,999.99 kr fits numeric(14,2)');
SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, service_code)
				  VALUES ('E4', 2021, 'establishment', 'expected', 10.01, 'ADR')$$,
	'establishment of a service with an orderer and no system is accepted');
SELECT results_eq($$SELECT entry_key, amount FROM cost_entry WHERE entry_key IN ('E3', 'E4') ORDER BY 1$$,
	$$VALUES ('E3'::text COLLATE "C", 999999999999.99::numeric), ('E4', 10.01)$$,
	'the accepted entries are stored at øre');

/* ------------------------------------------------------------------
 * usage and usage_batch
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO usage VALUES ('2021-02-01', '101', 'ESDH', 'CPR', -1, 'B1')$$, '23514', NULL,
	'negative calls are refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-02-01', '101', 'ESDH', 'CPR', NULL, 'B1')$$, '23502', NULL,
	'usage without calls is refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-01-15', '101', 'ESDH', 'CPR', 5, 'B1')$$, '23514', NULL,
	'a usage period not on the first of a month is refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-02-01', '101', 'NOPE', 'CPR', 5, 'B1')$$, '23503', NULL,
	'usage of an unknown system is refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-02-01', '101', 'ESDH', 'NOPE', 5, 'B1')$$, '23503', NULL,
	'usage of an unknown service is refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-02-01', '999', 'ESDH', 'CPR', 5, 'B1')$$, '23503', NULL,
	'usage of an unknown municipality is refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-02-01', '101', 'ESDH', 'CPR', 5, 'NOPE')$$, '23503', NULL,
	'usage of an unregistered batch is refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2025-01-01', '101', 'ESDH', 'CPR', 5, 'B1')$$, '23514', NULL,
	'usage of a year without a billing_year row (no partition) is refused');
/* a null period fits no partition: PostgreSQL refuses it while routing, before NOT NULL */
SELECT throws_ok($$INSERT INTO usage VALUES (NULL, '101', 'ESDH', 'CPR', 5, 'B1')$$, '23514', NULL,
	'usage without a period is refused');
SELECT results_eq($$SELECT period, municipality_code, system_code, service_code, calls, batch_key FROM usage$$,
	$$VALUES ('2021-01-01'::date, '101'::text COLLATE "C", 'ESDH'::text COLLATE "C", 'CPR'::text COLLATE "C", 10::bigint, 'B1'::text COLLATE "C")$$,
	'no usage was written by the refused rows');

SELECT throws_ok($$INSERT INTO usage_batch (batch_key) VALUES ('B1')$$, '23505', NULL,
	'loading batch B1 a second time is refused (SPEC S11)');
SELECT throws_ok($$INSERT INTO usage_batch (batch_key) VALUES ('')$$, '23514', NULL,
	'a blank batch key is refused');
SELECT throws_ok($$INSERT INTO usage_batch (batch_key) VALUES (NULL)$$, '23502', NULL,
	'a batch without a key is refused');
SELECT is((SELECT array_agg(batch_key) FROM usage_batch), ARRAY['B1']::text[],
	'only batch B1 is registered');

/* ------------------------------------------------------------------
 * multi-row statements are all or nothing
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO usage VALUES ('2021-03-01', '101', 'ESDH', 'CPR', 5, 'B1'),
											  ('2021-03-01', '147', 'ESDH', 'CPR', -5, 'B1')$$,
	'23514', NULL, 'a load with one bad row is refused');
SELECT is((SELECT count(*)::integer FROM usage WHERE period = '2021-03-01'), 0,
	'not even the good row of the refused load was written');

SELECT * FROM finish();
ROLLBACK;
