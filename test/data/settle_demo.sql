/*
 * Settles the demo years in the order of the yearly calendar: the price of
 * year Y is announced in spring Y-1 and Y is closed after it ends; with
 * carry_lag 2, 2019 must be closed before 2021 is announced.  Per-call
 * charges of 2019 are billed month by month, those of January-March 2021
 * before the close; close_year posts whatever months are left.
 *
 *   psql -v ON_ERROR_STOP=1 -d DB -f settle_demo.sql    (after demo.sql)
 */
SELECT afregning.announce_price(2019) AS price_2019 \gset
SELECT afregning.announce_price(2020) AS price_2020 \gset
SELECT count(*) AS lines_posted_2019
  FROM generate_series(date '2019-01-01', date '2019-12-01', interval '1 month') AS m,
       afregning.bill_direct(m::date) \gset
SELECT afregning.close_year(2019) AS difference_2019 \gset
SELECT afregning.announce_price(2021) AS price_2021 \gset
SELECT count(*) AS lines_posted_2021
  FROM generate_series(date '2021-01-01', date '2021-03-01', interval '1 month') AS m,
       afregning.bill_direct(m::date) \gset
SELECT afregning.close_year(2020) AS difference_2020 \gset
SELECT afregning.close_year(2021) AS difference_2021 \gset
