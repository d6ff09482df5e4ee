/*
 * apportion(total, weight) OVER (...): largest-remainder (Hamilton)
 * apportionment at øre, SPEC §4.4 and S2.
 *
 * Expected values are worked out by hand in øre: every row gets
 * floor(|total| × w / Σw) with remainder |total| × w mod Σw; the øre left
 * over go one each to the largest remainders, ties to the larger weight,
 * then to the row first in the window's ORDER BY; a negative total is the
 * mirror image.  Parts are compared as text so that the scale (two
 * decimals) is checked too.
 */
BEGIN;
SELECT plan(47);

/* ---- contract ------------------------------------------------------ */

SELECT has_function('afregning', 'apportion', ARRAY['numeric', 'numeric'],
	'apportion(numeric, numeric) exists');
SELECT is_window('afregning', 'apportion', ARRAY['numeric', 'numeric'],
	'apportion is a window function');
SELECT function_returns('afregning', 'apportion', ARRAY['numeric', 'numeric'],
	'numeric', 'apportion returns numeric');
SELECT volatility_is('afregning', 'apportion', ARRAY['numeric', 'numeric'],
	'immutable', 'apportion is immutable, like row_number()');
SELECT isnt_strict('afregning', 'apportion', ARRAY['numeric', 'numeric'],
	'apportion is not strict: nulls are refused, not passed through');
SELECT function_lang_is('afregning', 'apportion', ARRAY['numeric', 'numeric'],
	'c', 'apportion is written in C');

/* ---- worked examples ----------------------------------------------- */

/* 10000 × 1/3 = 3333 r 1 each; 1 øre left; full tie, first key A */
SELECT is(
	ARRAY(SELECT afregning.apportion(100.00, 1) OVER (ORDER BY k)::text
		  FROM (VALUES ('A'), ('B'), ('C')) AS t(k) ORDER BY k),
	ARRAY['33.34', '33.33', '33.33'],
	'100.00 over 1, 1, 1 is 33.34, 33.33, 33.33');

/* 33333 / 4 = 8333 r 1 each; 1 øre left to Q1 */
SELECT is(
	ARRAY(SELECT afregning.apportion(333.33, 1) OVER (ORDER BY q)::text
		  FROM generate_series(1, 4) AS q ORDER BY q),
	ARRAY['83.34', '83.33', '83.33', '83.33'],
	'333.33 in four quarterly installments is 83.34, 83.33, 83.33, 83.33');

/* mirror of 2 × 1/3 = 0 r 2 each; 2 øre left to the first two rows */
SELECT is(
	ARRAY(SELECT afregning.apportion(-0.02, 1) OVER (ORDER BY k)::text
		  FROM (VALUES ('A'), ('B'), ('C')) AS t(k) ORDER BY k),
	ARRAY['-0.01', '-0.01', '0.00'],
	'-0.02 over 1:1:1 is the mirror image: -0.01, -0.01, 0.00');

/* mirror of 100 / 3 = 33 r 1 each; 1 øre left to A */
SELECT is(
	ARRAY(SELECT afregning.apportion(-1.00, 1) OVER (ORDER BY k)::text
		  FROM (VALUES ('A'), ('B'), ('C')) AS t(k) ORDER BY k),
	ARRAY['-0.34', '-0.33', '-0.33'],
	'-1.00 over 1:1:1 is -0.34, -0.33, -0.33');

/* 2 × 1/4 = 0 r 2, 2 × 3/4 = 1 r 2; 1 øre left; remainders tie, B heavier */
SELECT is(
	ARRAY(SELECT afregning.apportion(0.02, w) OVER (ORDER BY k)::text
		  FROM (VALUES ('A', 1), ('B', 3)) AS t(k, w) ORDER BY k),
	ARRAY['0.00', '0.02'],
	'a tie in remainders goes to the larger weight before the earlier key');

/*
 * 3 øre over A:2, B:1, C:2 (Σ 5): A 6/5 = 1 r 1, B 3/5 = 0 r 3, C 1 r 1;
 * floors 2, 1 øre left to B (the largest remainder, although it has the
 * smallest weight; ranking by weight first would give A 0.02, B 0.00).
 */
SELECT is(
	ARRAY(SELECT afregning.apportion(0.03, w) OVER (ORDER BY k)::text
		  FROM (VALUES ('A', 2), ('B', 1), ('C', 2)) AS t(k, w) ORDER BY k),
	ARRAY['0.01', '0.01', '0.01'],
	'the largest remainder wins before the larger weight');

/* 1 × 1/2 = 0 r 1 each; 1 øre left; rows come as B, A; A is the earlier key */
SELECT is(
	ARRAY(SELECT k || '=' || afregning.apportion(0.01, 1) OVER (ORDER BY k COLLATE "C")
		  FROM (VALUES ('B'), ('A')) AS t(k) ORDER BY k COLLATE "C"),
	ARRAY['A=0.01', 'B=0.00'],
	'a full tie goes to the earlier key in the window order');

/* byte-wise: 'B' (0x42) sorts before 'a' (0x61) in COLLATE "C" */
SELECT is(
	ARRAY(SELECT k || '=' || afregning.apportion(0.01, 1) OVER (ORDER BY k COLLATE "C")
		  FROM (VALUES ('a'), ('B')) AS t(k) ORDER BY k COLLATE "C"),
	ARRAY['B=0.01', 'a=0.00'],
	'ORDER BY key COLLATE "C" breaks ties in byte-wise key order');

/* DESC order: the earlier row in the window's ORDER BY is C */
SELECT is(
	ARRAY(SELECT k || '=' || afregning.apportion(100.00, 1) OVER (ORDER BY k DESC)
		  FROM (VALUES ('A'), ('B'), ('C')) AS t(k) ORDER BY k),
	ARRAY['A=33.33', 'B=33.33', 'C=33.34'],
	'the earlier row is earlier in the window ORDER BY, also when descending');

/*
 * Unnormalised shares 0.3333 × 3 (Σ 0.9999, scale 4 → 3333 of 9999):
 * 10000 × 3333 / 9999 = 3333 r 3333 each; 1 øre left to A.
 */
SELECT is(
	ARRAY(SELECT afregning.apportion(100.00, 0.3333) OVER (ORDER BY k)::text
		  FROM (VALUES ('A'), ('B'), ('C')) AS t(k) ORDER BY k),
	ARRAY['33.34', '33.33', '33.33'],
	'shares 0.3333, 0.3333, 0.3333 are normalised by their sum 0.9999');

/* 0.3333, 0.6667 of 1.00: 100 × 3333/10000 = 33 r 3300, 66 r 6700; B */
SELECT is(
	ARRAY(SELECT afregning.apportion(1.00, w) OVER (ORDER BY k)::text
		  FROM (VALUES ('A', 0.3333), ('B', 0.6667)) AS t(k, w) ORDER BY k),
	ARRAY['0.33', '0.67'],
	'1.00 over shares 0.3333, 0.6667 is 0.33, 0.67');

/*
 * 0.5, 0.3, 0.3 are 5, 3, 3 of 11: 100000 × 5/11 = 45454 r 6,
 * 100000 × 3/11 = 27272 r 8 twice; 2 øre left to B and C.
 */
SELECT is(
	ARRAY(SELECT afregning.apportion(1000.00, w) OVER (ORDER BY k)::text
		  FROM (VALUES ('A', 0.5), ('B', 0.3), ('C', 0.3)) AS t(k, w) ORDER BY k),
	ARRAY['454.54', '272.73', '272.73'],
	'1000.00 over shares 0.5, 0.3, 0.3 (sum 1.1) is 454.54, 272.73, 272.73');

SELECT is(
	ARRAY(SELECT afregning.apportion(1000.00, w) OVER (ORDER BY k)::text
		  FROM (VALUES ('A', 50), ('B', 30), ('C', 30)) AS t(k, w) ORDER BY k),
	ARRAY['454.54', '272.73', '272.73'],
	'only the ratios of the weights matter: 50, 30, 30 gives the same');

/* mixed scales 1 and 0.5 → 10 and 5 of 15: 1000/15 = 66 r 10, 500/15 = 33 r 5 */
SELECT is(
	ARRAY(SELECT afregning.apportion(1.00, w) OVER (ORDER BY k)::text
		  FROM (VALUES ('A', 1), ('B', 0.50)) AS t(k, w) ORDER BY k),
	ARRAY['0.67', '0.33'],
	'weights of different scales are brought to a common scale');

/* 10.005 → 10.01 (half away from zero); 1001 / 2 = 500 r 1; A */
SELECT is(
	ARRAY(SELECT afregning.apportion(10.005, 1) OVER (ORDER BY k)::text
		  FROM (VALUES ('A'), ('B')) AS t(k) ORDER BY k),
	ARRAY['5.01', '5.00'],
	'a total of 10.005 is first rounded to 10.01');

SELECT is(
	ARRAY(SELECT afregning.apportion(-10.005, 1) OVER (ORDER BY k)::text
		  FROM (VALUES ('A'), ('B')) AS t(k) ORDER BY k),
	ARRAY['-5.01', '-5.00'],
	'a total of -10.005 is first rounded to -10.01');

/* 100 × 1/3 = 33 r 1, 100 × 2/3 = 66 r 2; 1 øre left to C */
SELECT is(
	ARRAY(SELECT afregning.apportion(1.00, w) OVER (ORDER BY k)::text
		  FROM (VALUES ('A', 0), ('B', 1), ('C', 2)) AS t(k, w) ORDER BY k),
	ARRAY['0.00', '0.33', '0.67'],
	'a zero weight gets 0.00');

SELECT is(
	ARRAY(SELECT afregning.apportion(0, w) OVER (ORDER BY k)::text
		  FROM (VALUES ('A', 0), ('B', 1), ('C', 2)) AS t(k, w) ORDER BY k),
	ARRAY['0.00', '0.00', '0.00'],
	'a zero total gives 0.00 to every row');

SELECT is(
	ARRAY(SELECT afregning.apportion(0.00, 0) OVER ()::text
		  FROM generate_series(1, 3)),
	ARRAY['0.00', '0.00', '0.00'],
	'a zero total over zero weights gives 0.00 to every row');

/* 0.004 rounds to 0.00: a zero total, so zero weights are no error */
SELECT is(
	ARRAY(SELECT afregning.apportion(0.004, 0) OVER ()::text
		  FROM generate_series(1, 2)),
	ARRAY['0.00', '0.00'],
	'a total that rounds to 0.00 over zero weights gives 0.00');

/* integer arguments are cast; 100 → 100.00 */
SELECT is(
	ARRAY(SELECT afregning.apportion(100, 1) OVER (ORDER BY q)::text
		  FROM generate_series(1, 3) AS q ORDER BY q),
	ARRAY['33.34', '33.33', '33.33'],
	'integer total and weights work and give two decimals');

/* invoice 1: 33.34, 33.33, 33.33; 2: 5 / 2 = 2 r 1, A; 3: mirror of 100 / 3 */
SELECT is(
	ARRAY(SELECT invoice || k || '=' ||
				 afregning.apportion(total, 1) OVER (PARTITION BY invoice ORDER BY k)
		  FROM (VALUES (1, 100.00, 'A'), (2, 0.05, 'B'), (3, -1.00, 'C'),
					   (1, 100.00, 'B'), (2, 0.05, 'A'), (3, -1.00, 'A'),
					   (1, 100.00, 'C'), (3, -1.00, 'B')) AS t(invoice, total, k)
		  ORDER BY invoice, k),
	ARRAY['1A=33.34', '1B=33.33', '1C=33.33', '2A=0.03', '2B=0.02',
		  '3A=-0.34', '3B=-0.33', '3C=-0.33'],
	'several partitions are split each on its own');

/* the frame is ignored: every row sees its whole partition */
SELECT is(
	ARRAY(SELECT afregning.apportion(333.33, 1)
				 OVER (ORDER BY q ROWS BETWEEN CURRENT ROW AND CURRENT ROW)::text
		  FROM generate_series(1, 4) AS q ORDER BY q),
	ARRAY['83.34', '83.33', '83.33', '83.33'],
	'the window frame does not narrow the split');

/* two calls over one window keep their own partition state */
SELECT is(
	ARRAY(SELECT afregning.apportion(100.00, 1) OVER w || '/' ||
				 afregning.apportion(-0.02, 1) OVER w
		  FROM generate_series(1, 3) AS q WINDOW w AS (ORDER BY q) ORDER BY q),
	ARRAY['33.34/-0.01', '33.33/-0.01', '33.33/0.00'],
	'two apportion calls over the same window do not mix');

/* ---- a partition of 100,000 rows ----------------------------------- */

/*
 * Weights (7919 i mod 1000) / 100: 0.00 .. 9.99, zero on 100 rows, at a
 * common scale of 2 once the division's trailing zeros are ignored.
 */
CREATE TEMP TABLE big ON COMMIT DROP AS
SELECT i AS k, ((i * 7919) % 1000) / 100.0 AS w
FROM generate_series(1, 100000) AS i;

CREATE TEMP TABLE big_part ON COMMIT DROP AS
SELECT k, w, afregning.apportion(9876543.21, w) OVER (ORDER BY k) AS part
FROM big;

SELECT is((SELECT sum(part) FROM big_part), 9876543.21,
	'the parts of a 100,000-row partition sum exactly to the total');

SELECT is(
	(SELECT count(*) FROM big_part
	 WHERE abs(part - 9876543.21 * w / (SELECT sum(w) FROM big)) >= 0.01
		OR scale(part) <> 2),
	0::bigint,
	'every part is within one øre of its exact quota and has two decimals');

/*
 * An independent reference in SQL: weights times 100 are integers;
 * floor and remainder with div/mod, left-over øre by row_number over
 * (remainder desc, weight desc, key).
 */
SELECT is(
	(WITH q AS (
		SELECT k, w * 100 AS wi, sum(w * 100) OVER () AS sw FROM big
	 ), f AS (
		SELECT k, wi, div(987654321 * wi, sw) AS fl, mod(987654321 * wi, sw) AS rem
		FROM q
	 ), r AS (
		SELECT k, fl, rem,
			   row_number() OVER (ORDER BY rem DESC, wi DESC, k) AS rn,
			   987654321 - sum(fl) OVER () AS leftover
		FROM f
	 ), ref AS (
		SELECT k, (fl + CASE WHEN rem > 0 AND rn <= leftover THEN 1 ELSE 0 END) / 100 AS part
		FROM r
	 )
	 SELECT count(*) FROM ref FULL JOIN big_part AS b USING (k)
	 WHERE ref.part IS DISTINCT FROM b.part),
	0::bigint,
	'every part of the 100,000-row partition equals an independent SQL computation');

SELECT is((SELECT count(*) FROM big_part WHERE w = 0 AND part <> 0), 0::bigint,
	'the zero weights of the 100,000-row partition get 0.00');

/*
 * O(n log n): well under a second here; an O(n²) ranking of 100,000 rows
 * would need about 10^10 steps.
 */
SELECT performs_ok(
	$$SELECT sum(p) FROM (SELECT afregning.apportion(9876543.21, w) OVER (ORDER BY k) AS p FROM big) AS s$$,
	10000,
	'a 100,000-row partition is apportioned in under 10 seconds');

/* ---- refusals ------------------------------------------------------ */

SELECT throws_ok(
	$$SELECT afregning.apportion(1.00, w) OVER () FROM (VALUES (1), (-1)) AS t(w)$$,
	'22023', 'apportion weight must not be negative',
	'a negative weight is refused with 22023');

SELECT throws_ok(
	$$SELECT afregning.apportion(1.00, 0) OVER () FROM generate_series(1, 3)$$,
	'22012', 'cannot apportion a non-zero total over a total weight of zero',
	'a non-zero total over zero total weight is refused with 22012');

SELECT throws_ok(
	$$SELECT afregning.apportion(1.00, w) OVER () FROM (VALUES (1), (2), (NULL)) AS t(w)$$,
	'22004', 'apportion weight must not be null',
	'a null weight anywhere in the partition is refused with 22004');

SELECT throws_ok(
	$$SELECT afregning.apportion(total, 1) OVER () FROM (VALUES (1.00), (NULL)) AS t(total)$$,
	'22004', NULL,
	'a null total anywhere in the partition is refused with 22004');

SELECT throws_ok(
	$$SELECT afregning.apportion(total, 1) OVER () FROM (VALUES (10.00), (10.01)) AS t(total)$$,
	'22023', 'apportion total must be the same on every row of the window partition',
	'totals that differ within a partition are refused with 22023');

SELECT throws_ok(
	$$SELECT afregning.apportion(1.00, 'NaN') OVER ()$$,
	'22023', 'apportion weight must be a finite number',
	'a NaN weight is refused with 22023');

SELECT throws_ok(
	$$SELECT afregning.apportion('Infinity', 1) OVER ()$$,
	'22023', NULL,
	'an infinite total is refused with 22023');

SELECT throws_ok(
	$$SELECT afregning.apportion(1e17, 1) OVER ()$$,
	'22003', 'apportion total is out of range',
	'a total beyond 64-bit øre is refused with 22003');

/* weights that do not fit 64 bits are split exactly in numeric (SPEC S13) */
SELECT is(
	(SELECT afregning.apportion(1.00, 1e19) OVER ()),
	1.00::numeric,
	'a weight beyond 64 bits takes the whole total when alone');

/* 1/3.0 = 0.33333333333333333333 and 2/3.0 = 0.66666666666666666667 sum to 1:
 * 100 øre -> floors 33 and 66, remainders 0.33.. and 0.66..: the øre goes to b */
SELECT results_eq(
	$$SELECT k, afregning.apportion(1.00, w) OVER (ORDER BY k) FROM (VALUES ('a', 1 / 3.0), ('b', 2 / 3.0)) AS t(k, w)$$,
	$$VALUES ('a', 0.33), ('b', 0.67)$$,
	'weights with 20 decimals (1/3.0, 2/3.0) are split exactly: 0.33, 0.67');

/* 10^17 and 0.01 at scale 2 need 10^19: floors 99 and 0 øre, remainders
 * 10^17 - 0.99 and 1, so the left-over øre goes to the first row */
SELECT results_eq(
	$$SELECT afregning.apportion(1.00, w) OVER (ORDER BY w DESC) FROM (VALUES (1e17), (0.01)) AS t(w)$$,
	$$VALUES (1.00), (0.00)$$,
	'weights that do not fit 64 bits at their common scale are split exactly');

/* weights are never rounded: 1, 1 + 10^-20, 1 over 1.00 gives quotas
 * 100/(3 + e) for rows 1 and 3 and 100(1 + e)/(3 + e) for row 2, all with
 * floor 33; row 2 has the largest remainder and takes the left-over øre
 * (weights rounded to 18 decimals would tie, and row 1 would get it) */
SELECT results_eq(
	$$SELECT afregning.apportion(1.00, w) OVER (ORDER BY k)
		FROM (VALUES (1, 1::numeric), (2, 1 + 1e-20), (3, 1)) AS t(k, w)$$,
	$$VALUES (0.33), (0.34), (0.33)$$,
	'a weight larger by 10^-20 wins the left-over øre: weights are not rounded');

SELECT * FROM finish();
ROLLBACK;
