
/* ------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------ */

CREATE TYPE @extschema@.region AS ENUM
	('Hovedstaden', 'Sjælland', 'Syddanmark', 'Midtjylland', 'Nordjylland');
COMMENT ON TYPE @extschema@.region IS
	'Danish region (region) a municipality belongs to';

CREATE TYPE @extschema@.system_class AS ENUM
	('municipal', 'monopoly_break', 'udk', 'own_billing', 'kombit_project');
COMMENT ON TYPE @extschema@.system_class IS
	'Class of a consumer system (anvendersystem): kommunalt system, monopolbrudssystem (KY, KSD, SAPA), Udbetaling Danmark, system med egen afregning, KOMBIT-projekt';

CREATE TYPE @extschema@.platform AS ENUM ('serviceplatform', 'support_system');
COMMENT ON TYPE @extschema@.platform IS
	'Where a service runs: Serviceplatformen or Støttesystemerne';

CREATE TYPE @extschema@.funding AS ENUM ('ordered', 'development_pool');
COMMENT ON TYPE @extschema@.funding IS
	'How a service was funded: ordered by consumer systems (bestilt) or by the development pool (udviklingspuljen)';

CREATE TYPE @extschema@.billing_method AS ENUM ('pool', 'per_call');
COMMENT ON TYPE @extschema@.billing_method IS
	'How a service''s consumption is recovered: through the buffet price (buffetpris) or per call from the calling municipality (betaling pr. opslag)';

CREATE TYPE @extschema@.year_status AS ENUM ('open', 'announced', 'closed');
COMMENT ON TYPE @extschema@.year_status IS
	'Lifecycle of a billing year (afregningsår): open, announced (pris udmeldt), closed (afsluttet)';

CREATE TYPE @extschema@.cost_type AS ENUM
	('establishment', 'infrastructure_establishment', 'operations',
	 'support_admin', 'data_consumption', 'dissemination', 'development_pool');
COMMENT ON TYPE @extschema@.cost_type IS
	'Cost type (omkostningstype) of figure 1: etablering, etablering af infrastrukturen, drift og vedligeholdelse, support & administration, dataforbrug, udbredelse og forretningsforståelse, udviklingspulje';

CREATE TYPE @extschema@.cost_basis AS ENUM ('expected', 'actual');
COMMENT ON TYPE @extschema@.cost_basis IS
	'Whether a cost entry is a budget figure (forventet forbrug) or a booked cost (faktisk forbrug)';

CREATE TYPE @extschema@.route AS ENUM ('pool', 'system', 'municipality');
COMMENT ON TYPE @extschema@.route IS
	'Who carries a cost: the buffet pool (buffetpuljen), a consumer system, or a municipality directly';

CREATE TYPE @extschema@.charge_kind AS ENUM ('charge', 'adjustment', 'reversal');
COMMENT ON TYPE @extschema@.charge_kind IS
	'Kind of a direct charge line: first charge of a key, later adjustment (efterregulering), or reversal of a key that disappeared';
