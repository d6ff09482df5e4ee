/*
 * afregning benchmark -- the best settlement of a year's usage a SQL
 * developer would write in plain SQL, the opponent the extension is
 * measured against (SPEC §8).
 *
 * It gives the same lines as afregning.rated_usage(:year): route, payer,
 * service, month (per-call lines only), tariff period, unit price, calls and
 * amount rounded once per line, half away from zero, to øre (SPEC §3, §4.3,
 * S3-S5). It first hash-aggregates the year's usage on its four keys (month,
 * municipality, system, service), once, and only then routes and prices the
 * sums: joins, CASE for the routing matrix, a window function for the
 * baselines, round(). No function of the extension is called. bench/run
 * gives it a large work_mem, so that the planner hashes (in memory) rather
 * than sorts.
 *
 * Run it with psql -v year=<year>; bench/run wraps it in count(*).
 */
WITH month_tariff AS MATERIALIZED (
	/* the tariff in force in every month of the year; a valid_from inside a
	   month applies from the next month; no tariff rates at 0 */
	SELECT s.code AS service_code, m.period::date AS period, t.tariff_from,
		   coalesce(t.unit_price, 0) AS unit_price
	  FROM afregning.service s
	 CROSS JOIN generate_series(make_date(:year, 1, 1), make_date(:year, 12, 1),
								interval '1 month') AS m(period)
	  LEFT JOIN LATERAL (
			SELECT e.tariff_from, e.unit_price
			  FROM (SELECT CASE WHEN extract(day FROM t.valid_from) = 1 THEN t.valid_from
								ELSE (date_trunc('month', t.valid_from) + interval '1 month')::date
						   END AS tariff_from,
						   t.valid_from, t.unit_price
					  FROM afregning.tariff t
					 WHERE t.service_code = s.code) e
			 WHERE e.tariff_from <= m.period
			 ORDER BY e.valid_from DESC
			 LIMIT 1) t ON true
),
sums AS (
	/* the one pass: calls by the four keys of a usage row */
	SELECT u.period, u.municipality_code, u.system_code, u.service_code,
		   sum(u.calls) AS calls
	  FROM afregning.usage u
	 WHERE u.period >= make_date(:year, 1, 1) AND u.period < make_date(:year + 1, 1, 1)
	 GROUP BY u.period, u.municipality_code, u.system_code, u.service_code
),
routed AS (
	/* every sum with its route (the matrix of SPEC §3), payer and amount */
	SELECT u.period, u.service_code, t.tariff_from, t.unit_price, u.calls,
		   u.calls * t.unit_price AS amount,
		   CASE WHEN c.class IN ('udk', 'own_billing') THEN 'system'
				WHEN s.billing = 'per_call' THEN 'municipality'
				ELSE 'pool' END AS route,
		   CASE WHEN c.class IN ('udk', 'own_billing') THEN u.system_code
				WHEN s.billing = 'per_call' THEN u.municipality_code
				WHEN b.calls IS NOT NULL THEN u.system_code END AS payer_code,
		   b.calls AS baseline_calls
	  FROM sums u
	  JOIN afregning.consumer_system c ON c.code = u.system_code
	  JOIN afregning.service s ON s.code = u.service_code
	  JOIN month_tariff t ON t.service_code = u.service_code AND t.period = u.period
	  /* S4: baselines count only for monopoly-break systems on support systems */
	  LEFT JOIN afregning.baseline b
		ON b.year = :year AND b.system_code = u.system_code
	   AND b.service_code = u.service_code
	   AND c.class = 'monopoly_break' AND s.platform = 'support_system'
	   AND s.billing = 'pool'
),
cell AS (
	/* monthly sums: the baselines are filled month by month */
	SELECT period, route, payer_code, service_code, tariff_from, unit_price, baseline_calls,
		   sum(calls) AS calls, sum(amount) AS amount
	  FROM routed
	 GROUP BY period, route, payer_code, service_code, tariff_from, unit_price, baseline_calls
),
base AS (
	/* calls within the baseline: what is left of it after the earlier months */
	SELECT cell.*,
		   least(calls, greatest(0, baseline_calls - coalesce(sum(calls) OVER (
						PARTITION BY payer_code, service_code ORDER BY period
						ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS within
	  FROM cell
	 WHERE baseline_calls IS NOT NULL
),
part AS (
	SELECT route, payer_code, service_code, period, tariff_from, unit_price, calls, amount
	  FROM cell WHERE baseline_calls IS NULL
	UNION ALL
	SELECT 'system', payer_code, service_code, period, tariff_from, unit_price,
		   within, within * unit_price
	  FROM base WHERE within > 0
	UNION ALL
	SELECT 'pool', NULL, service_code, period, tariff_from, unit_price,
		   calls - within, (calls - within) * unit_price
	  FROM base WHERE calls > within
)
/* S3: per-call lines per month, pool and system lines per tariff period */
SELECT route, payer_code, service_code,
	   CASE WHEN route = 'municipality' THEN period END AS period,
	   tariff_from, unit_price, sum(calls)::bigint AS calls, round(sum(amount), 2) AS amount
  FROM part
 GROUP BY 1, 2, 3, 4, 5, 6
