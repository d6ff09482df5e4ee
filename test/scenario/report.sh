#!/usr/bin/env bash
# The settlement report (docs/report/settlement_report.sh) of the demo
# holds the demo's figures: every price per year, the waterfall of the last
# closed year, every carry-forward, the largest invoice and the municipality
# with the most per-call lookups per 1,000 citizens, each as the views give
# it; and it draws its three charts as SVG.
#
# Environment: PGHOST, PGPORT, PGUSER of a running cluster; AF_SCENARIO_DB
# names a database this script creates and drops. Prints TAP.

set -u

. "$(dirname "$0")/../lib/tap.sh"

BIN="${AF_PG_BIN:-/usr/lib/postgresql/${AF_PG_VERSION:-15}/bin}"
PSQL="$BIN/psql"
DB=${AF_SCENARIO_DB:-scenario_report}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA="$HERE/../data"
REPORT="$HERE/../../docs/report/settlement_report.sh"
TMP=$(mktemp -d)

cleanup() {
	"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

q() { "$PSQL" -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" >/dev/null
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION afregning" \
	-v datadir="$DATA" -f "$DATA/demo.sql" -f "$DATA/settle_demo.sql" >"$TMP/load.log" 2>&1
ok $? "the demo loads and settles 2019-2021"

PATH="$BIN:$PATH" bash "$REPORT" "$TMP/report.html" -d "$DB" >"$TMP/report.log" 2>&1
rc=$?
[ $rc -ne 0 ] && sed 's/^/# /' "$TMP/report.log"
ok $rc "the report is written"

html="$TMP/report.html"
# a figure is in the report when a table cell holds it
cell() { grep -qF "<td class=\"n\">$1</td>" "$html"; }
all_cells() {	# every value of the query is a cell of the report
	local v missing=0
	while IFS= read -r v; do cell "$v" || { echo "# missing: $v"; missing=1; }; done < <(q "$1")
	return $missing
}

all_cells "SELECT price FROM afregning.buffet_price WHERE price IS NOT NULL"
ok $? "every price per year is in the report"
# the demo's prices of 2019 and 2020 are the published ones (SPEC §9)
cell "1.94" && cell "2.79"
ok $? "2019 at 1.94 and 2020 at 2.79 kr per citizen"
all_cells "SELECT amount FROM afregning.explain_price(2021) WHERE item IN ('pool', 'carry_in', 'price', 'billed')"
ok $? "the waterfall of 2021, the last closed year"
all_cells "SELECT DISTINCT difference FROM afregning.carry_forward"
ok $? "every carry-forward difference"
all_cells "SELECT total FROM afregning.municipality_invoice WHERE year = 2021 ORDER BY total DESC LIMIT 1"
ok $? "the largest invoice of 2021"
top=$(q "SELECT municipality_name FROM afregning.cpr_intensity WHERE year = 2021
		 ORDER BY calls_per_1000_citizens DESC, municipality_code LIMIT 1")
grep -qF "<td>$top</td>" "$html"
ok $? "the municipality with most per-call lookups per 1,000 citizens ($top)"
[ "$(grep -c '<svg' "$html")" -eq 3 ] && [ "$(grep -c '</svg>' "$html")" -eq 3 ]
ok $? "three SVG charts: price, waterfall, per-call use"

echo "1..$n"
[ $failed -eq 0 ]
