/*
 * Per-citizen pricing: the buffet price per citizen (buffetpris pr. borger,
 * SPEC R2) and graduated per-citizen charges such as the infrastructure
 * price (infrastrukturpris, SPEC R11).  Exact values, rounding half away
 * from zero, every refusal with its SQLSTATE, and the contract.
 *
 * Results are compared as text, so that the scale is checked too.
 */
BEGIN;
SELECT plan(71);

/* ---- contract -------------------------------------------------------- */

SELECT has_function('afregning', 'per_citizen_price', ARRAY['numeric', 'bigint', 'integer']);
SELECT function_returns('afregning', 'per_citizen_price', ARRAY['numeric', 'bigint', 'integer'], 'numeric');
SELECT function_lang_is('afregning', 'per_citizen_price', ARRAY['numeric', 'bigint', 'integer'], 'c');
SELECT volatility_is('afregning', 'per_citizen_price', ARRAY['numeric', 'bigint', 'integer'], 'immutable');
SELECT is_strict('afregning', 'per_citizen_price', ARRAY['numeric', 'bigint', 'integer']);
SELECT has_function('afregning', 'graduated_charge', ARRAY['bigint', 'integer[]', 'numeric[]']);
SELECT function_returns('afregning', 'graduated_charge', ARRAY['bigint', 'integer[]', 'numeric[]'], 'numeric');
SELECT function_lang_is('afregning', 'graduated_charge', ARRAY['bigint', 'integer[]', 'numeric[]'], 'c');
SELECT volatility_is('afregning', 'graduated_charge', ARRAY['bigint', 'integer[]', 'numeric[]'], 'immutable');
SELECT is_strict('afregning', 'graduated_charge', ARRAY['bigint', 'integer[]', 'numeric[]']);
SELECT is(
	(SELECT string_agg(p.proparallel::text, '' ORDER BY p.oid)
	   FROM pg_proc p
	  WHERE p.oid IN ('afregning.per_citizen_price(numeric, bigint, integer)'::regprocedure,
					  'afregning.graduated_charge(bigint, integer[], numeric[])'::regprocedure)),
	'ss',
	'both pricing functions are PARALLEL SAFE'
);

/* ---- per_citizen_price: values ---------------------------------------- */

/* 1000.00 / 3 = 333.333... -> 333.33 */
SELECT is(afregning.per_citizen_price(1000.00, 3, 2)::text, '333.33', '1000.00 / 3 is 333.33');
/* 2.00 / 3 = 0.666... -> 0.67 */
SELECT is(afregning.per_citizen_price(2.00, 3, 2)::text, '0.67', '2.00 / 3 is 0.67');
/* 1.00 / 8 = 0.125: half away from zero -> 0.13 */
SELECT is(afregning.per_citizen_price(1.00, 8, 2)::text, '0.13', '0.125 rounds half away from zero to 0.13');
/* 0.05 / 10 = 0.005 -> 0.01 */
SELECT is(afregning.per_citizen_price(0.05, 10, 2)::text, '0.01', '0.005 rounds to 0.01');
/* 5822679 × 1.94 = 11645358 - 349360.74 = 11295997.26, so the price is exactly 1.94 */
SELECT is(afregning.per_citizen_price(11295997.26, 5822679, 2)::text, '1.94',
		  '11295997.26 / 5822679 is 1.94 (the 2019 price)');
SELECT is(afregning.per_citizen_price(11295997.26, 5822679, 2),
		  round(11295997.26 / 5822679, 2),
		  'the same as numeric division rounded to 2 decimals');
SELECT is(afregning.per_citizen_price(11295997.26, 5822679, 4)::text, '1.9400',
		  'the result has exactly the scale asked for');
/* 11295997.27 / 5822679 = 1.94 + 0.01 / 5822679 = 1.9400000017... -> 1.9400 */
SELECT is(afregning.per_citizen_price(11295997.27, 5822679, 4)::text, '1.9400',
		  'one øre more does not move a 4-decimal price');
/* 1000 / 3 at 4 decimals: 333.3333 */
SELECT is(afregning.per_citizen_price(1000, 3, 4)::text, '333.3333', 'four decimals');
/* 2 / 3 at 3 decimals: 0.6666... -> 0.667 */
SELECT is(afregning.per_citizen_price(2, 3, 3)::text, '0.667', 'three decimals');
/* 1000 / 3 at 1 decimal: 333.33... -> 333.3 */
SELECT is(afregning.per_citizen_price(1000, 3, 1)::text, '333.3', 'one decimal');
/* 1000.50 / 3 = 333.5 exactly: half away from zero at 0 decimals -> 334 */
SELECT is(afregning.per_citizen_price(1000.50, 3, 0)::text, '334', 'whole kroner, 333.5 -> 334');
/*
 * The pool is rounded to whole øre first: 10.005 -> 10.01, / 3 = 3.33666...
 * -> 3.3367 (dividing the unrounded pool would give 3.3350)
 */
SELECT is(afregning.per_citizen_price(10.005, 3, 4)::text, '3.3367', 'the pool is rounded to øre first');
/* 0.0049 rounds to a pool of 0.00: price 0 */
SELECT is(afregning.per_citizen_price(0.0049, 1, 2)::text, '0.00', 'a pool under half an øre is 0.00');
/* R2: a negative pool gives price 0 */
SELECT is(afregning.per_citizen_price(-5000.00, 3, 2)::text, '0.00', 'a negative pool gives 0.00');
SELECT is(afregning.per_citizen_price(0, 3, 0)::text, '0', 'a zero pool gives 0 at scale 0');
/* the largest pool, (2^63 - 1) øre, over one citizen, exact at 4 decimals */
SELECT is(afregning.per_citizen_price(92233720368547758.07, 1, 4)::text, '92233720368547758.0700',
		  'the largest pool divides exactly');
SELECT is(afregning.per_citizen_price(NULL, 3, 2), NULL::numeric, 'a null pool gives null (STRICT)');

/* ---- per_citizen_price: refusals -------------------------------------- */

SELECT throws_ok($$SELECT afregning.per_citizen_price(1000, 0, 2)$$,
				 '22012', 'no citizens to divide the pool among', 'no citizens: division by zero');
SELECT throws_ok($$SELECT afregning.per_citizen_price(0, 0, 2)$$,
				 '22012', 'no citizens to divide the pool among', 'no citizens, also for a zero pool');
SELECT throws_ok($$SELECT afregning.per_citizen_price(1000, -1, 2)$$,
				 '22023', 'citizens must not be negative', 'negative citizens are refused');
SELECT throws_ok($$SELECT afregning.per_citizen_price(1000, 3, -1)$$,
				 '22023', 'price decimals must be between 0 and 4', 'decimals below 0 are refused');
SELECT throws_ok($$SELECT afregning.per_citizen_price(1000, 3, 5)$$,
				 '22023', 'price decimals must be between 0 and 4', 'decimals above 4 are refused');
SELECT throws_ok($$SELECT afregning.per_citizen_price('NaN', 3, 2)$$,
				 '22023', 'pool must be a finite number', 'a NaN pool is refused');
SELECT throws_ok($$SELECT afregning.per_citizen_price('-Infinity', 3, 2)$$,
				 '22023', 'pool must be a finite number', 'an infinite pool is refused');
/* 92233720368547758.08 DKK is 2^63 øre */
SELECT throws_ok($$SELECT afregning.per_citizen_price(92233720368547758.08, 1, 2)$$,
				 '22003', 'pool is out of range', 'a pool beyond 64 bits of øre is out of range');

/* ---- graduated_charge: values ----------------------------------------- */

/*
 * The infrastructure price: 25.00 kr per citizen, 12.50 above 150,000.
 * København, 632,340 citizens:
 *   150,000 × 25.00 = 3,750,000.00
 *   482,340 × 12.50 = 6,029,250.00
 *   total             9,779,250.00
 */
SELECT is(afregning.graduated_charge(632340, '{0,150000}', '{25.00,12.50}')::text, '9779250.00',
		  'København: 9,779,250.00');
/* Læsø, 1,786 citizens: 1,786 × 25.00 = 44,650.00 */
SELECT is(afregning.graduated_charge(1786, '{0,150000}', '{25.00,12.50}')::text, '44650.00',
		  'Læsø: 44,650.00');
/* exactly at the boundary: 150,000 × 25.00 = 3,750,000.00 */
SELECT is(afregning.graduated_charge(150000, '{0,150000}', '{25.00,12.50}')::text, '3750000.00',
		  'the 150,000th citizen is still at full price');
/* one above: 3,750,000.00 + 12.50 */
SELECT is(afregning.graduated_charge(150001, '{0,150000}', '{25.00,12.50}')::text, '3750012.50',
		  'the 150,001st citizen is at half price');
SELECT is(afregning.graduated_charge(0, '{0,150000}', '{25.00,12.50}')::text, '0.00',
		  'no citizens, 0.00');
/* one tier: 5,000 × 4.80 = 24,000.00 */
SELECT is(afregning.graduated_charge(5000, '{0}', '{4.80}')::text, '24000.00',
		  'a single open-ended tier');
/* 5 citizens over tiers from 0, 3, 7 at 1, 2, 3: 3 × 1 + 2 × 2 = 7.00 */
SELECT is(afregning.graduated_charge(5, '{0,3,7}', '{1,2,3}')::text, '7.00',
		  'a count inside a middle tier');
/*
 * 10 citizens over tiers from 0, 3, 7 at 0.0001, 0.0005, 0.0015:
 * 3 × 0.0001 + 4 × 0.0005 + 3 × 0.0015 = 0.0003 + 0.0020 + 0.0045 = 0.0068
 * rounded once -> 0.01 (rounding each tier would give 0.00)
 */
SELECT is(afregning.graduated_charge(10, '{0,3,7}', '{0.0001,0.0005,0.0015}')::text, '0.01',
		  'the tiers are summed exactly and rounded once');
/* 1 × 0.0050 = 0.005 -> 0.01; 1 × 0.0049 -> 0.00 */
SELECT is(afregning.graduated_charge(1, '{0}', '{0.0050}')::text, '0.01', 'half an øre rounds up');
SELECT is(afregning.graduated_charge(1, '{0}', '{0.0049}')::text, '0.00', 'less than half an øre rounds down');
/* a free tier caps the charge: 150,000 × 25.00 = 3,750,000.00 */
SELECT is(afregning.graduated_charge(200000, '{0,150000}', '{25.00,0}')::text, '3750000.00',
		  'a zero rate tier adds nothing');
/* array bounds do not matter, only the order of the elements */
SELECT is(afregning.graduated_charge(632340, '[0:1]={0,150000}', '[5:6]={25.00,12.50}')::text, '9779250.00',
		  'arrays with other lower bounds');
/* 9223372036854775807 × 0.0001 = 922337203685477.5807 -> 922337203685477.58 */
SELECT is(afregning.graduated_charge(9223372036854775807, '{0}', '{0.0001}')::text, '922337203685477.58',
		  'the largest bigint count of citizens is exact');
SELECT is(afregning.graduated_charge(NULL, '{0}', '{1}'), NULL::numeric, 'null citizens give null (STRICT)');

/* ---- graduated_charge: refusals ---------------------------------------- */

SELECT throws_ok($$SELECT afregning.graduated_charge(-1, '{0,150000}', '{25.00,12.50}')$$,
				 '22023', 'citizens must not be negative', 'negative citizens are refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{}', '{}')$$,
				 '22023', 'from_citizens must not be empty', 'an empty schedule is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0}', '{}')$$,
				 '22023', 'rates must not be empty', 'empty rates are refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{{0,150000},{200000,300000}}', '{25.00,12.50}')$$,
				 '22023', 'from_citizens must be a one-dimensional array', 'a two-dimensional from_citizens is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000}', '{{25.00},{12.50}}')$$,
				 '22023', 'rates must be a one-dimensional array', 'two-dimensional rates are refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,NULL}', '{25.00,12.50}')$$,
				 '22023', 'from_citizens must not contain nulls', 'a null tier start is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000}', '{25.00,NULL}')$$,
				 '22023', 'rates must not contain nulls', 'a null rate is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000}', '{25.00}')$$,
				 '22023', 'from_citizens and rates must have the same length', 'arrays of different lengths are refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{1,150000}', '{25.00,12.50}')$$,
				 '22023', 'the first tier must start at 0 citizens', 'a first tier above 0 is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000,150000}', '{25.00,12.50,10.00}')$$,
				 '22023', 'tier starts must increase strictly', 'a repeated tier start is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000,100000}', '{25.00,12.50,10.00}')$$,
				 '22023', 'tier starts must increase strictly', 'a decreasing tier start is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000}', '{25.00,-12.50}')$$,
				 '22023', 'rate of tier 2 must not be negative',
				 'a negative rate is refused, also in a tier the count does not reach');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000}', '{25.00,12.50001}')$$,
				 '22023', 'rate of tier 2 has more than 4 decimal places', 'a rate with a fifth decimal is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000}', '{NaN,12.50}')$$,
				 '22023', 'rate of tier 1 must be a finite number', 'a NaN rate is refused');
SELECT throws_ok($$SELECT afregning.graduated_charge(1786, '{0,150000}', '{25.00,Infinity}')$$,
				 '22023', 'rate of tier 2 must be a finite number', 'an infinite rate is refused');
/* 922337203685477.5808 × 10^4 = 2^63 */
SELECT throws_ok($$SELECT afregning.graduated_charge(1, '{0}', '{922337203685477.5808}')$$,
				 '22003', 'rate of tier 1 is out of range', 'a rate beyond 64 bits of 1/10000 DKK is out of range');
/* 9223372036854775807 × 1.00 = 922337203685477580700 øre > 2^63 - 1 */
SELECT throws_ok($$SELECT afregning.graduated_charge(9223372036854775807, '{0}', '{1.00}')$$,
				 '22003', 'graduated charge is out of range', 'a charge beyond 64 bits of øre is out of range');

/* ---- a long tier array can be cancelled ------------------------------
 * 1,000,000 tiers of 10 citizens at 1.0000 DKK each (30,000,000 citizens:
 * 10,000,000 in the tiers below the last, 20,000,000 in the last, all at
 * 1.00 = 30000000.00).  Validating them takes seconds; with a statement
 * timeout of 50 ms the call must be cancelled (57014) while it runs, not
 * after: a cancel that waited for the end would take about four times as
 * long as the same call over a quarter of the tiers.
 */
CREATE TEMP TABLE tiers AS
SELECT array(SELECT generate_series(0, 9999990, 10)) AS f,
	   array_fill(1.0000::numeric, ARRAY[1000000]) AS r;

CREATE FUNCTION pg_temp.timed(p_sql text, OUT state text, OUT ms numeric)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	EXECUTE p_sql;
	state := 'completed';
	ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
EXCEPTION WHEN query_canceled THEN
	state := SQLSTATE;
	ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

SELECT is((SELECT afregning.graduated_charge(30000000, f[1:1000], r[1:1000])::text FROM tiers), '30000000.00',
		  'fixture: the first 1,000 tiers over 30,000,000 citizens charge 30000000.00');
SET LOCAL statement_timeout = '50ms';
CREATE TEMP TABLE cancelled AS
SELECT * FROM pg_temp.timed('SELECT afregning.graduated_charge(30000000, f, r) FROM tiers');
SET LOCAL statement_timeout = 0;
CREATE TEMP TABLE quarter AS
SELECT * FROM pg_temp.timed('SELECT afregning.graduated_charge(30000000, f[1:250000], r[1:250000]) FROM tiers');
SELECT is((SELECT state FROM cancelled), '57014',
		  'graduated_charge over 1,000,000 tiers is cancelled by statement_timeout (57014)');
SELECT cmp_ok((SELECT ms FROM cancelled), '<', 2 * (SELECT ms FROM quarter),
			  'it is cancelled while it runs: sooner than twice the time of a quarter of the tiers');

SELECT * FROM finish();
ROLLBACK;
