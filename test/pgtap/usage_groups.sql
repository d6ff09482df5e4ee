/*
 * The grouping aggregate of the rating pass,
 * afregning.usage_groups(period, municipality_code, system_code,
 * service_code, calls, per_call_services), its companions usage_group_rows()
 * and usage_groups_merge(), its refusals, equal results with and without
 * parallel workers (combine, serialize, deserialize), and the BRIN index on
 * period that lets a month be read without its year.
 */
BEGIN;
SELECT plan(41);

/* ---- contract -------------------------------------------------------- */

SELECT is_aggregate('afregning', 'usage_groups',
					ARRAY['date', 'text', 'text', 'text', 'bigint', 'text[]']);
SELECT function_returns('afregning', 'usage_groups',
						ARRAY['date', 'text', 'text', 'text', 'bigint', 'text[]'], 'bytea');
SELECT is_aggregate('afregning', 'usage_groups_merge', ARRAY['bytea']);
SELECT is_strict('afregning', 'usage_group_rows', ARRAY['bytea']);
/* an internal state needs non-strict transition and combine functions */
SELECT isnt_strict('afregning', 'usage_groups_accum',
				   ARRAY['internal', 'date', 'text', 'text', 'text', 'bigint', 'text[]']);
SELECT isnt_strict('afregning', 'usage_groups_combine', ARRAY['internal', 'internal']);

SELECT results_eq(
	$$SELECT p.proname::text COLLATE "default", p.proparallel::text, p.provolatile::text
		FROM pg_proc p
	   WHERE p.pronamespace = 'afregning'::regnamespace
		 AND p.proname::text LIKE 'usage\_group%'
	   ORDER BY 1$$,
	$$VALUES ('usage_group_rows', 's', 'i'), ('usage_groups', 's', 'i'),
			 ('usage_groups_accum', 's', 'i'), ('usage_groups_combine', 's', 'i'),
			 ('usage_groups_deserialize', 's', 'i'), ('usage_groups_merge', 's', 'i'),
			 ('usage_groups_merge_accum', 's', 'i'), ('usage_groups_serialize', 's', 'i')$$,
	'usage_groups and its support functions are IMMUTABLE and PARALLEL SAFE'
);

SELECT ok(
	(SELECT count(*) = 2
	   FROM pg_aggregate a
	  WHERE a.aggfnoid IN ('afregning.usage_groups(date, text, text, text, bigint, text[])'::regprocedure,
						   'afregning.usage_groups_merge(bytea)'::regprocedure)
		AND a.aggcombinefn = 'afregning.usage_groups_combine'::regproc
		AND a.aggserialfn = 'afregning.usage_groups_serialize'::regproc
		AND a.aggdeserialfn = 'afregning.usage_groups_deserialize'::regproc
		AND a.aggtranstype = 'internal'::regtype),
	'both aggregates combine, serialize and deserialize their internal state'
);

/* ---- exact groups ---------------------------------------------------- */

/*
 * Nine rows, CPR per-call:
 *   Jan 101 ESDH CPR 5, Jan 101 ESDH CPR 7   -> Jan 101 ESDH CPR 12
 *   Jan 147 ESDH CPR 3                       -> Jan 147 ESDH CPR 3
 *   Jan 101 ESDH ORG 10, Jan 147 ESDH ORG 20 -> Jan -   ESDH ORG 30
 *     (ORG is not per-call: no municipality)
 *   Jan 101 ESDH ORG null                    -> skipped, as sum() does
 *   Feb 101 ESDH ORG 1                       -> Feb -   ESDH ORG 1
 *   Jan 101 KY ORG 4                         -> Jan -   KY   ORG 4
 *   Feb 147 KY CPR 0                         -> Feb 147 KY   CPR 0
 */
CREATE TEMP TABLE ug_rows (period date, municipality_code text, system_code text,
						   service_code text, calls bigint, part integer);
INSERT INTO ug_rows VALUES
	('2021-01-01', '101', 'ESDH', 'CPR', 5, 1),
	('2021-01-01', '147', 'ESDH', 'CPR', 3, 2),
	('2021-01-01', '101', 'ESDH', 'ORG', 10, 1),
	('2021-01-01', '101', 'ESDH', 'CPR', 7, 2),
	('2021-01-01', '147', 'ESDH', 'ORG', 20, 2),
	('2021-01-01', '101', 'ESDH', 'ORG', NULL, 1),
	('2021-02-01', '101', 'ESDH', 'ORG', 1, 1),
	('2021-01-01', '101', 'KY', 'ORG', 4, 2),
	('2021-02-01', '147', 'KY', 'CPR', 0, 1);

SELECT set_eq(
	$$SELECT * FROM afregning.usage_group_rows(
		(SELECT afregning.usage_groups(period, municipality_code, system_code, service_code,
									   calls, ARRAY['CPR']) FROM ug_rows))$$,
	$$VALUES ('2021-01-01'::date, '101'::text, 'ESDH'::text, 'CPR'::text, 12::bigint),
			 ('2021-01-01', '147', 'ESDH', 'CPR', 3),
			 ('2021-01-01', NULL, 'ESDH', 'ORG', 30),
			 ('2021-02-01', NULL, 'ESDH', 'ORG', 1),
			 ('2021-01-01', NULL, 'KY', 'ORG', 4),
			 ('2021-02-01', '147', 'KY', 'CPR', 0)$$,
	'calls are summed by month, system and service, and by municipality for per-call services'
);

/* without per-call services every municipality folds: Jan ESDH CPR 15 */
SELECT set_eq(
	$$SELECT * FROM afregning.usage_group_rows(
		(SELECT afregning.usage_groups(period, municipality_code, system_code, service_code,
									   calls, NULL) FROM ug_rows))$$,
	$$VALUES ('2021-01-01'::date, NULL::text, 'ESDH'::text, 'CPR'::text, 15::bigint),
			 ('2021-01-01', NULL, 'ESDH', 'ORG', 30),
			 ('2021-02-01', NULL, 'ESDH', 'ORG', 1),
			 ('2021-01-01', NULL, 'KY', 'ORG', 4),
			 ('2021-02-01', NULL, 'KY', 'CPR', 0)$$,
	'with no per-call services no group is kept per municipality'
);

SELECT is(
	(SELECT afregning.usage_groups(period, municipality_code, system_code, service_code,
								   calls, ARRAY['CPR']) FROM ug_rows WHERE false),
	NULL::bytea,
	'no rows group to null'
);
SELECT is(
	(SELECT count(*) FROM afregning.usage_group_rows(NULL)),
	0::bigint,
	'null unpacks to no rows'
);

/* the two halves grouped apart and merged give the same groups */
SELECT set_eq(
	$$SELECT * FROM afregning.usage_group_rows(
		(SELECT afregning.usage_groups_merge(g)
		   FROM (SELECT afregning.usage_groups(period, municipality_code, system_code,
											   service_code, calls, ARRAY['CPR']) AS g
				   FROM ug_rows GROUP BY part) s))$$,
	$$VALUES ('2021-01-01'::date, '101'::text, 'ESDH'::text, 'CPR'::text, 12::bigint),
			 ('2021-01-01', '147', 'ESDH', 'CPR', 3),
			 ('2021-01-01', NULL, 'ESDH', 'ORG', 30),
			 ('2021-02-01', NULL, 'ESDH', 'ORG', 1),
			 ('2021-01-01', NULL, 'KY', 'ORG', 4),
			 ('2021-02-01', '147', 'KY', 'CPR', 0)$$,
	'usage_groups_merge of the parts equals usage_groups of the whole'
);
SELECT is(
	(SELECT afregning.usage_groups_merge(g) FROM (VALUES (NULL::bytea)) v(g)),
	NULL::bytea,
	'merging only nulls gives null'
);

/* ---- refusals -------------------------------------------------------- */

SELECT throws_ok(
	$$SELECT afregning.usage_groups(p, m, s, v, c, ARRAY['CPR'])
		FROM (VALUES ('2021-01-01'::date, '101'::text, 'ESDH'::text, 'ORG'::text, 2::bigint),
					 ('2021-01-01', '101', 'ESDH', 'ORG', -1)) x(p, m, s, v, c)$$,
	'22023', 'calls must not be negative',
	'negative calls are refused (22023)'
);
SELECT throws_ok(
	$$SELECT afregning.usage_groups(p, m, s, v, c, ARRAY['CPR'])
		FROM (VALUES ('2021-01-01'::date, '101'::text, NULL::text, 'ORG'::text, 2::bigint)) x(p, m, s, v, c)$$,
	'22004', NULL,
	'a null system is refused (22004)'
);
SELECT throws_ok(
	$$SELECT afregning.usage_groups(p, m, s, v, c, ARRAY['CPR'])
		FROM (VALUES (NULL::date, '101'::text, 'ESDH'::text, 'ORG'::text, 2::bigint)) x(p, m, s, v, c)$$,
	'22004', NULL,
	'a null period is refused (22004)'
);
SELECT throws_ok(
	$$SELECT afregning.usage_groups(p, m, s, v, c, ARRAY['CPR'])
		FROM (VALUES ('2021-01-01'::date, NULL::text, 'ESDH'::text, 'CPR'::text, 2::bigint)) x(p, m, s, v, c)$$,
	'22004', NULL,
	'a per-call row without a municipality is refused (22004)'
);
/* a null municipality of a service that is not per-call does not matter */
SELECT is(
	(SELECT c FROM afregning.usage_group_rows(
		(SELECT afregning.usage_groups(p, m, s, v, c, ARRAY['CPR'])
		   FROM (VALUES ('2021-01-01'::date, NULL::text, 'ESDH'::text, 'ORG'::text, 2::bigint))
				x(p, m, s, v, c))) AS r(p, m, s, v, c)),
	2::bigint,
	'a pool row without a municipality is grouped'
);
/* 9223372036854775807 + 1 does not fit a bigint; in one group and after a merge */
SELECT throws_ok(
	$$SELECT afregning.usage_groups(p, m, s, v, c, NULL)
		FROM (VALUES ('2021-01-01'::date, '101'::text, 'ESDH'::text, 'ORG'::text, 9223372036854775807::bigint),
					 ('2021-01-01', '147', 'ESDH', 'ORG', 1)) x(p, m, s, v, c)$$,
	'22003', 'sum of calls is out of range',
	'a sum beyond bigint is refused (22003), never wrapped'
);
SELECT throws_ok(
	$$SELECT afregning.usage_groups_merge(g)
		FROM (SELECT afregning.usage_groups(p, m, s, v, c, NULL) AS g
				FROM (VALUES (1, '2021-01-01'::date, '101'::text, 'ESDH'::text, 'ORG'::text, 9223372036854775807::bigint),
							 (2, '2021-01-01', '147', 'ESDH', 'ORG', 1)) x(k, p, m, s, v, c)
			   GROUP BY k) y$$,
	'22003', 'sum of calls is out of range',
	'a merged sum beyond bigint is refused (22003)'
);

/* values that usage_groups did not write */
SELECT afregning.usage_groups(period, municipality_code, system_code, service_code, calls, ARRAY['CPR'])
	AS good FROM ug_rows \gset
SELECT throws_ok(
	$$SELECT * FROM afregning.usage_group_rows('\x00'::bytea)$$,
	'22P03', 'invalid usage groups value',
	'a value without the magic number is refused (22P03)'
);
SELECT throws_ok(
	format('SELECT * FROM afregning.usage_group_rows(%L::bytea)',
		   substr(:'good'::bytea, 1, length(:'good'::bytea) - 1)),
	'22P03', 'invalid usage groups value',
	'a value cut short is refused (22P03)'
);
SELECT throws_ok(
	format('SELECT * FROM afregning.usage_group_rows(%L::bytea)', :'good'::bytea || '\x00'::bytea),
	'22P03', 'invalid usage groups value',
	'a value with trailing bytes is refused (22P03)'
);
/* the first group's system id (bytes 5-6 of its 16) set to 0x7fff: no such code */
SELECT throws_ok(
	format('SELECT * FROM afregning.usage_group_rows(%L::bytea)',
		   overlay(:'good'::bytea PLACING '\x7fff'::bytea
				   FROM length(:'good'::bytea) - 6 * 16 + 5 FOR 2)),
	'22P03', 'invalid usage groups value',
	'a group naming a code the value does not hold is refused (22P03)'
);
SELECT throws_ok(
	$$SELECT afregning.usage_groups_merge(g) FROM (VALUES ('\x41465547'::bytea)) v(g)$$,
	'22P03', 'invalid usage groups value',
	'usage_groups_merge refuses a value usage_groups did not write (22P03)'
);

/* ---- many groups, with and without parallel workers ------------------- */

/*
 * 200,000 rows: row i is month 1 + i mod 12, municipality m(i mod 98),
 * system y(i mod 25), service s(i mod 40), i calls; s0 and s1 are per-call.
 * Groups: pool rows repeat (i mod 12, i mod 25, i mod 40) with period
 * lcm(12, 25, 40) = 600, of which 600 × 38/40 = 570 are pool services;
 * per-call rows repeat (i mod 12, 98, 25, 40) with period
 * lcm(12, 98, 25, 40) = 29400 < 200000, of which 29400 × 2/40 = 1470 are
 * per-call: 2040 groups. Calls: 1 + ... + 200000 = 20000100000.
 * 2040 groups also make the table grow past its first 1024 slots.
 */
CREATE TABLE public.ug_par (
	period				date NOT NULL,
	municipality_code	text NOT NULL,
	system_code			text NOT NULL,
	service_code		text NOT NULL,
	calls				bigint NOT NULL
);
INSERT INTO public.ug_par
SELECT make_date(2021, 1 + (i % 12)::integer, 1), 'm' || (i % 98), 'y' || (i % 25),
	   's' || (i % 40), i
  FROM generate_series(1, 200000) i;
ANALYZE public.ug_par;

\ir ../lib/plan_of.sql

\set q_groups 'SELECT afregning.usage_groups(period, municipality_code, system_code, service_code, calls, ARRAY[\'s0\', \'s1\']) AS g FROM public.ug_par'

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;
SET LOCAL max_parallel_workers_per_gather = 2;

SELECT matches(pg_temp.plan_of(:'q_groups'), 'Partial Aggregate',
			   'the groups are computed by a Partial Aggregate');
SELECT matches(pg_temp.plan_of(:'q_groups'), 'Workers Launched: [1-9]',
			   'parallel workers were launched for the groups');

/* run at top level (a query calling pgTAP functions is never parallel) */
SELECT g AS par_groups FROM (:q_groups) q \gset

SET LOCAL max_parallel_workers_per_gather = 0;
SELECT doesnt_match(pg_temp.plan_of(:'q_groups'), 'Gather|Partial',
					'without workers the plan is serial');
SELECT g AS ser_groups FROM (:q_groups) q \gset

SELECT is(
	(SELECT count(*) FROM afregning.usage_group_rows(:'par_groups'::bytea)),
	2040::bigint,
	'parallel: 2040 groups, as worked out by hand'
);
SELECT is(
	(SELECT sum(calls) FROM afregning.usage_group_rows(:'par_groups'::bytea)),
	20000100000::numeric,
	'parallel: the groups hold every call, as worked out by hand'
);
SELECT is(
	(SELECT count(*) FILTER (WHERE municipality_code IS NOT NULL)
	   FROM afregning.usage_group_rows(:'par_groups'::bytea)),
	1470::bigint,
	'parallel: 1470 per-call groups, as worked out by hand'
);
SELECT set_eq(
	format('SELECT * FROM afregning.usage_group_rows(%L::bytea)', :'par_groups'),
	format('SELECT * FROM afregning.usage_group_rows(%L::bytea)', :'ser_groups'),
	'parallel groups equal the serial groups'
);
SELECT set_eq(
	format('SELECT * FROM afregning.usage_group_rows(%L::bytea)', :'par_groups'),
	$$SELECT period, CASE WHEN service_code IN ('s0', 's1') THEN municipality_code END,
			 system_code, service_code, sum(calls)::bigint
		FROM public.ug_par GROUP BY 1, 2, 3, 4$$,
	'parallel groups equal a plain GROUP BY'
);

/* ---- the rating pipeline --------------------------------------------- */

/* a per-call service in a month without a tariff is refused, as before */
INSERT INTO afregning.municipality VALUES ('901', 'Testby', 'Hovedstaden');
INSERT INTO afregning.consumer_system VALUES ('UGSYS', 'UG system', 'municipal');
INSERT INTO afregning.service VALUES ('UGCPR', 'UG CPR', 'serviceplatform', 'ordered', 'per_call'),
	('UGPOOL', 'UG pool', 'serviceplatform', 'ordered', 'pool');
INSERT INTO afregning.tariff VALUES ('UGCPR', '2031-03-01', 0.1000), ('UGPOOL', '2031-01-01', 0.0200);
INSERT INTO afregning.billing_year (year) VALUES (2031);
INSERT INTO afregning.usage_batch (batch_key) VALUES ('ug-2031');
/*
 * Jan UGCPR 10 (no tariff yet), Mar UGCPR 7 + 8 at 0.1000 -> 1.50,
 * Apr UGCPR 5 -> 0.50, Jan-Apr UGPOOL 100 each at 0.0200 -> 400 × 0.02 = 8.00
 */
INSERT INTO afregning.usage VALUES
	('2031-01-01', '901', 'UGSYS', 'UGCPR', 10, 'ug-2031'),
	('2031-03-01', '901', 'UGSYS', 'UGCPR', 7, 'ug-2031'),
	('2031-03-01', '901', 'UGSYS', 'UGCPR', 8, 'ug-2031'),
	('2031-04-01', '901', 'UGSYS', 'UGCPR', 5, 'ug-2031');
INSERT INTO afregning.usage
SELECT make_date(2031, m, 1), '901', 'UGSYS', 'UGPOOL', 100, 'ug-2031' FROM generate_series(1, 4) m;

SELECT throws_ok(
	$$SELECT * FROM afregning.rated_usage(2031)$$,
	'55000', 'per-call service UGCPR has no tariff in force for 2031-01',
	'rating a per-call month without a tariff is refused (55000)'
);
/* bill_direct says it in one place: the detail names service and month,
 * a hint says what to add, and no SQL of the pipeline is shown as context */
CREATE FUNCTION pg_temp.error_parts(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE d text; h text; c text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT;
	RETURN d || ' | ' || h || ' | ' ||
		   (SELECT count(*) FROM regexp_split_to_table(c, E'\n') l
			WHERE l ~ '^PL/pgSQL function afregning\.');
END
$f$;
SELECT is(pg_temp.error_parts($$SELECT * FROM afregning.bill_direct('2031-01-01')$$),
	'Service UGCPR has calls in 2031-01, and calls of a per-call service are charged at the tariff in force on the first of their month. | '
	|| 'Add a tariff valid from 2031-01-01 or earlier: INSERT INTO afregning.tariff (service_code, valid_from, unit_price) VALUES (''UGCPR'', ''2031-01-01'', ...). | 1',
	'bill_direct of a month without a tariff: the detail names service and month, a hint, one line of context');
SELECT is((SELECT count(*) FROM afregning.direct_charge_line WHERE month = '2031-01-01'), 0::bigint,
	'... and nothing was posted');
SELECT results_eq(
	$$SELECT month, municipality_code, service_code, unit_price, calls, amount
		FROM afregning.per_call_lines('2031-03-01', '2031-04-01') ORDER BY 1$$,
	$$VALUES ('2031-03-01'::date, '901'::text, 'UGCPR'::text, 0.1000::numeric, 15::bigint, 1.50::numeric),
			 ('2031-04-01', '901', 'UGCPR', 0.1000, 5, 0.50)$$,
	'per_call_lines of March and April: 15 × 0.10 = 1.50 and 5 × 0.10 = 0.50'
);
SELECT results_eq(
	$$SELECT route::text, payer_code, service_code, period, calls, amount
		FROM afregning.rated_cells(
			(SELECT afregning.usage_groups(u.period, u.municipality_code, u.system_code,
										   u.service_code, u.calls, ARRAY['UGCPR'])
			   FROM afregning.usage u WHERE u.period BETWEEN '2031-03-01' AND '2031-04-01'),
			'2031-03-01', '2031-04-01') c
		CROSS JOIN LATERAL (SELECT c.calls * c.unit_price AS amount) a
	   ORDER BY 3, 4$$,
	$$VALUES ('municipality', '901'::text, 'UGCPR'::text, '2031-03-01'::date, 15::bigint, 1.5000::numeric),
			 ('municipality', '901', 'UGCPR', '2031-04-01', 5, 0.5000),
			 ('pool', NULL, 'UGPOOL', '2031-03-01', 100, 2.0000),
			 ('pool', NULL, 'UGPOOL', '2031-04-01', 100, 2.0000)$$,
	'rated_cells routes and prices the grouped sums of the months asked'
);

/* ---- month-local reads ------------------------------------------------ */

SELECT ok(
	NOT EXISTS (SELECT 1
				  FROM pg_inherits i
				 WHERE i.inhparent = 'afregning.usage'::regclass
				   AND NOT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
									JOIN pg_am a ON a.oid = c.relam
								   WHERE x.indrelid = i.inhrelid AND a.amname = 'brin'
									 AND x.indkey::text = '1')),
	'every usage partition, also one made by a new billing year, has a BRIN index on period'
);
SET LOCAL enable_seqscan = off;
SELECT matches(
	pg_temp.plan_of($$SELECT sum(calls) FROM afregning.usage
					   WHERE period BETWEEN '2031-03-01' AND '2031-03-01'$$),
	'Bitmap Index Scan on usage_y2031_period_brin',
	'a month of usage can be read through the BRIN index of its partition'
);
RESET enable_seqscan;

SELECT * FROM finish();
ROLLBACK;
