-- DROP EXTENSION must not silently delete the ledgers (SPEC §7).
BEGIN;
SELECT plan(6);
SET LOCAL search_path = afregning, public;

-- an empty ledger may be dropped: nothing would be lost
SAVEPOINT empty;
SELECT lives_ok('DROP EXTENSION afregning', 'an extension with empty ledgers can be dropped');
ROLLBACK TO SAVEPOINT empty;

INSERT INTO billing_year (year) VALUES (2019);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('k1', 2019, 'support_admin', 'expected', 10.00);

SELECT throws_ok('DROP EXTENSION afregning', '55000', NULL,
	'DROP EXTENSION is refused while the ledgers hold data');
SELECT throws_ok('DROP SCHEMA afregning CASCADE', '55000', NULL,
	'DROP SCHEMA ... CASCADE is refused as well');
SELECT is((SELECT count(*)::integer FROM cost_entry), 1, 'the cost entry is still there');

SAVEPOINT allowed;
SET LOCAL afregning.allow_drop = on;
SELECT lives_ok('DROP EXTENSION afregning', 'with afregning.allow_drop = on the drop goes through');
ROLLBACK TO SAVEPOINT allowed;
SELECT has_extension('afregning', 'rolled back: the extension is back');

SELECT * FROM finish();
ROLLBACK;
