-- Corrections (SPEC §5): an actual entry of an open year names what it corrects.
BEGIN;
SELECT plan(7);
SET LOCAL search_path = afregning, public;

INSERT INTO billing_year (year) VALUES (2020), (2021), (2022);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('e20', 2020, 'support_admin', 'expected', 100.00),
	('a20', 2020, 'support_admin', 'actual', 90.00),
	('a22', 2022, 'support_admin', 'actual', 10.00);

SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
				  VALUES ('c21', 2021, 'support_admin', 'actual', 5.00, 'a20')$$,
	'an actual entry may correct an actual entry of an earlier year');
SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
				  VALUES ('c20', 2020, 'support_admin', 'actual', -1.00, 'a20')$$,
	'... or of its own year');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
				   VALUES ('x1', 2021, 'support_admin', 'actual', 5.00, 'e20')$$,
	'23514', NULL, 'an expected entry cannot be corrected by an actual one');
-- closes may run out of order, so a later year's booked cost can be corrected too
SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
				  VALUES ('c22', 2021, 'support_admin', 'actual', 5.00, 'a22')$$,
	'a correction may name an actual entry of a later year');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects)
				   VALUES ('x3', 2021, 'support_admin', 'actual', 5.00, 'nope')$$,
	'23503', NULL, 'a correction of an unknown entry is refused by the foreign key');
SELECT is((SELECT count(*)::integer FROM cost_entry WHERE entry_key LIKE 'x%'), 0,
	'nothing of the refused corrections was written');
SELECT is((SELECT sum(amount) FROM cost_entry WHERE corrects = 'a20'), 4.00,
	'the two corrections of a20 add 5.00 - 1.00');

SELECT * FROM finish();
ROLLBACK;
