/*
 * The usage rating aggregate afregning.rate(calls, unit_price): exact
 * results rounded once per group (SPEC §4.3), null handling, refusals,
 * overflow, its contract, and equal results with and without parallel
 * workers (which exercises the combine, serialize and deserialize
 * functions).
 */
BEGIN;
SELECT plan(51);

/* ---- contract -------------------------------------------------------- */

SELECT has_function('afregning', 'rate', ARRAY['bigint', 'numeric']);
SELECT is_aggregate('afregning', 'rate', ARRAY['bigint', 'numeric']);
SELECT function_returns('afregning', 'rate', ARRAY['bigint', 'numeric'], 'numeric');
SELECT volatility_is('afregning', 'rate_accum', ARRAY['internal', 'bigint', 'numeric'], 'immutable');
SELECT volatility_is('afregning', 'rate_combine', ARRAY['internal', 'internal'], 'immutable');
SELECT volatility_is('afregning', 'rate_serialize', ARRAY['internal'], 'immutable');
SELECT volatility_is('afregning', 'rate_deserialize', ARRAY['bytea', 'internal'], 'immutable');
SELECT volatility_is('afregning', 'rate_final', ARRAY['internal'], 'immutable');
/* an internal state needs a non-strict transition and combine function */
SELECT isnt_strict('afregning', 'rate_accum', ARRAY['internal', 'bigint', 'numeric']);
SELECT isnt_strict('afregning', 'rate_combine', ARRAY['internal', 'internal']);
SELECT is_strict('afregning', 'rate_serialize', ARRAY['internal']);
SELECT is_strict('afregning', 'rate_deserialize', ARRAY['bytea', 'internal']);

SELECT results_eq(
	$$SELECT p.proname::text COLLATE "default", p.proparallel::text
		FROM pg_proc p
	   WHERE p.pronamespace = 'afregning'::regnamespace
		 AND p.proname IN ('rate', 'rate_accum', 'rate_combine', 'rate_serialize',
						   'rate_deserialize', 'rate_final')
	   ORDER BY 1$$,
	$$VALUES ('rate', 's'), ('rate_accum', 's'), ('rate_combine', 's'),
			 ('rate_deserialize', 's'), ('rate_final', 's'), ('rate_serialize', 's')$$,
	'rate and its support functions are PARALLEL SAFE'
);

SELECT ok(
	EXISTS (SELECT 1
			  FROM pg_aggregate a
			 WHERE a.aggfnoid = 'afregning.rate(bigint, numeric)'::regprocedure
			   AND a.aggtransfn = 'afregning.rate_accum'::regproc
			   AND a.aggfinalfn = 'afregning.rate_final'::regproc
			   AND a.aggcombinefn = 'afregning.rate_combine'::regproc
			   AND a.aggserialfn = 'afregning.rate_serialize'::regproc
			   AND a.aggdeserialfn = 'afregning.rate_deserialize'::regproc
			   AND a.aggtranstype = 'internal'::regtype),
	'rate has a combine, serialize and deserialize function over an internal state'
);

/* ---- exact results, one rounding per group ---------------------------- */

/* 3 × 0.0650 + 1 × 0.0650 = 4 × 0.065 = 0.26 */
SELECT is(
	(SELECT afregning.rate(c, p) FROM (VALUES (3::bigint, 0.0650), (1, 0.0650)) v(c, p)),
	0.26::numeric,
	'3 and 1 calls at 0.0650 rate to 0.26'
);

/* 1 × 0.0050 = 0.005: half away from zero gives 0.01 */
SELECT is(
	(SELECT afregning.rate(c, p)::text FROM (VALUES (1::bigint, 0.0050)) v(c, p)),
	'0.01',
	'0.005 rounds half away from zero to 0.01'
);

/* 1 × 0.0049 = 0.0049: below half an øre, 0.00 */
SELECT is(
	(SELECT afregning.rate(c, p)::text FROM (VALUES (1::bigint, 0.0049)) v(c, p)),
	'0.00',
	'0.0049 rounds to 0.00'
);

/* three rows of 1 × 0.0033: 0.0099 rounded once is 0.01, not 3 × 0.00 */
SELECT is(
	(SELECT afregning.rate(c, p) FROM (VALUES (1::bigint, 0.0033), (1, 0.0033), (1, 0.0033)) v(c, p)),
	0.01::numeric,
	'the group is rounded once, not row by row'
);

/*
 * Several tariffs in one group:
 * 1000 × 0.0650 = 65.0000; 7 × 0.4500 = 3.1500; 250 × 1.2345 = 308.6250;
 * sum 376.7750, half away from zero 376.78
 */
SELECT is(
	(SELECT afregning.rate(c, p)
	   FROM (VALUES (1000::bigint, 0.0650), (7, 0.4500), (250, 1.2345)) v(c, p)),
	376.78::numeric,
	'mixed tariffs sum exactly, then round once'
);

/*
 * One rounding per group of a GROUP BY:
 * a: 1 × 0.0033 + 1 × 0.0033 = 0.0066 -> 0.01
 * b: 2 × 0.0025 = 0.0050 -> 0.01
 * c: 1 × 0.0024 = 0.0024 -> 0.00
 */
SELECT results_eq(
	$$SELECT k, afregning.rate(c, p)
		FROM (VALUES ('a', 1::bigint, 0.0033), ('b', 2, 0.0025), ('a', 1, 0.0033),
					 ('c', 1, 0.0024)) v(k, c, p)
	   GROUP BY k ORDER BY k$$,
	$$VALUES ('a', 0.01::numeric), ('b', 0.01), ('c', 0.00)$$,
	'each group of a GROUP BY is rounded once'
);

/* the result always has scale 2: 0 calls at 0.0650 is 0.00 */
SELECT is(
	(SELECT afregning.rate(c, p)::text FROM (VALUES (0::bigint, 0.0650)) v(c, p)),
	'0.00',
	'zero calls rate to 0.00 with scale 2'
);

/* trailing zeros are not significant decimals: 0.065000000 = 0.0650 */
SELECT is(
	(SELECT afregning.rate(c, p) FROM (VALUES (100::bigint, 0.065000000)) v(c, p)),
	6.50::numeric,
	'trailing zeros beyond 4 decimals are accepted'
);

/*
 * Exact beyond double precision: 9223372036854775807 × 0.0001
 * = 922337203685477.5807, rounded 922337203685477.58
 */
SELECT is(
	(SELECT afregning.rate(9223372036854775807, 0.0001)),
	922337203685477.58::numeric,
	'the largest bigint count of calls rates exactly'
);

/*
 * The largest amount is 2^63 - 1 øre = 92233720368547758.07 DKK:
 * 10000 × 9223372036854.7758 = 92233720368547758.0000
 *     7 × 0.0100             =                 0.0700
 *     1 × 0.0049             =                 0.0049
 * sum 92233720368547758.0749 -> 92233720368547758.07, which fits
 */
SELECT is(
	(SELECT afregning.rate(c, p)
	   FROM (VALUES (10000::bigint, 9223372036854.7758), (7, 0.0100), (1, 0.0049)) v(c, p)),
	92233720368547758.07::numeric,
	'the largest amount, 2^63 - 1 øre, is exact'
);

/* ---- nulls, as sum() treats them --------------------------------------- */

SELECT is(
	(SELECT afregning.rate(c, p) FROM (VALUES (1::bigint, 0.0650)) v(c, p) WHERE false),
	NULL::numeric,
	'no rows rate to null'
);

SELECT is(
	(SELECT afregning.rate(c, p) FROM (VALUES (NULL::bigint, 0.0650), (2, NULL::numeric)) v(c, p)),
	NULL::numeric,
	'only rows with a null input rate to null'
);

/* (null, 0.0650) and (2, null) are skipped: 1 × 0.0650 = 0.065 -> 0.07 */
SELECT is(
	(SELECT afregning.rate(c, p)
	   FROM (VALUES (NULL::bigint, 0.0650), (2, NULL::numeric), (1, 0.0650)) v(c, p)),
	0.07::numeric,
	'rows with a null input are skipped'
);

/* running total as a window aggregate: 1, 3, 6 calls at 0.0033 */
SELECT results_eq(
	$$SELECT afregning.rate(c, p) OVER (ORDER BY c)
		FROM (VALUES (1::bigint, 0.0033), (2, 0.0033), (3, 0.0033)) v(c, p)
	   ORDER BY c$$,
	/* 0.0033 -> 0.00; 0.0099 -> 0.01; 0.0198 -> 0.02 */
	$$VALUES (0.00::numeric), (0.01), (0.02)$$,
	'rate works as a window aggregate'
);

/* ---- refusals ------------------------------------------------------------ */

SELECT throws_ok(
	$$SELECT afregning.rate(c, p) FROM (VALUES (1::bigint, 0.0650), (-1, 0.0650)) v(c, p)$$,
	'22023', 'calls must not be negative',
	'negative calls are refused'
);
SELECT throws_ok(
	$$SELECT afregning.rate(1, 0.00005)$$,
	'22023', 'unit price has more than 4 decimal places',
	'a unit price with a fifth decimal is refused, not rounded'
);
SELECT throws_ok(
	$$SELECT afregning.rate(1, 0.06501)$$,
	'22023', 'unit price has more than 4 decimal places',
	'0.06501 is refused'
);
SELECT throws_ok(
	$$SELECT afregning.rate(1, -0.0650)$$,
	'22023', 'unit price must not be negative',
	'a negative unit price is refused'
);
SELECT throws_ok(
	$$SELECT afregning.rate(1, 'NaN')$$,
	'22023', 'unit price must be a finite number',
	'a NaN unit price is refused'
);
SELECT throws_ok(
	$$SELECT afregning.rate(1, 'Infinity')$$,
	'22023', 'unit price must be a finite number',
	'an infinite unit price is refused'
);
/* a refused row fails the whole group, also after valid rows */
SELECT throws_ok(
	$$SELECT afregning.rate(c, p) FROM (VALUES (1::bigint, 0.0650), (1, 0.0650), (1, 0.00001)) v(c, p)$$,
	'22023', 'unit price has more than 4 decimal places',
	'a bad unit price after valid rows fails the group'
);

/* ---- overflow is an error, never a wrap ---------------------------------- */

/* 922337203685477.5808 × 10^4 = 2^63: does not fit 64 bits */
SELECT throws_ok(
	$$SELECT afregning.rate(1, 922337203685477.5808)$$,
	'22003', 'unit price is out of range',
	'a unit price beyond 64 bits of 1/10000 DKK is out of range'
);
/* as above with 0.0050 for 0.0049: ...758.0750 rounds to ...758.08 */
SELECT throws_ok(
	$$SELECT afregning.rate(c, p)
		FROM (VALUES (10000::bigint, 9223372036854.7758), (7, 0.0100), (1, 0.0050)) v(c, p)$$,
	'22003', 'rated amount is out of range',
	'one øre above the largest amount is out of range'
);
/* 9 × 10^18 calls × 1.0000 = 9 × 10^20 øre > 2^63 - 1 */
SELECT throws_ok(
	$$SELECT afregning.rate(9000000000000000000, 1)$$,
	'22003', 'rated amount is out of range',
	'a result beyond 64 bits of øre is out of range'
);
/*
 * The 128-bit sum: 9 × 10^18 calls × 9 × 10^18 units (900000000000000.0000)
 * = 8.1 × 10^37 per row; three rows are 2.43 × 10^38 > 2^127 - 1 (1.7 × 10^38)
 */
SELECT throws_ok(
	$$SELECT afregning.rate(c, p)
		FROM (VALUES (9000000000000000000::bigint, 900000000000000),
					 (9000000000000000000, 900000000000000),
					 (9000000000000000000, 900000000000000)) v(c, p)$$,
	'22003', 'rated amount is out of range',
	'a sum beyond the 128-bit accumulator is out of range, not wrapped'
);

/* ---- parallel aggregation --------------------------------------------- */

/*
 * 200,000 usage rows: row i has i calls at 0.0650 + 0.0001 × (i mod 3),
 * group g = i mod 3, and k = i mod 1000 for a many-group check.
 *
 * Calls by residue (n = 200000 = 3 × 66666 + 2):
 *   g = 0: 3 + 6 + ... + 199998 = 3 × (66666 × 66667 / 2) = 6666633333
 *   g = 1: 1 + 4 + ... + 199999 = 6666633333 + 66667 = 6666700000
 *   g = 2: 2 + 5 + ... + 200000 = 6666633333 + 2 × 66667 = 6666766667
 *   (sum 20000100000 = 200000 × 200001 / 2)
 * Amounts:
 *   g = 0: 6666633333 × 0.0650 = 433331166.6450 -> 433331166.65
 *   g = 1: 6666700000 × 0.0651 = 434002170.0000 -> 434002170.00
 *   g = 2: 6666766667 × 0.0652 = 434673186.6884 -> 434673186.69
 *   all:   0.0650 × 20000100000 + 0.0001 × (6666700000 + 2 × 6666766667)
 *        = 1300006500 + 2000023.3334 = 1302006523.3334 -> 1302006523.33
 *   (the sum of the rounded groups would be 1302006523.34)
 */
CREATE TABLE public.rate_usage_par (
	g			integer NOT NULL,
	k			integer NOT NULL,
	calls		bigint NOT NULL,
	unit_price	numeric(12,4) NOT NULL
);
INSERT INTO public.rate_usage_par
SELECT i % 3, i % 1000, i, 0.0650 + 0.0001 * (i % 3)
  FROM generate_series(1, 200000) i;
ANALYZE public.rate_usage_par;

\ir ../lib/plan_of.sql

\set q_total 'SELECT afregning.rate(calls, unit_price) AS total FROM public.rate_usage_par'
\set q_groups 'SELECT string_agg(g || \':\' || r, \' \' ORDER BY g) AS groups FROM (SELECT g, afregning.rate(calls, unit_price) AS r FROM public.rate_usage_par GROUP BY g) s'
\set q_many 'SELECT count(*) AS n, count(*) FILTER (WHERE r = e) AS n_equal FROM (SELECT k, afregning.rate(calls, unit_price) AS r, round(sum(calls * unit_price), 2) AS e FROM public.rate_usage_par GROUP BY k) s'

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;
SET LOCAL max_parallel_workers_per_gather = 2;

SELECT matches(pg_temp.plan_of(:'q_total'), 'Partial Aggregate',
			   'the total is computed by a Partial Aggregate');
SELECT matches(pg_temp.plan_of(:'q_total'), 'Workers Launched: [1-9]',
			   'parallel workers were launched for the total');
SELECT matches(pg_temp.plan_of(:'q_groups'), 'Partial (Hash|Group)?Aggregate',
			   'the groups are computed by a partial aggregate');
SELECT matches(pg_temp.plan_of(:'q_groups'), 'Workers Launched: [1-9]',
			   'parallel workers were launched for the groups');
SELECT matches(pg_temp.plan_of(:'q_many'), 'Workers Launched: [1-9]',
			   'parallel workers were launched for 1000 groups');

/* run at top level (a query calling pgTAP functions is never parallel) */
SELECT total AS par_total FROM (:q_total) q \gset
SELECT groups AS par_groups FROM (:q_groups) q \gset
SELECT n AS par_n, n_equal AS par_n_equal FROM (:q_many) q \gset

SET LOCAL max_parallel_workers_per_gather = 0;

SELECT doesnt_match(pg_temp.plan_of(:'q_total'), 'Gather|Partial',
					'without workers the plan is serial');

SELECT total AS ser_total FROM (:q_total) q \gset
SELECT groups AS ser_groups FROM (:q_groups) q \gset

SELECT is(:'par_total'::numeric, 1302006523.33,
		  'parallel total equals the value worked out by hand');
SELECT is(:'par_total'::numeric, :'ser_total'::numeric,
		  'parallel total equals the serial total');
SELECT is(:'par_total'::numeric,
		  (SELECT round(sum(calls * unit_price), 2) FROM public.rate_usage_par),
		  'parallel total equals the plain numeric sum rounded once');
SELECT is(:'par_groups'::text,
		  '0:433331166.65 1:434002170.00 2:434673186.69'::text,
		  'parallel groups equal the values worked out by hand');
SELECT is(:'par_groups'::text, :'ser_groups'::text,
		  'parallel groups equal the serial groups');
SELECT is(:'par_n_equal'::bigint, 1000::bigint,
		  'all 1000 parallel groups equal the plain numeric sum rounded once');

SELECT * FROM finish();
ROLLBACK;
