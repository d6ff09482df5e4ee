
/* ------------------------------------------------------------------
 * C functions and aggregates: usage rating and per-citizen pricing
 * ------------------------------------------------------------------ */

/*
 * Support functions of the aggregate rate(calls, unit_price).  The state
 * is internal (a 128-bit sum in aggregate memory), so the transition and
 * combine functions cannot be STRICT (PostgreSQL refuses a strict
 * transition function without an initial value for an internal state);
 * they skip rows with a null input themselves, as sum() does.
 */
CREATE FUNCTION @extschema@.rate_accum(internal, bigint, numeric)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'rate_accum'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_accum(internal, bigint, numeric) IS
	'Transition function of rate(calls, unit_price): adds calls × unit price exactly; rows with a null input are skipped';

CREATE FUNCTION @extschema@.rate_combine(internal, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'rate_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_combine(internal, internal) IS
	'Combine function of rate(calls, unit_price): adds two partial states of a parallel or partial aggregation';

CREATE FUNCTION @extschema@.rate_serialize(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'rate_serialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_serialize(internal) IS
	'Serialize function of rate(calls, unit_price): the partial state as 24 bytes (128-bit sum, row count)';

CREATE FUNCTION @extschema@.rate_deserialize(bytea, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'rate_deserialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_deserialize(bytea, internal) IS
	'Deserialize function of rate(calls, unit_price): reads and validates a state written by rate_serialize';

CREATE FUNCTION @extschema@.rate_final(internal)
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'rate_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rate_final(internal) IS
	'Final function of rate(calls, unit_price): the sum rounded once, half away from zero, to øre; null when no row had both inputs';

CREATE AGGREGATE @extschema@.rate(calls bigint, unit_price numeric) (
	SFUNC = @extschema@.rate_accum,
	STYPE = internal,
	SSPACE = 64,
	FINALFUNC = @extschema@.rate_final,
	COMBINEFUNC = @extschema@.rate_combine,
	SERIALFUNC = @extschema@.rate_serialize,
	DESERIALFUNC = @extschema@.rate_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.rate(bigint, numeric) IS
	'Rated usage (afregnet forbrug) of a group of usage rows: the sum of calls × unit_price, rounded once, half away from zero, to øre (never row by row). unit_price is a tariff in DKK per call with at most 4 decimals. Rows with a null input are skipped; null when there is none. Errors: 22023 negative calls, or a unit price that is negative, NaN, infinite or has more than 4 decimals; 22003 a result that does not fit. Parallel safe.';
REVOKE ALL ON FUNCTION @extschema@.rate(bigint, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.rate(bigint, numeric) TO afregning_admin, afregning_reader, afregning_municipality;

/* ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.per_citizen_price(pool numeric, citizens bigint,
											  decimals integer)
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'per_citizen_price'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.per_citizen_price(numeric, bigint, integer) IS
	'Buffet price per citizen (buffetpris pr. borger, SPEC R2): pool / citizens rounded half away from zero to decimals places (0 to 4), with exactly that scale. The pool is first rounded half away from zero to whole øre; a pool of zero or less gives price 0 (the difference is carried forward). Computed exactly in integers. Errors: 22012 no citizens, 22023 negative citizens, decimals outside 0..4 or a pool that is not finite, 22003 a pool that does not fit.';
REVOKE ALL ON FUNCTION @extschema@.per_citizen_price(numeric, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.per_citizen_price(numeric, bigint, integer) TO afregning_admin, afregning_reader, afregning_municipality;

CREATE FUNCTION @extschema@.graduated_charge(citizens bigint,
											 from_citizens integer[],
											 rates numeric[])
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'graduated_charge'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.graduated_charge(bigint, integer[], numeric[]) IS
	'Graduated per-citizen charge (trappeskala), e.g. the infrastructure price (infrastrukturpris, SPEC R11): tier i covers the citizens above from_citizens[i] up to from_citizens[i+1] (the last tier is open-ended) at rates[i] DKK per citizen; the sum is rounded once, half away from zero, to øre. Example: 25.00 kr per citizen, 12.50 above 150,000: graduated_charge(632340, ''{0,150000}'', ''{25.00,12.50}'') = 9779250.00. from_citizens must start at 0 and increase strictly; the arrays are one-dimensional, of the same non-zero length, without nulls; rates are finite, not negative, with at most 4 decimals. Errors: 22023 for any of these or negative citizens, 22003 a result that does not fit.';
REVOKE ALL ON FUNCTION @extschema@.graduated_charge(bigint, integer[], numeric[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.graduated_charge(bigint, integer[], numeric[]) TO afregning_admin, afregning_reader, afregning_municipality;
