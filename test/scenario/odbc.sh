#!/usr/bin/env bash
# The BI surface as a dashboard sees it (SPEC §6): every view read by a
# municipality login role, each statement in a fresh connection, and the
# SQL types of the view columns as psqlODBC reports them to a client.
#
#   a) a municipality role reads every view without an error, sees only its
#      own municipality's rows and the same national figures as the staff;
#   b) through ODBC (Debian's odbc-postgresql, unixODBC, python3-pyodbc):
#      no view column is a long text (SQL_LONGVARCHAR / SQL_WLONGVARCHAR,
#      a memo field in a spreadsheet); codes are varchar of their size;
#      money is numeric(14,2), totals included; citizens and calls bigint.
#
# Fixture (as test/pgtap/views.sql): 2021 citizens 101 1,000; 147 2,000;
# 461 500; 751 4,000; CPR per call at 0.50: January 101 100, 147 300,
# 751 200, February 101 20 calls; 101 by UDKX 50 calls (a system's);
# CPR cost entries 1,000.00 expected and 280.00 actual (route per_call).
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names a database this script creates and drops. Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

PSQL="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}/psql"
[ -x "$PSQL" ] || PSQL=psql
DB=${AF_SCENARIO_DB:-scenario_odbc}
# python3-pyodbc installs for the Debian python3, not for another one on PATH
PY=${AF_PYTHON:-/usr/bin/python3}
# the Unicode driver of odbc-postgresql, wherever the package put it
DRIVER=${AF_ODBC_DRIVER:-$(dpkg -L odbc-postgresql 2>/dev/null | grep '/psqlodbcw\.so$' | head -1)}
KBH=afregning_odbc_kbh		# mapped to 101
AAR=afregning_odbc_aarhus	# mapped to 751

cleanup() {
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
		-c "DROP ROLE IF EXISTS $KBH" -c "DROP ROLE IF EXISTS $AAR" >/dev/null 2>&1
}
trap cleanup EXIT

# one statement in a fresh connection: as the cluster's superuser, or as ROLE
q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
q_as() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -U "$1" -d "$DB" -c "$2"; }

# ---- database, roles and fixture -------------------------------------------

cleanup
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$DB\"" \
	-c "CREATE ROLE $KBH LOGIN IN ROLE afregning_municipality" \
	-c "CREATE ROLE $AAR LOGIN IN ROLE afregning_municipality" >/dev/null || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL || exit 1
CREATE EXTENSION afregning;
SET search_path = afregning;
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden'),
	('461', 'Odense', 'Syddanmark'), ('751', 'Aarhus', 'Midtjylland');
INSERT INTO municipality_role (role_name, municipality_code) VALUES ('$KBH', '101'), ('$AAR', '751');
INSERT INTO consumer_system (code, name, class) VALUES
	('KOMM', 'Kommunalt fagsystem', 'municipal'), ('UDKX', 'UDK-system', 'udk');
INSERT INTO service (code, name, platform, billing) VALUES
	('CPR', 'CPR-servicen', 'serviceplatform', 'per_call'),
	('SAG', 'Sagsservice', 'serviceplatform', 'pool');
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
	('CPR', '2000-01-01', 0.5000), ('SAG', '2000-01-01', 0.0125);
INSERT INTO billing_year (year, carry_spread) VALUES (2021, 2);
INSERT INTO billing_year (year) VALUES (2022);
INSERT INTO population (year, municipality_code, citizens)
SELECT y, m, c FROM (VALUES (2021), (2022)) AS y(y),
	(VALUES ('101', 1000), ('147', 2000), ('461', 500), ('751', 4000)) AS p(m, c);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('e21-sa', 2021, 'support_admin', 'expected', NULL, NULL, 7500.00),
	('e21-cpr', 2021, 'data_consumption', 'expected', 'CPR', NULL, 1000.00),
	('a21-sa', 2021, 'support_admin', 'actual', NULL, NULL, 8000.00),
	('a21-cpr', 2021, 'data_consumption', 'actual', 'CPR', NULL, 280.00),
	('a21-udk', 2021, 'data_consumption', 'actual', 'CPR', 'UDKX', 40.00),
	('e22-sa', 2022, 'support_admin', 'expected', NULL, NULL, 15000.00);
SELECT announce_price(2021);
BEGIN;	-- a batch is loaded by the transaction that registers it (S11)
INSERT INTO usage_batch (batch_key) VALUES ('b21');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'KOMM', 'CPR', 100, 'b21'), ('2021-01-01', '147', 'KOMM', 'CPR', 300, 'b21'),
	('2021-01-01', '751', 'KOMM', 'CPR', 200, 'b21'), ('2021-01-01', '101', 'UDKX', 'CPR', 50, 'b21'),
	('2021-01-01', '101', 'KOMM', 'SAG', 1001, 'b21'), ('2021-02-01', '101', 'KOMM', 'CPR', 20, 'b21');
COMMIT;
SELECT count(*) FROM bill_direct('2021-01-01');
SELECT close_year(2021);
SQL

# ---- a) every view, as a municipality, in fresh connections ----------------

views=$(q "SELECT c.relname FROM pg_class c
		   WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v' ORDER BY 1")
[ -n "$views" ]; ok $? "the schema has views"

for v in $views; do
	err=$(q_as "$KBH" "SELECT count(*) FROM afregning.$v" 2>&1 >/dev/null)
	[ -z "$err" ]; ok $? "$KBH reads $v without an error" "$err"
done

# rows that belong to a municipality: only its own
for v in $views; do
	col=$(q "SELECT a.attname FROM pg_attribute a
			  WHERE a.attrelid = 'afregning.$v'::regclass
				AND a.attname IN ('municipality_code') LIMIT 1")
	[ "$v" = direct_charge ] && col=payer_code
	[ -z "$col" ] && continue
	is "$(q_as "$KBH" "SELECT count(*) FROM afregning.$v WHERE $col IS DISTINCT FROM '101'")" 0 \
		"$KBH: $v shows no other municipality's row"
	is "$(q_as "$KBH" "SELECT count(*) > 0 FROM afregning.$v WHERE $col = '101'")" \
	   "$(q "SELECT count(*) > 0 FROM afregning.$v WHERE $col = '101'")" \
		"$KBH: $v shows its own rows"
done
is "$(q_as "$AAR" "SELECT string_agg(DISTINCT municipality_code, ',') FROM afregning.municipality_invoice")" 751 \
	"$AAR: municipality_invoice shows 751 only"

# national figures: the same as the staff see them
for sql in \
	"SELECT year, price, citizens FROM afregning.buffet_price ORDER BY 1" \
	"SELECT year, service_code, expected_cost, cost, calls, charged, difference FROM afregning.per_call_recovery ORDER BY 1, 2" \
	"SELECT year, line, amount, citizens FROM afregning.price_waterfall ORDER BY 1, 2" \
	"SELECT from_year, to_year, actual_pool, billed, difference, posted FROM afregning.carry_forward ORDER BY 1, 2" \
	"SELECT year, cost_type, basis, route, amount FROM afregning.cost_breakdown WHERE route <> 'municipality' ORDER BY 1, 2, 3, 4" \
	"SELECT year, system_code, cost_type, basis, calls, amount FROM afregning.system_charge ORDER BY 1, 2, 3, 4" \
	"SELECT year, price, buffet_amount, total FROM afregning.invoice_preview WHERE municipality_code = '101'" \
	"SELECT * FROM afregning.municipality_benchmark WHERE municipality_code = '101' ORDER BY year"
do
	want=$(q "$sql")
	got=$(q_as "$KBH" "$sql" 2>&1)
	[ -n "$want" ] && [ "$got" = "$want" ]; ok $? "$KBH sees the staff's national figures: ${sql:7:60}" "got: $got / want: $want"
done
# hand-worked: 101 ranks 2nd of 4 by calls per 1,000 (120.0; 147 150.0,
# 751 50.0, 461 0.0); quartiles over all four, not over its own row
is "$(q_as "$KBH" "SELECT calls_per_1000_citizens, calls_rank, municipalities, calls_per_1000_median
				  FROM afregning.municipality_benchmark WHERE year = 2021")" "120.0|2|4|85.0" \
	"$KBH: its benchmark row ranks 2 of 4, median 85.0 over every municipality"
# the charges of all municipalities, 310.00, against the cost 280.00
is "$(q_as "$KBH" "SELECT charged, cost, difference FROM afregning.per_call_recovery WHERE year = 2021")" \
	"310.00|280.00|30.00" "$KBH: per_call_recovery is national: 310.00 charged against 280.00"
# the municipality route of cost_breakdown holds its own charges: 60.00
is "$(q_as "$KBH" "SELECT amount FROM afregning.cost_breakdown WHERE year = 2021 AND route = 'municipality'")" \
	"60.00" "$KBH: cost_breakdown's municipality route holds only its own per-call charges (60.00)"

# ---- b) the types through ODBC ----------------------------------------------

if [ ! -x "$PY" ] || ! "$PY" -c 'import pyodbc' 2>/dev/null || [ ! -e "$DRIVER" ]; then
	ok 1 "ODBC: python3-pyodbc and odbc-postgresql are installed" "missing $PY pyodbc or $DRIVER"
else
	"$PY" - "$DRIVER" "$PGHOST" "$PGPORT" "$DB" "$KBH" $n <<'PYTHON'
import re, sys
import pyodbc

driver, host, port, db, user, n = sys.argv[1:7]
n = int(n)
SQL_NAMES = {-10: 'SQL_WLONGVARCHAR', -1: 'SQL_LONGVARCHAR', -9: 'SQL_WVARCHAR', 12: 'SQL_VARCHAR',
             2: 'SQL_NUMERIC', 3: 'SQL_DECIMAL', -5: 'SQL_BIGINT', 4: 'SQL_INTEGER',
             91: 'SQL_TYPE_DATE', 93: 'SQL_TYPE_TIMESTAMP', 8: 'SQL_DOUBLE'}

def ok(cond, desc, diag=None):
    global n
    n += 1
    print(('ok %d - %s' if cond else 'not ok %d - %s') % (n, desc))
    if not cond and diag:
        print('#   ' + str(diag))

cn = pyodbc.connect('Driver=%s;Servername=%s;Port=%s;Database=%s;Username=%s' % (driver, host, port, db, user),
                    autocommit=True)
cur = cn.cursor()
cur.execute("SELECT c.relname FROM pg_catalog.pg_class c "
            "WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v' ORDER BY 1")
views = [r[0] for r in cur.fetchall()]
ok(len(views) >= 17, 'ODBC: %d views listed' % len(views))

# the checks below can tell: a plain text column is a long text to ODBC,
# and an unsized text result is wider than 255
tcols = {c.column_name: c.data_type for c in cur.columns(table='municipality', schema='afregning').fetchall()}
ok(tcols.get('name') in (-10, -1), 'ODBC control: the text column municipality.name is reported as a long text',
   tcols)
cur.execute("SELECT 'x'::text AS t")
ok((cur.description[0][3] or 0) > 255, 'ODBC control: an unsized text result is wider than 255', cur.description)
cur.fetchall()

money = re.compile(r'(amount|_pool|carry_in|billed|difference|^posted$|^price$|charged|cost$|total|expected$|actual$|change$)')
code_size = {'municipality_code': 3, 'system_code': 32, 'payer_code': 32, 'service_code': 64}
for v in views:
    cols = cur.columns(table=v, schema='afregning').fetchall()
    kinds = {c.column_name: (c.data_type, c.column_size, c.decimal_digits) for c in cols}
    bad = []
    for name, (t, size, digits) in kinds.items():
        label = '%s %s(%s,%s)' % (name, SQL_NAMES.get(t, t), size, digits)
        if t in (-10, -1):
            bad.append(label + ' is a long text')
        elif name in code_size and (t not in (-9, 12) or size != code_size[name]):
            bad.append(label + ' is not varchar(%d)' % code_size[name])
        elif name in ('municipality_name', 'system_name') and (t not in (-9, 12) or size != 100):
            bad.append(label + ' is not varchar(100)')
        elif name.endswith('user_name') and (t not in (-9, 12) or size != 64):
            bad.append(label + ' is not varchar(64), a role name')
        elif money.search(name) and (t not in (2, 3) or size != 14 or digits != 2):
            bad.append(label + ' is not numeric(14,2)')
        elif name in ('citizens', 'calls') and t != -5:
            bad.append(label + ' is not bigint')
    ok(len(kinds) > 0 and not bad, 'ODBC: %s columns have definite SQL types (%d columns)' % (v, len(kinds)),
       '; '.join(bad))
    # what a query hands to the client: the result set's own description
    cur.execute('SELECT * FROM afregning.%s' % v)
    long_text = [d[0] for d in cur.description if d[1] is str and (d[3] or 0) > 255]
    ok(not long_text, 'ODBC: SELECT * FROM %s returns no text column longer than 255' % v, long_text)
    cur.fetchall()

# municipality_invoice: the total is numeric(14,2) like its parts, the name varchar(100)
cur.execute('SELECT municipality_code, municipality_name, citizens, buffet_amount, total '
            'FROM afregning.municipality_invoice')
d = {c[0]: c for c in cur.description}
ok((d['total'][4], d['total'][5]) == (14, 2) and (d['buffet_amount'][4], d['buffet_amount'][5]) == (14, 2),
   'ODBC: municipality_invoice.total is numeric(14,2) like buffet_amount',
   (d['total'], d['buffet_amount']))
ok(d['municipality_code'][3] == 3 and d['municipality_name'][3] == 100,
   'ODBC: municipality_code is 3 characters, municipality_name 100', (d['municipality_code'], d['municipality_name']))
rows = cur.fetchall()
ok([(r.municipality_code, str(r.total)) for r in rows] == [('101', '26060.00')],
   'ODBC: the municipality reads its own invoice: 1,000.00 + direct 50.00 + 10.00 + infrastructure 25,000.00',
   rows)
print('1..%d' % n)
PYTHON
fi
