#!/usr/bin/env bash
# Writes the settlement report of an afregning database as one HTML file
# with SVG charts: the buffet price per year, the waterfall of the last
# closed year, the carry-forwards, the largest invoices and the per-call
# use per 1,000 citizens.  Everything is read from the public views.
#
# Usage: settlement_report.sh OUTPUT.html [psql connection options]
#   e.g. settlement_report.sh report.html -d billing -U finance_reader
# Needs psql and gnuplot; the role needs only to read the views (a member
# of afregning_reader sees the whole country).

set -euo pipefail

out=${1:?usage: settlement_report.sh OUTPUT.html [psql options]}
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# tab-separated rows of a query, no headers
rows() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 "$@"; }
query() { local file=$1; shift; rows "$@" >"$tmp/$file"; }

conn=("$@")
query prices "${conn[@]}" -c "
	SELECT year, status, expected_pool, carry_in, pool, citizens, price
	  FROM afregning.buffet_price WHERE price IS NOT NULL ORDER BY year"
last_closed=$(rows "${conn[@]}" -c "SELECT max(year) FROM afregning.billing_year WHERE status = 'closed'")
last_billed=$(rows "${conn[@]}" -c "SELECT max(year) FROM afregning.billing_year WHERE status <> 'open'")
if [ -n "$last_closed" ]; then
	query waterfall "${conn[@]}" -c "SELECT line, item, amount FROM afregning.explain_price($last_closed) ORDER BY line"
else
	: >"$tmp/waterfall"
fi
query carry "${conn[@]}" -c "
	SELECT DISTINCT from_year, to_year, actual_pool, carry_in, billed, difference
	  FROM afregning.carry_forward ORDER BY from_year, to_year"
if [ -n "$last_billed" ]; then
	query invoices "${conn[@]}" -c "
		SELECT municipality_code, municipality_name, citizens, buffet_amount, direct_amount,
			   infrastructure_amount, total
		  FROM afregning.municipality_invoice WHERE year = $last_billed
		 ORDER BY total DESC, municipality_code LIMIT 10"
else
	: >"$tmp/invoices"
fi
per_call_year=$(rows "${conn[@]}" -c "SELECT max(year) FROM afregning.cpr_intensity WHERE calls > 0")
if [ -n "$per_call_year" ]; then
	query percall "${conn[@]}" -c "
		SELECT municipality_code, municipality_name, citizens, calls, calls_per_1000_citizens, amount
		  FROM afregning.cpr_intensity WHERE year = $per_call_year
		 ORDER BY calls_per_1000_citizens DESC, municipality_code LIMIT 15"
else
	: >"$tmp/percall"
fi

# ---- charts --------------------------------------------------------------
chart() {	# chart NAME TITLE YLABEL DATAFILE USING [DECIMALS [YRANGE]]
	gnuplot <<-GP >"$tmp/$1.svg"
		set terminal svg size 720,360 dynamic font "sans,11" background rgb "white"
		set termoption noenhanced
		set title "$2"
		set yrange ${7:-[0:*]}
		set xzeroaxis
		set format y "%.${6:-0}f"
		set ylabel "$3"
		set style fill solid 0.8 border -1
		set boxwidth 0.7
		set grid ytics
		set datafile separator "\t"
		set key off
		set xtics rotate by -40
		plot "$4" using $5 with boxes linecolor rgb "#2b6cb0"
	GP
}
[ -s "$tmp/prices" ] && chart price "Buffet price per citizen" "DKK per citizen" "$tmp/prices" '7:xtic(1)' 2
if [ -s "$tmp/waterfall" ]; then
	# the cost types and the carry-in, which add up to the pool
	awk -F'\t' '$2 != "citizens" && $2 != "price_unrounded" && $2 != "price" && $2 != "billed" && $2 != "rounding_residual"' \
		"$tmp/waterfall" >"$tmp/waterfall.bars"
	chart waterfall "What made up the price of $last_closed" "DKK" "$tmp/waterfall.bars" '3:xtic(2)' 0 '[*:*]'
fi
[ -s "$tmp/percall" ] && chart percall "Per-call lookups per 1,000 citizens, $per_call_year" "calls per 1,000 citizens" "$tmp/percall" '5:xtic(2)'

# ---- the page ------------------------------------------------------------
table() {	# table FILE HEADER...
	local file=$1; shift
	printf '<table>\n<tr>'
	for h in "$@"; do printf '<th>%s</th>' "$h"; done
	printf '</tr>\n'
	awk -F'\t' '{
		gsub(/&/, "\\&amp;"); gsub(/</, "\\&lt;"); gsub(/>/, "\\&gt;");
		printf "<tr>";
		for (i = 1; i <= NF; i++) {
			cls = ($i ~ /^-?[0-9.]+$/) ? " class=\"n\"" : "";
			printf "<td%s>%s</td>", cls, $i;
		}
		printf "</tr>\n";
	}' "$file"
	printf '</table>\n'
}
svg() { [ -s "$tmp/$1.svg" ] && sed -n '/<svg/,$p' "$tmp/$1.svg" || true; }

{
	cat <<-HTML
		<!DOCTYPE html>
		<html lang="en"><head><meta charset="utf-8">
		<title>Settlement report (afregningsrapport)</title>
		<style>
		body { font-family: sans-serif; margin: 2em; color: #1a202c; }
		table { border-collapse: collapse; margin: 1em 0; }
		th, td { border: 1px solid #cbd5e0; padding: 0.25em 0.6em; }
		th { background: #edf2f7; text-align: left; }
		td.n { text-align: right; font-variant-numeric: tabular-nums; }
		</style></head><body>
		<h1>Settlement report (afregningsrapport)</h1>
		<p>Written $(date -u '+%Y-%m-%d %H:%M UTC') from the views of schema afregning. Amounts in DKK.</p>
		<h2>Buffet price per year (buffetpris)</h2>
	HTML
	svg price
	table "$tmp/prices" year status expected_pool carry_in pool citizens price
	echo "<h2>Waterfall of the last closed year${last_closed:+ ($last_closed)} (prisudregning)</h2>"
	svg waterfall
	table "$tmp/waterfall" line item amount
	echo "<h2>Carry-forwards (overførsel af difference)</h2>"
	table "$tmp/carry" from_year to_year actual_pool carry_in billed difference
	echo "<h2>Largest invoices${last_billed:+ of $last_billed} (kommunefakturaer)</h2>"
	table "$tmp/invoices" code municipality citizens buffet direct infrastructure total
	echo "<h2>Per-call use per 1,000 citizens${per_call_year:+, $per_call_year} (CPR-opslag)</h2>"
	svg percall
	table "$tmp/percall" code municipality citizens calls per_1000 amount
	echo "</body></html>"
} >"$out"
