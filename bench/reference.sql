/*
 * afregning benchmark -- reference data and the usage generator
 *
 * Loads, through the extension's input tables, a year's worth of the things
 * usage refers to: the 98 municipalities with their population, 59 consumer
 * systems of every class, 20 services (one per-call service, pool services on
 * Serviceplatformen and the support systems, development-pool services,
 * services without a tariff), tariffs with a change in the middle of each
 * year, and a few cost entries. It also creates, in schema bench, the
 * (system, service) pairs that usage is generated for and the function that
 * generates it.
 *
 * Two shapes of data (psql variable wide, true or false):
 *   narrow: 59 systems, 20 services, 269 (system, service) pairs making
 *           calls; a few tens of thousands of month × system × service ×
 *           per-call municipality keys a year;
 *   wide:   25 systems, 40 services (4 of them per-call), about 350 pairs,
 *           so 98 municipalities × the pairs × 12 months are about 0.4M
 *           month × municipality × system × service keys a year.
 *
 * psql variables: datadir (directory of kommuner.csv), year and small_year
 * (the measured year and the year used for the memory comparison), wide.
 */

\set ON_ERROR_STOP 1

BEGIN;

CREATE SCHEMA bench;

CREATE TEMP TABLE bench_kommune (
	kommunekode	text NOT NULL,
	navn		text NOT NULL,
	region		text NOT NULL,
	folketal	integer NOT NULL
) ON COMMIT DROP;

\set bench_csv :datadir '/kommuner.csv'
\set bench_copy '\\copy bench_kommune FROM ' :'bench_csv' ' WITH (FORMAT csv, HEADER true, ENCODING ''UTF8'')'
:bench_copy

INSERT INTO afregning.municipality (code, name, region)
SELECT kommunekode, navn, region::afregning.region FROM bench_kommune ORDER BY kommunekode;

/* inserting a year creates its usage partition */
INSERT INTO afregning.billing_year (year) VALUES (:year), (:small_year);

INSERT INTO afregning.population (year, municipality_code, citizens)
SELECT y, kommunekode, folketal
  FROM bench_kommune CROSS JOIN (VALUES (:year), (:small_year)) AS v(y);

/*
 * Consumer systems: the three monopoly-break systems, UDK's four systems,
 * the three systems with their own billing, one KOMBIT project and 48
 * municipal systems (12 suppliers in each of four areas); 14 in the wide
 * shape (25 systems in all).
 */
INSERT INTO afregning.consumer_system (code, name, class) VALUES
	('KY',          'Kommunernes Ydelsessystem',             'monopoly_break'),
	('KSD',         'Kommunernes Sygedagpengesystem',        'monopoly_break'),
	('SAPA',        'Sammenhængende Partsoverblik',          'monopoly_break'),
	('UDK_BARSEL',  'Barsel (Udbetaling Danmark)',           'udk'),
	('UDK_FAMYD',   'Familieydelser (Udbetaling Danmark)',   'udk'),
	('UDK_PENSION', 'Pension (Udbetaling Danmark)',          'udk'),
	('UDK_BOLIG',   'Boligstøtte (Udbetaling Danmark)',      'udk'),
	('NEMREFUSION', 'Nemrefusion',                           'own_billing'),
	('PRAKSYS',     'Praksys',                               'own_billing'),
	('KOEREPROEVE', 'Køreprøvebooking',                      'own_billing'),
	('FLIS',        'Fælleskommunalt Ledelsesinformationssystem', 'kombit_project');
INSERT INTO afregning.consumer_system (code, name, class)
SELECT format('%s_%s', area, lpad(n::text, 2, '0')),
	   format('%s-system %s', initcap(area), n), 'municipal'
  FROM unnest(ARRAY['ESDH', 'OMSORG', 'BYG', 'SOCIAL']) AS area
 CROSS JOIN generate_series(1, 12) AS n
 WHERE NOT :wide OR n <= (CASE WHEN area IN ('ESDH', 'OMSORG') THEN 4 ELSE 3 END);

INSERT INTO afregning.service (code, name, platform, funding, billing) VALUES
	('CPR',             'CPR-servicen',                 'serviceplatform', 'ordered',          'per_call'),
	('CVR_OPSLAG',      'CVR opslag',                   'serviceplatform', 'ordered',          'pool'),
	('DIGITAL_POST',    'Digital Post',                 'serviceplatform', 'ordered',          'pool'),
	('FJERNPRINT',      'Fjernprint',                   'serviceplatform', 'ordered',          'pool'),
	('SF1520',          'CPR-replika opslag',           'serviceplatform', 'ordered',          'pool'),
	('EINDKOMST',       'eIndkomst opslag',             'serviceplatform', 'ordered',          'pool'),
	('OIS_BBR',         'OIS/BBR ejendomsdata',         'serviceplatform', 'ordered',          'pool'),
	('SKAT_OPSLAG',     'Skatteoplysninger',            'serviceplatform', 'ordered',          'pool'),
	('MATRIKEL',        'Matrikeldata',                 'serviceplatform', 'ordered',          'pool'),
	('DAR_ADRESSE',     'Adresseopslag (DAR)',          'serviceplatform', 'development_pool', 'pool'),
	('HAENDELSE_CPR',   'Hændelser fra CPR',            'serviceplatform', 'development_pool', 'pool'),
	('NGDP_FJERNPRINT', 'Fjernprint til NgDP',          'serviceplatform', 'development_pool', 'pool'),
	('ADGANGSSTYRING',  'Administrativ adgangsstyring', 'support_system',  'ordered',          'pool'),
	('ORGANISATION',    'Organisation',                 'support_system',  'ordered',          'pool'),
	('KLASSIFIKATION',  'Klassifikation',               'support_system',  'ordered',          'pool'),
	('SAG_DOKUMENT',    'Sag og Dokument',              'support_system',  'ordered',          'pool'),
	('YDELSESINDEKS',   'Ydelsesindeks',                'support_system',  'ordered',          'pool'),
	('BESKEDFORDELER',  'Beskedfordeler',               'support_system',  'ordered',          'pool'),
	('DOKUMENTLAGER',   'Dokumentlager',                'support_system',  'ordered',          'pool'),
	('FORDELING',       'Fordelingskomponent',          'support_system',  'ordered',          'pool');
/* the wide shape: 20 more, 40 in all; three more per-call services */
INSERT INTO afregning.service (code, name, platform, funding, billing)
SELECT code, name, platform::afregning.platform, 'ordered'::afregning.funding, billing::afregning.billing_method
  FROM (VALUES ('CPR_ADRESSE', 'CPR adresseopslag', 'serviceplatform', 'per_call'),
			   ('CPR_NAVNE', 'CPR navneopslag', 'serviceplatform', 'per_call'),
			   ('CPR_RELATION', 'CPR relationer', 'serviceplatform', 'per_call')) AS v(code, name, platform, billing)
 WHERE :wide
UNION ALL
SELECT format('SP_%s', lpad(n::text, 2, '0')), format('Serviceplatform-service %s', n),
	   'serviceplatform', 'ordered', 'pool'
  FROM generate_series(1, 13) AS n WHERE :wide
UNION ALL
SELECT format('SS_%s', lpad(n::text, 2, '0')), format('Støttesystem %s', n),
	   'support_system', 'ordered', 'pool'
  FROM generate_series(1, 4) AS n WHERE :wide;

INSERT INTO afregning.service_order (service_code, system_code, share) VALUES
	('CPR', 'KY', 2), ('CPR', 'KSD', 1), ('CPR', 'SAPA', 1),
	('CVR_OPSLAG', 'KY', 2), ('CVR_OPSLAG', 'ESDH_01', 1),
	('ADGANGSSTYRING', 'KY', 1), ('ADGANGSSTYRING', 'KSD', 1), ('ADGANGSSTYRING', 'SAPA', 1),
	('SAG_DOKUMENT', 'SAPA', 2), ('SAG_DOKUMENT', 'ESDH_01', 1);

/*
 * Tariffs, DKK per call. Each measured year has a CPR price change on
 * 15 July (in force from August) and a CVR change on 1 April (in force
 * from April). EINDKOMST, OIS_BBR and DAR_ADRESSE have no tariff and
 * rate at 0.
 */
INSERT INTO afregning.tariff (service_code, valid_from, unit_price)
SELECT t.service_code, make_date(y.y - 1, 1, 1), t.unit_price
  FROM (VALUES ('CPR', 0.1500), ('CVR_OPSLAG', 0.0300), ('DIGITAL_POST', 0.0600),
			   ('FJERNPRINT', 0.1200), ('SF1520', 0.0200), ('SKAT_OPSLAG', 0.0150),
			   ('MATRIKEL', 0.0040), ('HAENDELSE_CPR', 0.0010), ('NGDP_FJERNPRINT', 0.0900),
			   ('ADGANGSSTYRING', 0.0050), ('ORGANISATION', 0.0080),
			   ('KLASSIFIKATION', 0.0050), ('SAG_DOKUMENT', 0.0120),
			   ('YDELSESINDEKS', 0.0080), ('BESKEDFORDELER', 0.0030),
			   ('DOKUMENTLAGER', 0.0100), ('FORDELING', 0.0020)) AS t(service_code, unit_price)
 CROSS JOIN (SELECT least(:year, :small_year) AS y) y;
INSERT INTO afregning.tariff (service_code, valid_from, unit_price)
SELECT 'CPR', make_date(y, 7, 15), 0.1500 + 0.0100 * (y - least(:year, :small_year) + 1)
  FROM (VALUES (:year), (:small_year)) AS v(y);
INSERT INTO afregning.tariff (service_code, valid_from, unit_price)
SELECT 'CVR_OPSLAG', make_date(y, 4, 1), 0.0300 - 0.0010 * (y - least(:year, :small_year) + 1)
  FROM (VALUES (:year), (:small_year)) AS v(y);

/* the wide shape's extra services: per-call at 0.0500, the others 0.0010-0.0070 */
INSERT INTO afregning.tariff (service_code, valid_from, unit_price)
SELECT s.code, make_date(least(:year, :small_year) - 1, 1, 1),
	   CASE WHEN s.billing = 'per_call' THEN 0.0500
			ELSE 0.0010 * (1 + (row_number() OVER (ORDER BY s.code)) % 7) END
  FROM afregning.service s
 WHERE s.code LIKE 'SP\_%' OR s.code LIKE 'SS\_%' OR s.code LIKE 'CPR\_%';

/* a few cost entries, so that the announced price is not 0 */
INSERT INTO afregning.cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount)
SELECT format('%s/%s/%s', y, b, k), y, ct::afregning.cost_type, b::afregning.cost_basis,
	   svc, sys, amount
  FROM (VALUES (:year), (:small_year)) AS v(y)
 CROSS JOIN (VALUES ('expected'), ('actual')) AS basis(b)
 CROSS JOIN (VALUES ('SUP', 'support_admin', NULL, NULL, 6900000.00),
					('OPS-CVR', 'operations', 'CVR_OPSLAG', NULL, 500000.00),
					('UDV', 'development_pool', NULL, NULL, 6560000.00),
					('EST-SAG', 'establishment', 'SAG_DOKUMENT', 'SAPA', 720000.00),
					('DATA-OIS', 'data_consumption', 'OIS_BBR', NULL, 1800000.00))
	   AS c(k, ct, svc, sys, amount);

/* ------------------------------------------------------------------
 * The usage generator
 * ------------------------------------------------------------------ */

/* municipalities by index 0..97 */
CREATE TABLE bench.muni (
	idx		integer PRIMARY KEY,
	code	text COLLATE "C" NOT NULL
);
INSERT INTO bench.muni
SELECT row_number() OVER (ORDER BY code) - 1, code FROM afregning.municipality;

/*
 * The (system, service) pairs that make calls, by index 0..n-1, with a
 * weight that scales their calls.
 *   municipal systems:        CPR (half of them) and four pool services each
 *   monopoly-break systems:   all eight support-system services (baselines),
 *                             CPR (charged to the municipality), two
 *                             Serviceplatform pool services (KY)
 *   UDK systems:              CPR, SF1520, EINDKOMST, ADGANGSSTYRING (system)
 *   own-billing systems:      CPR, CVR_OPSLAG (system)
 *   the KOMBIT project:       ORGANISATION, DAR_ADRESSE (pool)
 */
CREATE TABLE bench.pair (
	idx				integer PRIMARY KEY,
	system_code		text COLLATE "C" NOT NULL,
	service_code	text COLLATE "C" NOT NULL,
	weight			integer NOT NULL,
	UNIQUE (system_code, service_code)
);
\if :wide
/*
 * The wide shape: about a third of all (system, service) pairs, chosen by
 * their indexes, and every monopoly-break system on every support system
 * (for the baselines); weights 1 to 5, 20 against a baseline.
 */
WITH sys AS (
	SELECT code, class, row_number() OVER (ORDER BY code) AS a FROM afregning.consumer_system
),
svc AS (
	SELECT code, platform, row_number() OVER (ORDER BY code) AS b FROM afregning.service
),
pairs AS (
	SELECT sys.code AS system_code, svc.code AS service_code,
		   CASE WHEN sys.class = 'monopoly_break' AND svc.platform = 'support_system' THEN 20
				ELSE 1 + (sys.a + svc.b) % 5 END AS weight
	  FROM sys CROSS JOIN svc
	 WHERE (sys.a * 7 + svc.b * 13) % 3 = 0
		OR (sys.class = 'monopoly_break' AND svc.platform = 'support_system')
)
INSERT INTO bench.pair
SELECT row_number() OVER (ORDER BY system_code, service_code) - 1,
	   system_code, service_code, weight
  FROM pairs;
\else
WITH pool_service AS (
	SELECT array_agg(code ORDER BY code) AS codes
	  FROM afregning.service WHERE billing = 'pool'
),
municipal AS (
	SELECT code, row_number() OVER (ORDER BY code) AS n
	  FROM afregning.consumer_system WHERE class = 'municipal'
),
pairs AS (
	SELECT m.code AS system_code, 'CPR' AS service_code, 2 AS weight
	  FROM municipal m WHERE m.n % 2 = 0
	UNION ALL
	SELECT m.code, p.codes[1 + (m.n * 3 + t * 5) % cardinality(p.codes)], 1 + t
	  FROM municipal m CROSS JOIN pool_service p CROSS JOIN generate_series(0, 3) AS t
	UNION ALL
	SELECT c.code, s.code, 20
	  FROM afregning.consumer_system c CROSS JOIN afregning.service s
	 WHERE c.class = 'monopoly_break' AND s.platform = 'support_system'
	UNION ALL
	SELECT c.code, 'CPR', 5 FROM afregning.consumer_system c WHERE c.class = 'monopoly_break'
	UNION ALL
	VALUES ('KY', 'SF1520', 8), ('KY', 'DIGITAL_POST', 8)
	UNION ALL
	SELECT c.code, s, 10
	  FROM afregning.consumer_system c
	 CROSS JOIN unnest(ARRAY['CPR', 'SF1520', 'EINDKOMST', 'ADGANGSSTYRING']) AS s
	 WHERE c.class = 'udk'
	UNION ALL
	SELECT c.code, s, 3
	  FROM afregning.consumer_system c
	 CROSS JOIN unnest(ARRAY['CPR', 'CVR_OPSLAG']) AS s
	 WHERE c.class = 'own_billing'
	UNION ALL
	VALUES ('FLIS', 'ORGANISATION', 1), ('FLIS', 'DAR_ADRESSE', 1)
)
INSERT INTO bench.pair
SELECT row_number() OVER (ORDER BY system_code, service_code) - 1,
	   system_code, service_code, weight
  FROM pairs;
\endif

/*
 * Usage rows of a year: row i (0-based) is month i / ceil(rows / 12); within
 * its month, rows run over the pairs, then the municipalities, then the
 * month's batches (a batch is one delivery: one row per municipality and
 * pair). Calls are a pseudo-random 0..1023 times the pair's weight.
 */
CREATE FUNCTION bench.usage_rows(p_year integer, p_rows bigint)
RETURNS TABLE (period date, municipality_code text, system_code text,
			   service_code text, calls bigint, batch_key text)
LANGUAGE sql STABLE
AS $$
	WITH d AS (
		SELECT (SELECT count(*) FROM bench.pair) AS npair,
			   (SELECT count(*) FROM bench.muni) AS nmuni,
			   (p_rows + 11) / 12 AS per_month
	),
	r AS (
		SELECT i, i / d.per_month AS m, i % d.per_month AS j, d.npair, d.nmuni
		  FROM d CROSS JOIN generate_series(0::bigint, p_rows - 1) AS i
	)
	SELECT make_date(p_year, r.m::integer + 1, 1), k.code, p.system_code, p.service_code,
		   (hashint8(r.i + p_year * 1000000000000::bigint) & 1023)::bigint * p.weight,
		   format('usage-%s-%s-%s', p_year, lpad((r.m + 1)::text, 2, '0'),
				  lpad((r.j / (r.npair * r.nmuni))::text, 4, '0'))
	  FROM r
	  JOIN bench.pair p ON p.idx = r.j % r.npair
	  JOIN bench.muni k ON k.idx = (r.j / r.npair) % r.nmuni
$$;

/* the batches usage_rows(p_year, p_rows) refers to */
CREATE FUNCTION bench.usage_batches(p_year integer, p_rows bigint)
RETURNS TABLE (batch_key text)
LANGUAGE sql STABLE
AS $$
	SELECT format('usage-%s-%s-%s', p_year, lpad(m::text, 2, '0'), lpad(b::text, 4, '0'))
	  FROM generate_series(1, 12) AS m
	 CROSS JOIN generate_series(0, ((p_rows + 11) / 12 - 1)
								   / ((SELECT count(*) FROM bench.pair)
									  * (SELECT count(*) FROM bench.muni))) AS b
$$;

/*
 * Baselines of the monopoly-break systems on the support systems, from the
 * year's actual calls: 30 %, 60 % or 90 % of them (crossed in spring,
 * summer or autumn), 120 % (never crossed), or none (all pool).
 */
CREATE FUNCTION bench.add_baselines(p_year integer)
RETURNS void
LANGUAGE sql
AS $$
	INSERT INTO afregning.baseline (year, system_code, service_code, calls)
	SELECT p_year, u.system_code, u.service_code,
		   sum(u.calls) * (ARRAY[30, 60, 90, 120])[1 + p.idx % 5] / 100
	  FROM afregning.usage u
	  JOIN bench.pair p ON p.system_code = u.system_code AND p.service_code = u.service_code
	  JOIN afregning.consumer_system c ON c.code = u.system_code
	  JOIN afregning.service s ON s.code = u.service_code
	 WHERE u.period >= make_date(p_year, 1, 1) AND u.period < make_date(p_year + 1, 1, 1)
	   AND c.class = 'monopoly_break' AND s.platform = 'support_system'
	   AND p.idx % 5 < 4
	 GROUP BY u.system_code, u.service_code, p.idx
$$;

COMMIT;
