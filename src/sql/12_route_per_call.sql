
/* ------------------------------------------------------------------
 * Route per_call (SPEC §3): data_consumption cost entries of a per-call
 * service are recovered through the per-call charges, so they are
 * neither pool costs nor charges to a municipality.
 *
 * The label is added in the extension script itself; nothing in this
 * script may cast the literal 'per_call' to the route type (a new enum
 * label cannot be used before its transaction commits), so views compare
 * route::text and plpgsql casts at run time.
 *
 * Cost lines that 0.1.0 fixed for such entries carry route 'municipality'
 * (the only cost lines that ever had it); the ledger is not rewritten:
 * the views read a cost line's route 'municipality' as 'per_call'.
 * ------------------------------------------------------------------ */

ALTER TYPE @extschema@.route ADD VALUE 'per_call';
COMMENT ON TYPE @extschema@.route IS
	'Who carries a cost: the buffet pool (buffetpuljen), a consumer system, a municipality directly (rated per-call usage), or per_call: a cost entry of a per-call service, recovered through the per-call charges (betaling pr. opslag) and never part of the pool';
COMMENT ON COLUMN @extschema@.cost_line.route IS
	'pool, system or per_call (data consumption of a per-call service, recovered by the per-call charges); lines fixed by 0.1.0 wrote municipality for per_call, and the views read it so';
COMMENT ON COLUMN @extschema@.usage_line.route IS
	'pool, system or municipality (rated per-call usage: the per-call charges of a municipality)';
