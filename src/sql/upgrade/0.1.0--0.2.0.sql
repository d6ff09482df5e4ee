/*
 * afregning -- upgrade from 0.1.0: the prelude
 *
 * Tables, their rows, grants on them and their dump registration stay as
 * they are.  Everything else that 0.1.0 made (functions, aggregates,
 * views, triggers, policies, the event trigger, the usage check) is
 * dropped here by name, and the src/sql/ files that follow create the
 * current version of each, exactly as a fresh install does.  Nothing is
 * dropped with CASCADE: a view of the user's own built on one of ours
 * stops the upgrade with an error rather than vanishing.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION afregning UPDATE TO '0.2.0'" to load this file. \quit

DROP EVENT TRIGGER afregning_guard_drop;

DROP POLICY own_municipality ON @extschema@.buffet_invoice;
DROP POLICY staff_all_rows ON @extschema@.buffet_invoice;
DROP POLICY own_municipality ON @extschema@.direct_charge_line;
DROP POLICY staff_all_rows ON @extschema@.direct_charge_line;
DROP POLICY own_municipality ON @extschema@.installment;
DROP POLICY staff_all_rows ON @extschema@.installment;
DROP POLICY own_municipality ON @extschema@.municipality;
DROP POLICY staff_all_rows ON @extschema@.municipality;
DROP POLICY own_municipality ON @extschema@.municipality_role;
DROP POLICY staff_all_rows ON @extschema@.municipality_role;
DROP POLICY own_municipality ON @extschema@.population;
DROP POLICY staff_all_rows ON @extschema@.population;
DROP POLICY own_municipality ON @extschema@.schedule_charge;
DROP POLICY staff_all_rows ON @extschema@.schedule_charge;
DROP POLICY own_municipality ON @extschema@.usage;
DROP POLICY staff_all_rows ON @extschema@.usage;
DROP POLICY own_municipality ON @extschema@.usage_line;
DROP POLICY staff_all_rows ON @extschema@.usage_line;

/* views, each before those it reads */
DROP VIEW @extschema@.price_history;
DROP VIEW @extschema@.cost_type_comparison;
DROP VIEW @extschema@.system_charge;
DROP VIEW @extschema@.cost_breakdown;
DROP VIEW @extschema@.routed_cost;
DROP VIEW @extschema@.cost_allocation;
DROP VIEW @extschema@.buffet_price;
DROP VIEW @extschema@.carry_forward;
DROP VIEW @extschema@.cpr_intensity;
DROP VIEW @extschema@.direct_charge;
DROP VIEW @extschema@.municipality_invoice;
DROP VIEW @extschema@.open_carry_forward;

/* usage partitions carry a TRUNCATE guard of their own, made with the year */
DO $$
DECLARE
	part regclass;
BEGIN
	FOR part IN SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
				 WHERE i.inhparent = '@extschema@.usage'::regclass
	LOOP
		EXECUTE format('DROP TRIGGER usage_no_truncate ON %s', part);
	END LOOP;
END
$$;
DROP TRIGGER baseline_guard ON @extschema@.baseline;
DROP TRIGGER billing_year_guard ON @extschema@.billing_year;
DROP TRIGGER billing_year_partition ON @extschema@.billing_year;
DROP TRIGGER buffet_invoice_append_only ON @extschema@.buffet_invoice;
DROP TRIGGER buffet_invoice_no_truncate ON @extschema@.buffet_invoice;
DROP TRIGGER carry_posting_append_only ON @extschema@.carry_posting;
DROP TRIGGER carry_posting_no_truncate ON @extschema@.carry_posting;
DROP TRIGGER consumer_system_usage_reference ON @extschema@.consumer_system;
DROP TRIGGER cost_entry_append_only ON @extschema@.cost_entry;
DROP TRIGGER cost_entry_guard ON @extschema@.cost_entry;
DROP TRIGGER cost_entry_no_truncate ON @extschema@.cost_entry;
DROP TRIGGER cost_line_append_only ON @extschema@.cost_line;
DROP TRIGGER cost_line_no_truncate ON @extschema@.cost_line;
DROP TRIGGER direct_charge_line_append_only ON @extschema@.direct_charge_line;
DROP TRIGGER direct_charge_line_no_truncate ON @extschema@.direct_charge_line;
DROP TRIGGER installment_append_only ON @extschema@.installment;
DROP TRIGGER installment_no_truncate ON @extschema@.installment;
DROP TRIGGER municipality_usage_reference ON @extschema@.municipality;
DROP TRIGGER population_guard ON @extschema@.population;
DROP TRIGGER price_announcement_append_only ON @extschema@.price_announcement;
DROP TRIGGER price_announcement_no_truncate ON @extschema@.price_announcement;
DROP TRIGGER schedule_charge_append_only ON @extschema@.schedule_charge;
DROP TRIGGER schedule_charge_no_truncate ON @extschema@.schedule_charge;
DROP TRIGGER service_usage_reference ON @extschema@.service;
DROP TRIGGER tariff_guard ON @extschema@.tariff;
DROP TRIGGER usage_append_only ON @extschema@.usage;
DROP TRIGGER usage_no_truncate ON @extschema@.usage;
DROP TRIGGER usage_batch_append_only ON @extschema@.usage_batch;
DROP TRIGGER usage_batch_no_truncate ON @extschema@.usage_batch;
DROP TRIGGER usage_line_append_only ON @extschema@.usage_line;
DROP TRIGGER usage_line_no_truncate ON @extschema@.usage_line;
DROP TRIGGER year_close_append_only ON @extschema@.year_close;
DROP TRIGGER year_close_no_truncate ON @extschema@.year_close;

ALTER TABLE @extschema@.usage DROP CONSTRAINT usage_row_valid;

DROP AGGREGATE @extschema@.rate(bigint, numeric);
DROP FUNCTION @extschema@.announce_price(integer);
DROP FUNCTION @extschema@.apportion(numeric, numeric);
DROP FUNCTION @extschema@.baseline_applies(@extschema@.system_class, @extschema@.platform);
DROP FUNCTION @extschema@.bill_direct(date);
DROP FUNCTION @extschema@.close_year(integer);
DROP FUNCTION @extschema@.create_usage_partition();
DROP FUNCTION @extschema@.explain_price(integer);
DROP FUNCTION @extschema@.fixed_cost_lines(integer, @extschema@.cost_basis);
DROP FUNCTION @extschema@.forecast_price(integer);
DROP FUNCTION @extschema@.graduated_charge(bigint, integer[], numeric[]);
DROP FUNCTION @extschema@.guard_billing_year();
DROP FUNCTION @extschema@.guard_cost_entry();
DROP FUNCTION @extschema@.guard_drop_extension();
DROP FUNCTION @extschema@.guard_tariff();
DROP FUNCTION @extschema@.guard_usage_reference();
DROP FUNCTION @extschema@.guard_year_rows();
DROP FUNCTION @extschema@.lock_year(integer);
DROP FUNCTION @extschema@.month_tariff(date, date);
DROP FUNCTION @extschema@.my_municipalities();
DROP FUNCTION @extschema@.per_call_lines(date);
DROP FUNCTION @extschema@.per_call_lines(date, date);
DROP FUNCTION @extschema@.per_citizen_price(numeric, bigint, integer);
DROP FUNCTION @extschema@.post_direct(date, date);
DROP FUNCTION @extschema@.post_schedule_charges(integer);
DROP FUNCTION @extschema@.preview_price(integer);
DROP FUNCTION @extschema@.rate_accum(internal, bigint, numeric);
DROP FUNCTION @extschema@.rate_combine(internal, internal);
DROP FUNCTION @extschema@.rate_deserialize(bytea, internal);
DROP FUNCTION @extschema@.rate_final(internal);
DROP FUNCTION @extschema@.rate_serialize(internal);
DROP FUNCTION @extschema@.rated_usage(integer);
DROP FUNCTION @extschema@.refuse_ledger_change();
DROP FUNCTION @extschema@.refuse_locked_year(integer, text, text);
DROP FUNCTION @extschema@.refuse_missing_tariff(text, date);
DROP FUNCTION @extschema@.restoring();
DROP FUNCTION @extschema@.run_settlement(text, date);
DROP FUNCTION @extschema@.schedule_jobs();
DROP FUNCTION @extschema@.set_year_status(integer, @extschema@.year_status);
DROP FUNCTION @extschema@.tariff_effective_month(date);
DROP FUNCTION @extschema@.usage_pair();
DROP FUNCTION @extschema@.usage_route(@extschema@.system_class, @extschema@.billing_method);
DROP FUNCTION @extschema@.usage_row_valid(date, text, text, text, text);
DROP FUNCTION @extschema@.what_if_price(integer, jsonb, bigint);
DROP FUNCTION @extschema@.year_status(integer);
