--
-- apportion(total, weight) OVER (...): largest-remainder (Hamilton)
-- apportionment at øre (fordeling efter største rest), SPEC §4.4 and S2.
--
-- Working, in øre: every row gets floor(|total| × w / Σw); the øre left
-- over go one each to the largest remainders, ties to the larger weight,
-- then to the row first in the window's ORDER BY.
--
-- names print the same whatever role runs the test ("$user" is in the default path)
SET search_path = afregning, public;
\set SHOW_CONTEXT never

-- The declaration: a window function, immutable like row_number(), not
-- strict (a null is an error, not a null part).
SELECT p.oid::regprocedure AS function, p.prokind, p.provolatile,
       p.proisstrict, p.proparallel, p.prorettype::regtype
FROM pg_proc AS p
WHERE p.oid = 'afregning.apportion(numeric, numeric)'::regprocedure;

-- 100.00 over 1, 1, 1: 10000 × 1/3 = 3333 r 1 each; 10000 − 9999 = 1 øre
-- left; remainders and weights tie, so the first row (A) gets it.
SELECT k, afregning.apportion(100.00, 1) OVER (ORDER BY k) AS part
FROM (VALUES ('A'), ('B'), ('C')) AS t(k)
ORDER BY k;

-- Quarterly installments of 333.33: 33333 / 4 = 8333 r 1 each; 1 øre left,
-- Q1 first.
SELECT quarter, afregning.apportion(333.33, 1) OVER (ORDER BY quarter) AS installment
FROM generate_series(1, 4) AS quarter
ORDER BY quarter;

-- A negative total is the mirror image: 2 × 1/3 = 0 r 2 each; 2 øre left
-- go to the first two rows, negated.
SELECT k, afregning.apportion(-0.02, 1) OVER (ORDER BY k) AS part
FROM (VALUES ('A'), ('B'), ('C')) AS t(k)
ORDER BY k;

-- Weights are shares that need not sum to 1 (S1): 0.5, 0.3, 0.3 are
-- 5, 3, 3 of 11. 100000 × 5/11 = 45454 r 6, 100000 × 3/11 = 27272 r 8
-- (twice); floors 99998, 2 øre left for the remainders 8 and 8 (B, C).
SELECT system_code, share,
       afregning.apportion(1000.00, share) OVER (ORDER BY system_code COLLATE "C") AS part
FROM (VALUES ('SYS_A', 0.5), ('SYS_B', 0.3), ('SYS_C', 0.3)) AS t(system_code, share)
ORDER BY system_code COLLATE "C";

-- Ties go to the larger weight before the earlier key: 0.02 over A:1, B:3
-- gives 2 × 1/4 = 0 r 2 and 2 × 3/4 = 1 r 2; 1 øre left, the remainders tie,
-- B has the larger weight.
SELECT k, w, afregning.apportion(0.02, w) OVER (ORDER BY k) AS part
FROM (VALUES ('A', 1), ('B', 3)) AS t(k, w)
ORDER BY k;

-- Then to the earlier key, byte-wise with COLLATE "C": 'B' (0x42) comes
-- before 'a' (0x61); 1 × 1/2 = 0 r 1 each, 1 øre left.
SELECT k, afregning.apportion(0.01, 1) OVER (ORDER BY k COLLATE "C") AS part
FROM (VALUES ('a'), ('B')) AS t(k)
ORDER BY k COLLATE "C";

-- The total is first rounded half away from zero to whole øre:
-- 10.005 → 10.01, 1001 / 2 = 500 r 1 each, 1 øre left to the first row;
-- −10.005 → −10.01, the mirror image.
SELECT k, afregning.apportion(10.005, 1) OVER (ORDER BY k) AS part,
       afregning.apportion(-10.005, 1) OVER (ORDER BY k) AS negative_part
FROM (VALUES ('A'), ('B')) AS t(k)
ORDER BY k;

-- Zero weights get 0.00: 100 × 1/3 = 33 r 1, 100 × 2/3 = 66 r 2; 1 øre
-- left to the remainder 2 (C).  A zero total gives 0.00 everywhere, also
-- over zero weights.
SELECT k, w,
       afregning.apportion(1.00, w) OVER (ORDER BY k) AS part,
       afregning.apportion(0, w) OVER (ORDER BY k) AS zero_total,
       afregning.apportion(0, 0) OVER (ORDER BY k) AS zero_over_zero
FROM (VALUES ('A', 0), ('B', 1), ('C', 2)) AS t(k, w)
ORDER BY k;

-- Several partitions at once, each split on its own; the window frame is
-- ignored (every row sees its whole partition).
SELECT invoice, k,
       afregning.apportion(total, 1) OVER (PARTITION BY invoice ORDER BY k
                                           ROWS BETWEEN CURRENT ROW AND CURRENT ROW) AS part
FROM (VALUES (1, 100.00, 'A'), (1, 100.00, 'B'), (1, 100.00, 'C'),
             (2, 0.05, 'A'), (2, 0.05, 'B'),
             (3, -1.00, 'A'), (3, -1.00, 'B'), (3, -1.00, 'C')) AS t(invoice, total, k)
ORDER BY invoice, k;

-- The parts always sum to the total.  1234567.89 over 1000 rows of weights
-- i % 7 + 1: weight 1 on 142 rows, 2..7 on 143 rows each, Σw = 4003.
-- 123456789 = 30841 × 4003 + 266, so weight w has quota 30841w r 266w
-- (below 4003 for w ≤ 7); Σ remainders = 266 × 4003, so 266 øre are left:
-- all 143 rows of weight 7 (r 1862) and the first 123 of weight 6 (r 1596).
-- min = 308.41 (weight 1), max = 215887 + 1 øre = 2158.88 (weight 7).
SELECT sum(part) AS total, count(*) AS parts, min(part), max(part)
FROM (SELECT afregning.apportion(1234567.89, i % 7 + 1) OVER (ORDER BY i) AS part
      FROM generate_series(1, 1000) AS i) AS s;

-- Refusals, each with its SQLSTATE.
-- 22023: a negative weight.
SELECT afregning.apportion(1.00, w) OVER ()
FROM (VALUES (1), (-1)) AS t(w);
\echo :LAST_ERROR_SQLSTATE

-- 22012: a non-zero total over zero total weight.
SELECT afregning.apportion(1.00, 0) OVER ()
FROM generate_series(1, 2);
\echo :LAST_ERROR_SQLSTATE

-- 22004: a null weight (or total) anywhere in the partition.
SELECT afregning.apportion(1.00, w) OVER ()
FROM (VALUES (1), (NULL)) AS t(w);
\echo :LAST_ERROR_SQLSTATE
SELECT afregning.apportion(NULL, 1) OVER ()
FROM generate_series(1, 2);
\echo :LAST_ERROR_SQLSTATE

-- 22023: totals that differ within a partition.
SELECT afregning.apportion(total, 1) OVER ()
FROM (VALUES (10.00), (10.005)) AS t(total);
\echo :LAST_ERROR_SQLSTATE

-- 22003: a total that does not fit 64-bit øre.
SELECT afregning.apportion(1e17, 1) OVER ();
\echo :LAST_ERROR_SQLSTATE

-- Weights of any scale or size are split exactly (SPEC S13), in numeric
-- arithmetic when they do not fit 64-bit integers at a common scale.
-- 1/3.0 and 2/3.0 (20 decimals, sum 1): 100 øre give quotas 33.33.. and
-- 66.66..; the left-over øre goes to the larger remainder: 0.33, 0.67.
SELECT k, afregning.apportion(1.00, w) OVER (ORDER BY k) AS part
FROM (VALUES ('a', 1 / 3.0), ('b', 2 / 3.0)) AS t(k, w);
-- 10^17 and 0.01 need 10^19 at scale 2: quotas 99.99.. and 0.00..,
-- remainders 10^17 - 0.99 and 1, so the øre goes to the first: 1.00, 0.00.
SELECT k, afregning.apportion(1.00, w) OVER (ORDER BY k) AS part
FROM (VALUES ('a', 1e17), ('b', 0.01)) AS t(k, w);
