/*
 * afregning -- demo data set
 *
 * Loads a realistic, self-consistent data set through the extension's own
 * input tables, so that every constraint and guard a user meets applies:
 *
 *   - the 98 municipalities with their real population (kommuner.csv);
 *   - billing years 2019-2021 (costs, usage) and 2022-2023 (open years that
 *     receive carry-forwards);
 *   - consumer systems, services, orders, tariffs and baselines;
 *   - expected and actual cost entries of every cost type for 2019-2021,
 *     sized so that the buffet price comes out at the published prices
 *     (1.94, 2.79 and 4.80 kr. per citizen);
 *   - monthly usage of every municipality for 2019-2021.
 *
 * Everything except the municipalities and their population is synthetic,
 * made to resemble the published model and prices (see README.md).
 *
 * Run, in a database where CREATE EXTENSION afregning has been done:
 *
 *   psql -v ON_ERROR_STOP=1 -v datadir=<directory of kommuner.csv> -f demo.sql
 *
 * The whole load is one transaction: it either loads everything or nothing.
 * It is meant for an empty database; run a second time it stops at the first
 * duplicate key and changes nothing.
 */

\set ON_ERROR_STOP 1

\if :{?datadir}
\else
	DO $$ BEGIN RAISE EXCEPTION USING
		ERRCODE = 'invalid_parameter_value',
		MESSAGE = 'psql variable datadir is not set',
		HINT = 'Run psql -v datadir=<directory of kommuner.csv> -f demo.sql, e.g. -v datadir=test/data.';
	END $$;
\endif

BEGIN;

/* ------------------------------------------------------------------
 * Municipalities (kommuner) and population (indbyggere)
 *
 * kommuner.csv: kommunekode, navn, region, folketal (1 January 2020).
 * \copy does not expand psql variables, so the command is assembled in a
 * variable and then run.
 * ------------------------------------------------------------------ */

CREATE TEMP TABLE demo_kommune (
	kommunekode	text NOT NULL,
	navn		text NOT NULL,
	region		text NOT NULL,
	folketal	integer NOT NULL
) ON COMMIT DROP;

\set demo_csv :datadir '/kommuner.csv'
\set demo_copy '\\copy demo_kommune FROM ' :'demo_csv' ' WITH (FORMAT csv, HEADER true, ENCODING ''UTF8'')'
:demo_copy

INSERT INTO afregning.municipality (code, name, region)
SELECT kommunekode, navn, region::afregning.region
  FROM demo_kommune
 ORDER BY kommunekode;

/*
 * Billing years. 2019-2021 carry the demo's costs and usage; 2022 and 2023
 * stay open and receive the carry-forwards of 2019-2021 (carry_lag 2).
 * Inserting a year creates its usage partition.
 */
INSERT INTO afregning.billing_year (year)
VALUES (2019), (2020), (2021), (2022), (2023);

/*
 * Population. kommuner.csv holds the real count of 1 January 2020, and it is
 * used unchanged for every year 2019-2022 (5,822,679 citizens each year):
 * a real figure, rather than a made-up adjustment. Replace a year's rows
 * with Danmarks Statistik FOLK1A <year>K1 before announcing it for real.
 */
INSERT INTO afregning.population (year, municipality_code, citizens)
SELECT y, k.kommunekode, k.folketal
  FROM demo_kommune k
 CROSS JOIN generate_series(2019, 2022) AS y
 ORDER BY y, k.kommunekode;

/* ------------------------------------------------------------------
 * Consumer systems (anvendersystemer)
 *
 * The monopoly-break systems (KY, KSD, SAPA), UDK's four systems, the three
 * systems with their own billing and one KOMBIT project are real names; the
 * municipal systems (ESDH_A, BYG_B, OMSORG_B, SOCIAL_C) stand for the
 * municipalities' own suppliers and are made up.
 * ------------------------------------------------------------------ */

INSERT INTO afregning.consumer_system (code, name, class) VALUES
	('KY',          'Kommunernes Ydelsessystem',                         'monopoly_break'),
	('KSD',         'Kommunernes Sygedagpengesystem',                    'monopoly_break'),
	('SAPA',        'Sammenhængende Partsoverblik (SAPA)',               'monopoly_break'),
	('UDK_BARSEL',  'Barsel (Udbetaling Danmark)',                       'udk'),
	('UDK_FAMYD',   'Familieydelser (Udbetaling Danmark)',               'udk'),
	('UDK_PENSION', 'Pension (Udbetaling Danmark)',                      'udk'),
	('UDK_BOLIG',   'Boligstøtte (Udbetaling Danmark)',                  'udk'),
	('NEMREFUSION', 'Nemrefusion',                                       'own_billing'),
	('PRAKSYS',     'Praksys',                                           'own_billing'),
	('KOEREPROEVE', 'Køreprøvebooking',                                  'own_billing'),
	('ESDH_A',      'ESDH- og journalsystem A',                          'municipal'),
	('BYG_B',       'Byggesagssystem B',                                 'municipal'),
	('OMSORG_B',    'Omsorgssystem B (pleje og hjemmehjælp)',            'municipal'),
	('SOCIAL_C',    'Sagsbehandlingssystem C (socialområdet, bruger CPR)', 'municipal'),
	('FLIS',        'Fælleskommunalt Ledelsesinformationssystem (FLIS)', 'kombit_project');

/* ------------------------------------------------------------------
 * Services
 *
 * CPR is the one per-call service. NGDP_FJERNPRINT, DAR_ADRESSE and
 * HAENDELSE_CPR were built with the development pool (udviklingspuljen).
 * ------------------------------------------------------------------ */

INSERT INTO afregning.service (code, name, platform, funding, billing) VALUES
	('CPR',             'CPR-servicen (online opslag i CPR)',             'serviceplatform', 'ordered',          'per_call'),
	('CVR_OPSLAG',      'CVR opslag',                                     'serviceplatform', 'ordered',          'pool'),
	('DIGITAL_POST',    'Digital Post (afsendelse via Serviceplatformen)', 'serviceplatform', 'ordered',         'pool'),
	('FJERNPRINT',      'Fjernprint',                                     'serviceplatform', 'ordered',          'pool'),
	('SF1520',          'CPR-replika opslag (SF1520)',                    'serviceplatform', 'ordered',          'pool'),
	('EINDKOMST',       'eIndkomst opslag',                               'serviceplatform', 'ordered',          'pool'),
	('OIS_BBR',         'OIS/BBR ejendomsdata',                           'serviceplatform', 'ordered',          'pool'),
	('DAR_ADRESSE',     'Adresseopslag (DAR)',                            'serviceplatform', 'development_pool', 'pool'),
	('HAENDELSE_CPR',   'Hændelser fra CPR (abonnement)',                 'serviceplatform', 'development_pool', 'pool'),
	('NGDP_FJERNPRINT', 'Fjernprint til NgDP',                            'serviceplatform', 'development_pool', 'pool'),
	('ADGANGSSTYRING',  'Administrativ adgangsstyring',                   'support_system',  'ordered',          'pool'),
	('ORGANISATION',    'Organisation',                                   'support_system',  'ordered',          'pool'),
	('KLASSIFIKATION',  'Klassifikation',                                 'support_system',  'ordered',          'pool'),
	('SAG_DOKUMENT',    'Sag og Dokument',                                'support_system',  'ordered',          'pool'),
	('YDELSESINDEKS',   'Ydelsesindeks',                                  'support_system',  'ordered',          'pool');

/*
 * Orders (bestillinger) with weights; weights are normalised by their sum.
 *
 *   monopoly-break only:            CPR, ADGANGSSTYRING, KLASSIFIKATION
 *   monopoly-break and UDK:         SF1520, YDELSESINDEKS (operations all to systems)
 *   UDK only:                       EINDKOMST
 *   monopoly-break and municipal:   CVR_OPSLAG (2 of 5 to the pool),
 *                                   DIGITAL_POST (1 of 4), ORGANISATION (1 of 4),
 *                                   SAG_DOKUMENT (1 of 4)
 *   municipal only:                 FJERNPRINT (operations all to the pool)
 *   development pool, with orderers: HAENDELSE_CPR (the pool pays regardless)
 *   no orderers:                    OIS_BBR, DAR_ADRESSE, NGDP_FJERNPRINT
 */
INSERT INTO afregning.service_order (service_code, system_code, share) VALUES
	('CPR',            'KY',          2),
	('CPR',            'KSD',         1),
	('CPR',            'SAPA',        1),
	('CVR_OPSLAG',     'KY',          2),
	('CVR_OPSLAG',     'SAPA',        1),
	('CVR_OPSLAG',     'ESDH_A',      1),
	('CVR_OPSLAG',     'BYG_B',       1),
	('DIGITAL_POST',   'KY',          1.5),
	('DIGITAL_POST',   'KSD',         1),
	('DIGITAL_POST',   'SAPA',        0.5),
	('DIGITAL_POST',   'ESDH_A',      1),
	('FJERNPRINT',     'ESDH_A',      1),
	('FJERNPRINT',     'BYG_B',       1),
	('FJERNPRINT',     'OMSORG_B',    1),
	('SF1520',         'KY',          1),
	('SF1520',         'KSD',         1),
	('SF1520',         'SAPA',        1),
	('SF1520',         'UDK_BARSEL',  1),
	('EINDKOMST',      'UDK_PENSION', 1),
	('EINDKOMST',      'UDK_BOLIG',   1),
	('HAENDELSE_CPR',  'KY',          1),
	('HAENDELSE_CPR',  'SOCIAL_C',    1),
	('ADGANGSSTYRING', 'KY',          1),
	('ADGANGSSTYRING', 'KSD',         1),
	('ADGANGSSTYRING', 'SAPA',        1),
	('ORGANISATION',   'KY',          1),
	('ORGANISATION',   'KSD',         1),
	('ORGANISATION',   'SAPA',        1),
	('ORGANISATION',   'ESDH_A',      1),
	('KLASSIFIKATION', 'KY',          1),
	('KLASSIFIKATION', 'KSD',         1),
	('KLASSIFIKATION', 'SAPA',        1),
	('SAG_DOKUMENT',   'KY',          1),
	('SAG_DOKUMENT',   'SAPA',        2),
	('SAG_DOKUMENT',   'ESDH_A',      1),
	('YDELSESINDEKS',  'KY',          1),
	('YDELSESINDEKS',  'KSD',         1),
	('YDELSESINDEKS',  'SAPA',        1),
	('YDELSESINDEKS',  'UDK_FAMYD',   1);

/*
 * Tariffs, DKK per call. A valid_from inside a month applies from the next
 * month: the CPR price rise of 15 July 2020 applies from August 2020.
 * OIS_BBR, DAR_ADRESSE, EINDKOMST, HAENDELSE_CPR and NGDP_FJERNPRINT have no
 * tariff: their usage rates at 0 and their consumption comes from cost
 * entries (source fees).
 */
INSERT INTO afregning.tariff (service_code, valid_from, unit_price) VALUES
	('CPR',            '2019-01-01', 0.1500),
	('CPR',            '2020-07-15', 0.1700),
	('CVR_OPSLAG',     '2019-01-01', 0.0300),
	('CVR_OPSLAG',     '2021-01-01', 0.0280),
	('DIGITAL_POST',   '2019-01-01', 0.0600),
	('FJERNPRINT',     '2019-01-01', 0.1200),
	('SF1520',         '2019-01-01', 0.0200),
	('ADGANGSSTYRING', '2019-01-01', 0.0050),
	('ORGANISATION',   '2019-01-01', 0.0080),
	('KLASSIFIKATION', '2019-01-01', 0.0050),
	('SAG_DOKUMENT',   '2019-01-01', 0.0120),
	('YDELSESINDEKS',  '2019-01-01', 0.0080);

/*
 * Baselines (baseline forbrug) of KY, KSD and SAPA on the support systems,
 * calls per year over all municipalities. Against the usage generated below
 * (yearly calls in brackets) some are exceeded during the year (the excess is
 * pool-funded) and some are not:
 *
 *                          2019                2020                2021
 *   KY   ADGANGSSTYRING    60.0M (62.4M) over  80.0M (90.2M) over  110.0M (117.9M) over
 *   KSD  ADGANGSSTYRING    24.0M (21.0M)       26.0M (26.6M) over   33.0M  (31.5M)
 *   KY   ORGANISATION      15.0M (14.1M)       18.0M (16.9M)        19.0M  (19.7M) over
 *   KY   YDELSESINDEKS     16.0M (17.4M) over  22.0M (20.8M)        25.0M  (24.3M)
 *   SAPA KLASSIFIKATION     7.5M  (7.0M)       12.0M (12.6M) over   22.0M  (20.9M)
 *   SAPA SAG_DOKUMENT       8.0M (10.4M) over  20.0M (27.7M) over   40.0M  (55.5M) over
 */
INSERT INTO afregning.baseline (year, system_code, service_code, calls) VALUES
	(2019, 'KY',   'ADGANGSSTYRING',  60000000),
	(2019, 'KSD',  'ADGANGSSTYRING',  24000000),
	(2019, 'KY',   'ORGANISATION',    15000000),
	(2019, 'KY',   'YDELSESINDEKS',   16000000),
	(2019, 'SAPA', 'KLASSIFIKATION',   7500000),
	(2019, 'SAPA', 'SAG_DOKUMENT',     8000000),
	(2020, 'KY',   'ADGANGSSTYRING',  80000000),
	(2020, 'KSD',  'ADGANGSSTYRING',  26000000),
	(2020, 'KY',   'ORGANISATION',    18000000),
	(2020, 'KY',   'YDELSESINDEKS',   22000000),
	(2020, 'SAPA', 'KLASSIFIKATION',  12000000),
	(2020, 'SAPA', 'SAG_DOKUMENT',    20000000),
	(2021, 'KY',   'ADGANGSSTYRING', 110000000),
	(2021, 'KSD',  'ADGANGSSTYRING',  33000000),
	(2021, 'KY',   'ORGANISATION',    19000000),
	(2021, 'KY',   'YDELSESINDEKS',   25000000),
	(2021, 'SAPA', 'KLASSIFIKATION',  22000000),
	(2021, 'SAPA', 'SAG_DOKUMENT',    40000000);

/* ------------------------------------------------------------------
 * Cost entries (omkostninger)
 *
 * One line per cost item with its expected (E) and actual (A) amount for
 * each year; a NULL means no entry. Entry keys are <year>/<basis>/<item>,
 * e.g. 2019/expected/OPS-FJ.
 *
 * Expected data consumption of the tariffed pool services (DATA-CVR, -DP,
 * -FJ, -SF1520, -SS) is a budget only: their actual consumption is the rated
 * usage loaded below, so they have no actual entries (a service's actual
 * consumption is entered one way, not both). OIS_BBR and DAR_ADRESSE have no
 * tariff; their consumption (source fees) is entered as cost both ways.
 * DATA-CPR is what the CPR lookups cost; it is recovered through the per-call
 * tariff, not the pool.
 *
 * 2019 has no expected pool-funded dissemination: the 2019 price had been
 * announced before dissemination was added to the model, so its 2019 cost
 * (UDB-KDI, actual only) reaches a price through the carry-forward.
 *
 * Actual amounts differ from the expected ones by a few percent in both
 * directions.
 *
 * Expected pool (SPEC §3; carry-in ignored), 5,822,679 citizens every year.
 * Operations go to the pool for development-pool services (DAR, HAEND, NGDP)
 * and for the non-monopoly-break shares of their orderers (CVR 2/5, DP 1/4,
 * ORG 1/4, SAG 1/4, FJ all; OIS has no orderers). Establishment,
 * infrastructure establishment, UDB-FLIS (a KOMBIT project), DATA-CPR
 * (per call), DATA-UDK and DATA-PRAKSYS (own billing) stay out of the pool.
 *
 * 2019
 *   operations        OPS-CVR 400,000 x 2/5 + OPS-DP 800,000 x 1/4 + OPS-FJ 900,000
 *                     + OPS-OIS 600,000 + OPS-DAR 300,000 + OPS-ORG 1,000,000 x 1/4
 *                     + OPS-SAG 1,200,000 x 1/4
 *                     = 160,000 + 200,000 + 900,000 + 600,000 + 300,000 + 250,000
 *                       + 300,000                                    =  2,710,000.00
 *   support_admin     SUP-SP 1,600,000 + SUP-SS 1,100,000 + ADM 700,000 =  3,400,000.00
 *   development_pool  UDV-DAR 1,200,000 + UDV-HAEND 800,000
 *                     + UDV-PULJE 640,000                             =  2,640,000.00
 *   dissemination     (none budgeted for 2019)                        =          0.00
 *   data_consumption  DATA-OIS 900,000 + DATA-DAR 250,000 + DATA-CVR 120,000
 *                     + DATA-DP 600,000 + DATA-FJ 320,000 + DATA-SF1520 200,000
 *                     + DATA-SS 160,000                               =  2,550,000.00
 *   expected pool                                                     = 11,300,000.00
 *   price 11,300,000.00 / 5,822,679 = 1.94069 -> 1.94 kr. (published: 1.94)
 *
 * 2020
 *   operations        OPS-CVR 450,000 x 2/5 + OPS-DP 880,000 x 1/4 + OPS-FJ 1,100,000
 *                     + OPS-OIS 800,000 + OPS-DAR 400,000 + OPS-HAEND 200,000
 *                     + OPS-ORG 1,080,000 x 1/4 + OPS-SAG 1,600,000 x 1/4
 *                     = 180,000 + 220,000 + 1,100,000 + 800,000 + 400,000
 *                       + 200,000 + 270,000 + 400,000                =  3,570,000.00
 *   support_admin     SUP-SP 2,100,000 + SUP-SS 1,400,000 + ADM 850,000 =  4,350,000.00
 *   development_pool  UDV-DAR 600,000 + UDV-HAEND 1,400,000
 *                     + UDV-PULJE 1,140,000                           =  3,140,000.00
 *   dissemination     UDB-KDI 2,000,000                               =  2,000,000.00
 *   data_consumption  DATA-OIS 1,200,000 + DATA-DAR 300,000 + DATA-CVR 140,000
 *                     + DATA-DP 650,000 + DATA-FJ 380,000 + DATA-SF1520 240,000
 *                     + DATA-SS 280,000                               =  3,190,000.00
 *   expected pool                                                     = 16,250,000.00
 *   price 16,250,000.00 / 5,822,679 = 2.79081 -> 2.79 kr. (published: 2.79)
 *
 * 2021
 *   operations        OPS-CVR 500,000 x 2/5 + OPS-DP 960,000 x 1/4 + OPS-FJ 1,700,000
 *                     + OPS-OIS 1,300,000 + OPS-DAR 700,000 + OPS-HAEND 600,000
 *                     + OPS-NGDP 350,000 + OPS-ORG 1,200,000 x 1/4
 *                     + OPS-SAG 3,200,000 x 1/4
 *                     = 200,000 + 240,000 + 1,700,000 + 1,300,000 + 700,000
 *                       + 600,000 + 350,000 + 300,000 + 800,000      =  6,190,000.00
 *   support_admin     SUP-SP 3,100,000 + SUP-SS 2,400,000 + ADM 1,400,000 = 6,900,000.00
 *   development_pool  UDV-DAR 400,000 + UDV-HAEND 1,200,000 + UDV-NGDP 2,400,000
 *                     + UDV-PULJE 2,560,000                           =  6,560,000.00
 *   dissemination     UDB-KDI 4,000,000                               =  4,000,000.00
 *   data_consumption  DATA-OIS 1,800,000 + DATA-DAR 500,000 + DATA-CVR 160,000
 *                     + DATA-DP 800,000 + DATA-FJ 400,000 + DATA-SF1520 260,000
 *                     + DATA-SS 380,000                               =  4,300,000.00
 *   expected pool                                                     = 27,950,000.00
 *   price 27,950,000.00 / 5,822,679 = 4.80020 -> 4.80 kr. (published: 4.80)
 * ------------------------------------------------------------------ */

CREATE TEMP TABLE demo_cost_line (
	item			text NOT NULL PRIMARY KEY,
	cost_type		afregning.cost_type NOT NULL,
	service_code	text,
	system_code		text,
	e2019			numeric(14,2),
	a2019			numeric(14,2),
	e2020			numeric(14,2),
	a2020			numeric(14,2),
	e2021			numeric(14,2),
	a2021			numeric(14,2),
	note			text NOT NULL
) ON COMMIT DROP;

INSERT INTO demo_cost_line VALUES
	-- item          cost_type                       service            system           E2019    A2019    E2020    A2020    E2021    A2021
	('EST-CVR',      'establishment',                'CVR_OPSLAG',      NULL,           250000,  257500,    NULL,    NULL,    NULL,    NULL,
		'Etablering: udvidet CVR-opslag med produktionsenheder'),
	('EST-DP',       'establishment',                'DIGITAL_POST',    NULL,             NULL,    NULL,  480000,  470400,    NULL,    NULL,
		'Etablering: Digital Post med vedhæftede bilag'),
	('EST-SAG',      'establishment',                'SAG_DOKUMENT',    'SAPA',           NULL,    NULL,    NULL,    NULL,  720000,  738000,
		'Etablering: sagsrelationer til SAPA'),
	('EST-YDI',      'establishment',                'YDELSESINDEKS',   'KY',           300000,  295500,  180000,  187200,  240000,  232800,
		'Etablering: ændringer til Ydelsesindeks bestilt af KY'),
	('INF-ADG',      'infrastructure_establishment', 'ADGANGSSTYRING',  NULL,          2400000, 2424000, 2400000, 2316000, 2400000, 2448000,
		'Etablering af infrastrukturen: afskrivning, betales af KY, KSD og SAPA'),
	('INF-UDK',      'infrastructure_establishment', NULL,              'UDK_PENSION',  600000,  594000,  600000,  621000,  600000,  585000,
		'Etablering af infrastrukturen: Udbetaling Danmarks andel'),
	('OPS-CPR',      'operations',                   'CPR',             NULL,           320000,  329600,  340000,  333200,  360000,  369000,
		'Drift og vedligeholdelse: CPR-servicen'),
	('OPS-CVR',      'operations',                   'CVR_OPSLAG',      NULL,           400000,  394000,  450000,  468000,  500000,  485000,
		'Drift og vedligeholdelse: CVR-opslag'),
	('OPS-DP',       'operations',                   'DIGITAL_POST',    NULL,           800000,  808000,  880000,  849200,  960000,  979200,
		'Drift og vedligeholdelse: Digital Post'),
	('OPS-FJ',       'operations',                   'FJERNPRINT',      NULL,           900000,  891000, 1100000, 1138500, 1700000, 1657500,
		'Drift og vedligeholdelse: Fjernprint'),
	('OPS-SF1520',   'operations',                   'SF1520',          NULL,           350000,  360500,  360000,  352800,  380000,  389500,
		'Drift og vedligeholdelse: CPR-replika opslag'),
	('OPS-EIND',     'operations',                   'EINDKOMST',       NULL,           200000,  197000,  210000,  218400,  220000,  213400,
		'Drift og vedligeholdelse: eIndkomst-opslag'),
	('OPS-OIS',      'operations',                   'OIS_BBR',         NULL,           600000,  606000,  800000,  772000, 1300000, 1326000,
		'Drift og vedligeholdelse: OIS/BBR ejendomsdata'),
	('OPS-DAR',      'operations',                   'DAR_ADRESSE',     NULL,           300000,  297000,  400000,  414000,  700000,  682500,
		'Drift og vedligeholdelse: adresseopslag (udviklingspuljen)'),
	('OPS-HAEND',    'operations',                   'HAENDELSE_CPR',   NULL,             NULL,    NULL,  200000,  206000,  600000,  588000,
		'Drift og vedligeholdelse: CPR-hændelser (udviklingspuljen)'),
	('OPS-NGDP',     'operations',                   'NGDP_FJERNPRINT', NULL,             NULL,    NULL,    NULL,    NULL,  350000,  358800,
		'Drift og vedligeholdelse: Fjernprint til NgDP (udviklingspuljen)'),
	('OPS-ADG',      'operations',                   'ADGANGSSTYRING',  NULL,          1500000, 1477500, 1650000, 1716000, 1800000, 1746000,
		'Drift og vedligeholdelse: Administrativ adgangsstyring'),
	('OPS-ORG',      'operations',                   'ORGANISATION',    NULL,          1000000, 1010000, 1080000, 1042200, 1200000, 1224000,
		'Drift og vedligeholdelse: Organisation'),
	('OPS-KLA',      'operations',                   'KLASSIFIKATION',  NULL,           420000,  415800,  450000,  465800,  480000,  468000,
		'Drift og vedligeholdelse: Klassifikation'),
	('OPS-SAG',      'operations',                   'SAG_DOKUMENT',    NULL,          1200000, 1236000, 1600000, 1568000, 3200000, 3280000,
		'Drift og vedligeholdelse: Sag og Dokument'),
	('OPS-YDI',      'operations',                   'YDELSESINDEKS',   NULL,           800000,  788000,  840000,  873600,  900000,  873000,
		'Drift og vedligeholdelse: Ydelsesindeks'),
	('SUP-SP',       'support_admin',                NULL,              NULL,          1600000, 1616000, 2100000, 2026500, 3100000, 3162000,
		'Servicedesk Serviceplatformen (leverandør)'),
	('SUP-SS',       'support_admin',                NULL,              NULL,          1100000, 1089000, 1400000, 1449000, 2400000, 2340000,
		'Servicedesk Støttesystemerne (leverandør)'),
	('ADM',          'support_admin',                NULL,              NULL,           700000,  721000,  850000,  833000, 1400000, 1435000,
		'KOMBITs administration af afregningsmodellen og datakilder'),
	('UDV-DAR',      'development_pool',             'DAR_ADRESSE',     NULL,          1200000, 1182000,  600000,  624000,  400000,  388000,
		'Udviklingspuljen: adresseopslag'),
	('UDV-HAEND',    'development_pool',             'HAENDELSE_CPR',   NULL,           800000,  808000, 1400000, 1351000, 1200000, 1224000,
		'Udviklingspuljen: CPR-hændelser'),
	('UDV-NGDP',     'development_pool',             'NGDP_FJERNPRINT', NULL,             NULL,    NULL,    NULL,    NULL, 2400000, 2376000,
		'Udviklingspuljen: Fjernprint til NgDP'),
	('UDV-PULJE',    'development_pool',             NULL,              NULL,           640000,  662400, 1140000, 1111500, 2560000, 2636800,
		'Udviklingspuljen: kommunale ønsker, endnu ikke udmøntet'),
	('UDB-KDI',      'dissemination',                NULL,              NULL,             NULL,  918000, 2000000, 1960000, 4000000, 4100000,
		'Udbredelse og forretningsforståelse'),
	('UDB-FLIS',     'dissemination',                NULL,              'FLIS',         250000,  246300,  260000,  270400,  280000,  271600,
		'Udbredelse: KOMBIT-projektet FLIS betaler selv'),
	('DATA-CPR',     'data_consumption',             'CPR',             NULL,          1900000, 1919000, 2200000, 2123000, 2600000, 2652000,
		'Dataforbrug: opslagsgebyrer CPR (opkræves pr. opslag)'),
	('DATA-UDK',     'data_consumption',             'EINDKOMST',       'UDK_PENSION',  450000,  445500,  480000,  496800,  520000,  507000,
		'Dataforbrug: Udbetaling Danmark (egen afregning)'),
	('DATA-PRAKSYS', 'data_consumption',             NULL,              'PRAKSYS',       60000,   61800,   65000,   63700,   70000,   71800,
		'Dataforbrug: Praksys (egen afregning)'),
	('DATA-OIS',     'data_consumption',             'OIS_BBR',         NULL,           900000,  886500, 1200000, 1248000, 1800000, 1746000,
		'Dataforbrug: kildeomkostninger OIS/BBR'),
	('DATA-DAR',     'data_consumption',             'DAR_ADRESSE',     NULL,           250000,  252500,  300000,  289500,  500000,  510000,
		'Dataforbrug: kildeomkostninger adressedata'),
	('DATA-CVR',     'data_consumption',             'CVR_OPSLAG',      NULL,           120000,    NULL,  140000,    NULL,  160000,    NULL,
		'Forventet dataforbrug: CVR-opslag (faktisk forbrug afregnes fra forbrugsdata)'),
	('DATA-DP',      'data_consumption',             'DIGITAL_POST',    NULL,           600000,    NULL,  650000,    NULL,  800000,    NULL,
		'Forventet dataforbrug: Digital Post'),
	('DATA-FJ',      'data_consumption',             'FJERNPRINT',      NULL,           320000,    NULL,  380000,    NULL,  400000,    NULL,
		'Forventet dataforbrug: Fjernprint'),
	('DATA-SF1520',  'data_consumption',             'SF1520',          NULL,           200000,    NULL,  240000,    NULL,  260000,    NULL,
		'Forventet dataforbrug: CPR-replika opslag'),
	('DATA-SS',      'data_consumption',             NULL,              NULL,           160000,    NULL,  280000,    NULL,  380000,    NULL,
		'Forventet dataforbrug på Støttesystemerne: over baseline og kommunale systemer');

INSERT INTO afregning.cost_entry
	(entry_key, year, cost_type, basis, service_code, system_code, amount, note)
SELECT format('%s/%s/%s', v.year, v.basis, c.item), v.year, c.cost_type,
	   v.basis::afregning.cost_basis, c.service_code, c.system_code, v.amount, c.note
  FROM demo_cost_line c
 CROSS JOIN LATERAL (VALUES (2019, 'expected', c.e2019), (2019, 'actual', c.a2019),
							(2020, 'expected', c.e2020), (2020, 'actual', c.a2020),
							(2021, 'expected', c.e2021), (2021, 'actual', c.a2021))
	   AS v(year, basis, amount)
 WHERE v.amount IS NOT NULL
 ORDER BY v.year, v.basis DESC, c.item;

/*
 * Corrections (rettelser) of earlier years, booked as actual entries of 2021
 * that name the entry they correct: a late supplier invoice for the 2019
 * operation of Fjernprint, and a credit note for the 2020 service desk.
 * Both are pool-funded and reach a later price through 2021's carry-forward.
 */
INSERT INTO afregning.cost_entry
	(entry_key, year, cost_type, basis, service_code, system_code, amount, corrects, note)
VALUES
	('2021/actual/KORR-2019-OPS-FJ', 2021, 'operations', 'actual', 'FJERNPRINT', NULL, 46350.00,
	 '2019/actual/OPS-FJ', 'Rettelse: efterfaktura for drift af Fjernprint i 2019'),
	('2021/actual/KORR-2020-SUP-SS', 2021, 'support_admin', 'actual', NULL, NULL, -38500.00,
	 '2020/actual/SUP-SS', 'Rettelse: kreditnota for servicedesk Støttesystemerne i 2020');

/* ------------------------------------------------------------------
 * Usage (dataforbrug)
 *
 * One batch per month (demo-usage-YYYY-MM) and one row per month,
 * municipality and (system, service) pair below, for 2019-2021: 20 pairs x
 * 98 municipalities x 36 months = 70,560 rows.
 *
 * calls = citizens x rate / 1,000 x season / 100 x spread / 100, in integer
 * arithmetic, where
 *   rate    calls per 1,000 citizens per month of the pair in that year
 *           (growing as the monopoly-break systems roll out);
 *   season  100 = an average month: a dip in July and December, a peak in
 *           March and November (the twelve factors sum to 1,200);
 *   spread  92..108, a fixed per-municipality and per-pair factor computed
 *           from the municipality code, so municipalities differ a little.
 *
 * Municipal CPR lookups come to about 190-230 per 1,000 citizens a month,
 * 13.4M / 14.6M / 15.8M calls a year: about 2.0 / 2.3 / 2.7 mio. kr. of
 * per-call charges at 0.15 kr. (0.17 kr. from August 2020).
 * ------------------------------------------------------------------ */

CREATE TEMP TABLE demo_usage_profile (
	pair			integer NOT NULL PRIMARY KEY,
	system_code		text NOT NULL,
	service_code	text NOT NULL,
	rate_2019		integer NOT NULL,
	rate_2020		integer NOT NULL,
	rate_2021		integer NOT NULL
) ON COMMIT DROP;

INSERT INTO demo_usage_profile VALUES
	-- CPR (per call): municipal systems pay per lookup; UDK and own-billing systems carry theirs
	( 1, 'ESDH_A',      'CPR',             110,  120,  130),
	( 2, 'SOCIAL_C',    'CPR',              80,   88,   95),
	( 3, 'UDK_PENSION', 'CPR',              30,   32,   34),
	( 4, 'KOEREPROEVE', 'CPR',               6,    6,    7),
	-- support systems: monopoly-break systems against their baselines
	( 5, 'KY',          'ADGANGSSTYRING',  900, 1300, 1700),
	( 6, 'KSD',         'ADGANGSSTYRING',  300,  380,  450),
	( 7, 'KY',          'ORGANISATION',    200,  240,  280),
	( 8, 'SAPA',        'SAG_DOKUMENT',    150,  400,  800),
	( 9, 'SAPA',        'KLASSIFIKATION',  100,  180,  300),
	(10, 'KY',          'YDELSESINDEKS',   250,  300,  350),
	-- support systems: municipal systems (pool)
	(11, 'SOCIAL_C',    'ORGANISATION',     60,   70,   80),
	(12, 'ESDH_A',      'SAG_DOKUMENT',     80,  100,  130),
	-- Serviceplatformen pool services
	(13, 'ESDH_A',      'CVR_OPSLAG',       60,   70,   80),
	(14, 'NEMREFUSION', 'CVR_OPSLAG',       25,   27,   30),
	(15, 'ESDH_A',      'DIGITAL_POST',    140,  160,  190),
	(16, 'BYG_B',       'FJERNPRINT',       40,   45,   50),
	(17, 'BYG_B',       'OIS_BBR',          90,  100,  110),
	(18, 'OMSORG_B',    'DAR_ADRESSE',      70,   85,  100),
	(19, 'UDK_FAMYD',   'SF1520',          200,  210,  220),
	(20, 'KY',          'SF1520',          150,  170,  190);

INSERT INTO afregning.usage_batch (batch_key, note)
SELECT format('demo-usage-%s-%s', y, lpad(m::text, 2, '0')),
	   format('Demo: forbrugsleverance for %s-%s', y, lpad(m::text, 2, '0'))
  FROM generate_series(2019, 2021) AS y
 CROSS JOIN generate_series(1, 12) AS m
 ORDER BY y, m;

INSERT INTO afregning.usage
	(period, municipality_code, system_code, service_code, calls, batch_key)
SELECT make_date(y, m, 1), k.kommunekode, p.system_code, p.service_code,
	   k.folketal::bigint
	   * CASE y WHEN 2019 THEN p.rate_2019 WHEN 2020 THEN p.rate_2020 ELSE p.rate_2021 END
	   * (ARRAY[106, 104, 110, 98, 100, 98, 72, 94, 108, 106, 110, 94])[m]
	   * (92 + (k.kommunekode::integer * 7 + p.pair * 3) % 17)
	   / 10000000,
	   format('demo-usage-%s-%s', y, lpad(m::text, 2, '0'))
  FROM generate_series(2019, 2021) AS y
 CROSS JOIN generate_series(1, 12) AS m
 CROSS JOIN demo_kommune k
 CROSS JOIN demo_usage_profile p
 ORDER BY 1, 2, 3, 4;

COMMIT;

/* A short summary of what was loaded. */
SELECT (SELECT count(*) FROM afregning.municipality)   AS municipalities,
	   (SELECT count(*) FROM afregning.billing_year)   AS billing_years,
	   (SELECT count(*) FROM afregning.consumer_system) AS systems,
	   (SELECT count(*) FROM afregning.service)        AS services,
	   (SELECT count(*) FROM afregning.cost_entry)     AS cost_entries,
	   (SELECT count(*) FROM afregning.usage)          AS usage_rows,
	   (SELECT sum(calls) FROM afregning.usage)        AS calls;
