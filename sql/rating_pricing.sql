--
-- Rating and per-citizen pricing: the aggregate rate(calls, unit_price),
-- the buffet price per citizen and graduated per-citizen charges.
--
-- names print the same whatever role runs the test ("$user" is in the default path)
SET search_path = afregning, public;
\set SHOW_CONTEXT never

-- rate: calls × unit price, summed exactly, rounded once per group to øre,
-- half away from zero.  4 × 0.0650 = 0.26; 1 × 0.0050 = 0.005 -> 0.01;
-- 3 × 0.0033 = 0.0099 -> 0.01 (not 3 × 0.00).
SELECT afregning.rate(calls, unit_price)
  FROM (VALUES (3::bigint, 0.0650), (1, 0.0650)) AS u(calls, unit_price);
SELECT afregning.rate(1, 0.0050);
SELECT afregning.rate(calls, unit_price)
  FROM (VALUES (1::bigint, 0.0033), (1, 0.0033), (1, 0.0033)) AS u(calls, unit_price);

-- one rounding per output line of a GROUP BY
SELECT municipality_code, afregning.rate(calls, unit_price) AS amount
  FROM (VALUES ('101', 1200::bigint, 0.0650), ('101', 35, 0.0650),
			   ('825', 7, 0.0650), ('825', 1, 0.0033)) AS u(municipality_code, calls, unit_price)
 GROUP BY municipality_code
 ORDER BY municipality_code;

-- rows with a null input are skipped, as sum() skips them: 1 × 0.0650
-- = 0.065 -> 0.07; with no other rows the result is null
SELECT afregning.rate(calls, unit_price)
  FROM (VALUES (NULL::bigint, 0.0650), (2, NULL::numeric), (1, 0.0650)) AS u(calls, unit_price);
SELECT afregning.rate(calls, unit_price) IS NULL AS only_nulls
  FROM (VALUES (NULL::bigint, 0.0650), (2, NULL::numeric)) AS u(calls, unit_price);

-- refusals
SELECT afregning.rate(-1, 0.0650);
SELECT :'LAST_ERROR_SQLSTATE';
SELECT afregning.rate(1, 0.06501);
SELECT :'LAST_ERROR_SQLSTATE';
SELECT afregning.rate(1, -0.0650);
SELECT :'LAST_ERROR_SQLSTATE';
SELECT afregning.rate(9000000000000000000, 1);
SELECT :'LAST_ERROR_SQLSTATE';

-- buffet price per citizen: pool / citizens, half away from zero
SELECT afregning.per_citizen_price(1000.00, 3, 2) AS a,
	   afregning.per_citizen_price(2.00, 3, 2) AS b,
	   afregning.per_citizen_price(11295997.26, 5822679, 2) AS c,
	   afregning.per_citizen_price(1000.50, 3, 0) AS d,
	   afregning.per_citizen_price(10.005, 3, 4) AS e,
	   afregning.per_citizen_price(-5000.00, 3, 2) AS f;

SELECT afregning.per_citizen_price(1000, 0, 2);
SELECT :'LAST_ERROR_SQLSTATE';
SELECT afregning.per_citizen_price(1000, -3, 2);
SELECT :'LAST_ERROR_SQLSTATE';
SELECT afregning.per_citizen_price(1000, 3, 5);
SELECT :'LAST_ERROR_SQLSTATE';

-- graduated charge: the infrastructure price, 25.00 kr per citizen,
-- half price (12.50) for every citizen above 150,000
SELECT name, citizens,
	   afregning.graduated_charge(citizens, '{0,150000}', '{25.00,12.50}') AS infrastructure
  FROM (VALUES ('København', 632340), ('Aarhus', 361544), ('Læsø', 1786)) AS m(name, citizens)
 ORDER BY citizens DESC;

SELECT afregning.graduated_charge(1786, '{0,150000}', '{25.00}');
SELECT :'LAST_ERROR_SQLSTATE';
SELECT afregning.graduated_charge(1786, '{100,150000}', '{25.00,12.50}');
SELECT :'LAST_ERROR_SQLSTATE';
SELECT afregning.graduated_charge(1786, '{0,150000,150000}', '{25.00,12.50,10.00}');
SELECT :'LAST_ERROR_SQLSTATE';
SELECT afregning.graduated_charge(1786, '{0,150000}', '{25.00,-12.50}');
SELECT :'LAST_ERROR_SQLSTATE';
