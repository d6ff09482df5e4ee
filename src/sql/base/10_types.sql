
/* ------------------------------------------------------------------
 * Types (the value lists of the input tables are domains, made in
 * 11_labels.sql)
 * ------------------------------------------------------------------ */

CREATE TYPE @extschema@.year_status AS ENUM ('open', 'announced', 'closed');
COMMENT ON TYPE @extschema@.year_status IS
	'Lifecycle of a billing year (afregningsår): open, announced (pris udmeldt), closed (afsluttet)';

CREATE TYPE @extschema@.route AS ENUM ('pool', 'system', 'municipality');
COMMENT ON TYPE @extschema@.route IS
	'Who carries a cost: the buffet pool (buffetpuljen), a consumer system, or a municipality directly';

CREATE TYPE @extschema@.charge_kind AS ENUM ('charge', 'adjustment', 'reversal');
COMMENT ON TYPE @extschema@.charge_kind IS
	'Kind of a direct charge line: first charge of a key, later adjustment (efterregulering), or reversal of a key that disappeared';
