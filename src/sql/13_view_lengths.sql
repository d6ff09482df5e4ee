
/* ------------------------------------------------------------------
 * Lengths the views promise (SPEC §6): views give codes and names as
 * varchar(n), so that BI tools map them to plain text fields.  A cast
 * to varchar(n) would cut a longer value silently; these checks make
 * sure no value is ever longer than its view column.  Codes are already
 * bounded by their format checks (municipality 3, system 32, service 64).
 * ------------------------------------------------------------------ */

ALTER TABLE @extschema@.municipality
	ADD CONSTRAINT municipality_name_length CHECK (pg_catalog.length(name) <= 100);
ALTER TABLE @extschema@.consumer_system
	ADD CONSTRAINT consumer_system_name_length CHECK (pg_catalog.length(name) <= 100);
ALTER TABLE @extschema@.service
	ADD CONSTRAINT service_name_length CHECK (pg_catalog.length(name) <= 100);
ALTER TABLE @extschema@.cost_entry
	ADD CONSTRAINT cost_entry_entry_key_length CHECK (pg_catalog.length(entry_key) <= 200);
