
/* ------------------------------------------------------------------
 * Dump registration: user data survives pg_dump / pg_restore
 * ------------------------------------------------------------------ */

SELECT pg_catalog.pg_extension_config_dump('@extschema@.municipality', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.billing_year', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.population', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consumer_system', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.service', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.service_order', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tariff', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.baseline', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cost_entry', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.usage_batch', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.price_announcement', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.buffet_invoice', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.installment', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.year_close', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.usage_line', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.direct_charge_line', '');
/* the seeded infrastructure schedule comes back with CREATE EXTENSION */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.charge_schedule',
	$$WHERE (schedule_code, valid_from_year) <> ('infrastructure', 2020)$$);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.schedule_charge', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cost_line', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.municipality_role', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.settlement_run', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.settlement_run_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.direct_charge_line_line_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.carry_posting', '');
