
/* ------------------------------------------------------------------
 * The provable ledger (SPEC §7): a hash chain over every ledger row,
 * verify_ledger(), approvals of announce and close, and gapless buffet
 * invoice numbers.
 *
 * Raw usage is not chained row by row.  It is by far the largest table
 * (hundreds of millions of rows a year), a row trigger would stop COPY
 * from inserting in batches and cost the load its speed (SPEC §8), and a
 * digest of a year's usage would cost the close a second scan.  What usage
 * is billed as is chained: the batch that delivered it (usage_batch), the
 * rated lines of a closed year (usage_line) and the per-call charges
 * posted from it (direct_charge_line), so an edit of usage after billing
 * cannot change a billed øre unseen; usage itself stays append-only.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.chained_ledgers()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['cost_entry', 'usage_batch', 'price_announcement', 'buffet_invoice',
				 'installment', 'schedule_charge', 'approval', 'cost_line', 'usage_line',
				 'direct_charge_line', 'year_close', 'carry_posting']::text[]
$$;
COMMENT ON FUNCTION @extschema@.chained_ledgers() IS
	'The ledger tables whose rows are linked into the hash chain (ledger_link)';
REVOKE ALL ON FUNCTION @extschema@.chained_ledgers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.chained_ledgers() TO afregning_admin, afregning_reader;

CREATE FUNCTION @extschema@.ledger_row_key(record)
RETURNS text
AS 'MODULE_PATHNAME', 'ledger_row_key'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ledger_row_key(record) IS
	'Key under which a ledger row (given as t.*) is linked: its primary key value, or "(v1,v2)" for a key of several columns';
REVOKE ALL ON FUNCTION @extschema@.ledger_row_key(record) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.ledger_row_key(record) TO afregning_admin, afregning_reader;

CREATE FUNCTION @extschema@.ledger_row_digest(record)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ledger_row_digest'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ledger_row_digest(record) IS
	'SHA-256 of the canonical text of a ledger row (given as t.*); see the comment on ledger_link.row_digest';
REVOKE ALL ON FUNCTION @extschema@.ledger_row_digest(record) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.ledger_row_digest(record) TO afregning_admin, afregning_reader;

CREATE FUNCTION @extschema@.ledger_chain_step(bytea, bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ledger_chain_step'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ledger_chain_step(bytea, bytea) IS
	'One link of the hash chain: SHA-256(previous chain || row digest)';
REVOKE ALL ON FUNCTION @extschema@.ledger_chain_step(bytea, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.ledger_chain_step(bytea, bytea) TO afregning_admin, afregning_reader;

/* no combine function: a chain is folded in order, never in parallel parts */
CREATE AGGREGATE @extschema@.ledger_chain(bytea) (
	SFUNC = @extschema@.ledger_chain_step,
	STYPE = bytea,
	PARALLEL = SAFE,
	INITCOND = '\x0000000000000000000000000000000000000000000000000000000000000000'
);
COMMENT ON AGGREGATE @extschema@.ledger_chain(bytea) IS
	'Hash chain over row digests in the aggregate''s order, starting from 32 zero bytes; as a window aggregate ordered by link_id it gives what each link''s chain must be';
REVOKE ALL ON FUNCTION @extschema@.ledger_chain(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.ledger_chain(bytea) TO afregning_admin, afregning_reader;

CREATE FUNCTION @extschema@.ledger_link_row()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ledger_link_row'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ledger_link_row() IS
	'Trigger (after insert, each row): queues the new ledger row''s link, appended to the hash chain when its transaction commits; does nothing in restore mode, where the links come with the dump';
REVOKE ALL ON FUNCTION @extschema@.ledger_link_row() FROM PUBLIC;

CREATE FUNCTION @extschema@.ledger_link_pending()
RETURNS integer
AS 'MODULE_PATHNAME', 'ledger_link_pending'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.ledger_link_pending() IS
	'Links the ledger rows inserted by the current transaction now instead of at commit, so that verify_ledger() sees them inside it; returns how many. The chain stays locked until the transaction ends; not inside a subtransaction';
REVOKE ALL ON FUNCTION @extschema@.ledger_link_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.ledger_link_pending() TO afregning_admin;

CREATE FUNCTION @extschema@.invoking_user()
RETURNS name
AS 'MODULE_PATHNAME', 'invoking_user'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.invoking_user() IS
	'The role the caller runs as (current_user as SET ROLE left it); unlike current_user it is not changed by SECURITY DEFINER functions';
REVOKE ALL ON FUNCTION @extschema@.invoking_user() FROM PUBLIC;

CREATE FUNCTION @extschema@.refuse_ledger_link_insert()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@.restoring() THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = 'links of the ledger chain are appended by the ledger triggers only',
			DETAIL = 'A link is written when the ledger row it proves is committed.',
			HINT = 'Insert the ledger row itself; a dump is restored with afregning.restore_mode = on.';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_ledger_link_insert() IS
	'Trigger: refuses INSERT into ledger_link except when a dump is restored (restore mode)';
REVOKE ALL ON FUNCTION @extschema@.refuse_ledger_link_insert() FROM PUBLIC;

/*
 * Upgrade from 0.1.0: link the rows that are already there, ledger by
 * ledger in the order above and by key within a ledger (a fresh install
 * has none).  This runs before the link triggers and the insert guard of
 * ledger_link exist.
 */
DO $$
DECLARE
	t text;
	r record;
	chain bytea := decode(repeat('00', 32), 'hex');
	n bigint := 0;
BEGIN
	FOREACH t IN ARRAY @extschema@.chained_ledgers()
	LOOP
		FOR r IN EXECUTE format('SELECT s.k, s.d FROM (SELECT @extschema@.ledger_row_key(x) AS k, '
								'@extschema@.ledger_row_digest(x) AS d FROM %I.%I x) s '
								'ORDER BY s.k COLLATE "C"', '@extschema@', t)
		LOOP
			n := n + 1;
			chain := @extschema@.ledger_chain_step(chain, r.d);
			INSERT INTO @extschema@.ledger_link (link_id, ledger, row_key, row_digest, chain)
			VALUES (n, t, r.k, r.d, chain);
		END LOOP;
	END LOOP;
END
$$;

/*
 * Link every new ledger row.  The trigger queues the row's key and digest;
 * the links are appended when the transaction commits, so a transaction
 * holds the chain lock for its commit only, not while it rates a year.
 * ENABLE ALWAYS: replica mode does not skip it.
 */
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY @extschema@.chained_ledgers()
	LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I.%I '
					   'FOR EACH ROW EXECUTE FUNCTION %I.ledger_link_row()',
					   t || '_chain', '@extschema@', t, '@extschema@');
		EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I', '@extschema@', t, t || '_chain');
	END LOOP;
	/* the chain and the approvals are append-only like the other ledgers */
	FOREACH t IN ARRAY ARRAY['ledger_link', 'approval']
	LOOP
		EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I.%I '
					   'FOR EACH ROW EXECUTE FUNCTION %I.refuse_ledger_change()',
					   t || '_append_only', '@extschema@', t, '@extschema@');
		EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I.%I '
					   'FOR EACH STATEMENT EXECUTE FUNCTION %I.refuse_ledger_change()',
					   t || '_no_truncate', '@extschema@', t, '@extschema@');
		EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I', '@extschema@', t, t || '_append_only');
		EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I', '@extschema@', t, t || '_no_truncate');
	END LOOP;
END
$$;
CREATE TRIGGER ledger_link_insert_guard BEFORE INSERT ON @extschema@.ledger_link
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_ledger_link_insert();
ALTER TABLE @extschema@.ledger_link ENABLE ALWAYS TRIGGER ledger_link_insert_guard;

CREATE FUNCTION @extschema@.verify_ledger(
	OUT link_id bigint, OUT ledger text, OUT row_key text, OUT problem text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text;
	c record;
BEGIN
	/*
	 * The first problem in chain order wins; rows without a link come
	 * after every link, in ledger order.
	 */

	/* the chain: links 1, 2, 3, ... each following the one before */
	SELECT l.link_id, l.ledger, l.row_key, 'chain broken'::text AS problem INTO c
	  FROM (SELECT k.link_id, k.ledger, k.row_key, k.chain,
				   row_number() OVER w AS position,
				   @extschema@.ledger_chain(k.row_digest) OVER w AS expected
			  FROM @extschema@.ledger_link k
			WINDOW w AS (ORDER BY k.link_id)) l
	 WHERE l.link_id <> l.position OR l.chain IS DISTINCT FROM l.expected
	 ORDER BY l.link_id
	 LIMIT 1;
	IF FOUND THEN
		link_id := c.link_id; ledger := c.ledger; row_key := c.row_key; problem := c.problem;
	END IF;

	/* a link of a table that is not a ledger proves no row */
	SELECT k.link_id, k.ledger, k.row_key, 'row missing'::text AS problem INTO c
	  FROM @extschema@.ledger_link k
	 WHERE k.ledger <> ALL (@extschema@.chained_ledgers())
	 ORDER BY k.link_id
	 LIMIT 1;
	IF FOUND AND (problem IS NULL OR c.link_id < link_id) THEN
		link_id := c.link_id; ledger := c.ledger; row_key := c.row_key; problem := c.problem;
	END IF;

	/* every row against its link */
	FOREACH t IN ARRAY @extschema@.chained_ledgers()
	LOOP
		EXECUTE format($q$
			SELECT k.link_id, %1$L::text AS ledger, coalesce(k.row_key, r.row_key) AS row_key,
				   CASE WHEN r.row_key IS NULL THEN 'row missing'
						WHEN k.link_id IS NULL THEN 'row not linked'
						ELSE 'row changed' END AS problem
			  FROM (SELECT %2$I.ledger_row_key(x) AS row_key, %2$I.ledger_row_digest(x) AS row_digest
					  FROM %2$I.%1$I x) r
			  FULL JOIN (SELECT l.link_id, l.row_key, l.row_digest
						   FROM %2$I.ledger_link l WHERE l.ledger = %1$L) k
				ON k.row_key = r.row_key
			 WHERE r.row_key IS NULL OR k.link_id IS NULL OR k.row_digest <> r.row_digest
			 ORDER BY k.link_id NULLS LAST, coalesce(k.row_key, r.row_key) COLLATE "C"
			 LIMIT 1$q$, t, '@extschema@') INTO c;
		IF c.problem IS NOT NULL
		   AND (problem IS NULL
				OR (c.link_id IS NOT NULL AND (link_id IS NULL OR c.link_id < link_id))) THEN
			link_id := c.link_id; ledger := c.ledger; row_key := c.row_key; problem := c.problem;
		END IF;
	END LOOP;

	IF problem IS NOT NULL THEN
		RETURN NEXT;
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.verify_ledger() IS
	'Checks the hash chain over the ledgers (hovedbog) and returns its first broken link: the ledger, the row key and what is wrong (row changed, row missing, row not linked, chain broken); no row when every committed ledger row is linked unchanged. Rows of the calling transaction are linked when it commits (or by ledger_link_pending())';
REVOKE ALL ON FUNCTION @extschema@.verify_ledger() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_ledger() TO afregning_admin, afregning_reader;

/* ------------------------------------------------------------------
 * Buffet invoice numbers: 1..n per year in municipality code order
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.number_buffet_invoice()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	/* a restored dump brings its numbers */
	IF NEW.invoice_number IS NOT NULL AND @extschema@.restoring() THEN
		RETURN NEW;
	END IF;
	/*
	 * The year's invoices are exactly its population rows (announce_price
	 * writes one per row, in one statement, under the year's lock, after
	 * population is complete), so the rank of the code among them numbers
	 * them 1..n whatever order they are inserted in; a rolled-back
	 * announcement leaves nothing behind, so there is never a gap.
	 */
	NEW.invoice_number := 1 + (SELECT count(*) FROM @extschema@.population p
								WHERE p.year = NEW.year
								  AND p.municipality_code COLLATE "C" < NEW.municipality_code COLLATE "C");
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.number_buffet_invoice() IS
	'Trigger: numbers a buffet invoice within its year, 1..n in municipality code order (COLLATE "C"), without gaps';
REVOKE ALL ON FUNCTION @extschema@.number_buffet_invoice() FROM PUBLIC;

CREATE TRIGGER buffet_invoice_number BEFORE INSERT ON @extschema@.buffet_invoice
	FOR EACH ROW EXECUTE FUNCTION @extschema@.number_buffet_invoice();
ALTER TABLE @extschema@.buffet_invoice ENABLE ALWAYS TRIGGER buffet_invoice_number;

/* ------------------------------------------------------------------
 * Approvals: who announced and who closed, and the waterfall they saw
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.waterfall_text(p_year integer)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT string_agg(format('%s|%s|%s', w.line, w.item, coalesce(w.amount::text, '')),
					  E'\n' ORDER BY w.line)
	  FROM @extschema@.explain_price(p_year::integer) w
$$;
COMMENT ON FUNCTION @extschema@.waterfall_text(integer) IS
	'explain_price(year) as one text: "line|item|amount" per row in line order, amount in numeric text (empty for null), joined by line feeds; approval.waterfall_sha256 is the SHA-256 of it';
REVOKE ALL ON FUNCTION @extschema@.waterfall_text(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.waterfall_text(integer)
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE FUNCTION @extschema@.record_approval()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	/* trigger argument: the step, announce or close */
	w text;
BEGIN
	/* a restored dump brings its approvals */
	IF @extschema@.restoring() THEN
		RETURN NULL;
	END IF;
	w := @extschema@.waterfall_text(NEW.year::integer);
	INSERT INTO @extschema@.approval
		(year, step, session_user_name, current_user_name, approved_at, waterfall, waterfall_sha256)
	VALUES (NEW.year, TG_ARGV[0], session_user, @extschema@.invoking_user(), now(),
			w, sha256(convert_to(w, 'UTF8')));
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.record_approval() IS
	'Trigger: records who ran an announcement or close (session user and the role it ran as), when, and the SHA-256 of the price waterfall at that moment';
REVOKE ALL ON FUNCTION @extschema@.record_approval() FROM PUBLIC;

CREATE TRIGGER price_announcement_approval AFTER INSERT ON @extschema@.price_announcement
	FOR EACH ROW EXECUTE FUNCTION @extschema@.record_approval('announce');
CREATE TRIGGER year_close_approval AFTER INSERT ON @extschema@.year_close
	FOR EACH ROW EXECUTE FUNCTION @extschema@.record_approval('close');
ALTER TABLE @extschema@.price_announcement ENABLE ALWAYS TRIGGER price_announcement_approval;
ALTER TABLE @extschema@.year_close ENABLE ALWAYS TRIGGER year_close_approval;

CREATE VIEW @extschema@.approval_log WITH (security_invoker = true) AS
SELECT a.year,
	   a.step::varchar(8) AS step,
	   a.session_user_name::varchar(64) AS session_user_name,
	   a.current_user_name::varchar(64) AS current_user_name,
	   a.approved_at,
	   /* the waterfall text itself stays in approval: a BI tool would get it as a memo */
	   encode(a.waterfall_sha256, 'hex')::varchar(64) AS waterfall_sha256
  FROM @extschema@.approval a;
COMMENT ON VIEW @extschema@.approval_log IS
	'Approvals (godkendelser): who announced and who closed each year, when, and a SHA-256 of the price waterfall they saw';
COMMENT ON COLUMN @extschema@.approval_log.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.approval_log.step IS 'announce (udmelding) or close (afslutning)';
COMMENT ON COLUMN @extschema@.approval_log.session_user_name IS 'Login role of the session that ran the step';
COMMENT ON COLUMN @extschema@.approval_log.current_user_name IS 'Role the step ran as (after SET ROLE)';
COMMENT ON COLUMN @extschema@.approval_log.approved_at IS 'When the step ran';
COMMENT ON COLUMN @extschema@.approval_log.waterfall_sha256 IS 'SHA-256 of the price waterfall (explain_price) the step saw, in hex; the text is approval.waterfall';
REVOKE ALL ON @extschema@.approval_log, @extschema@.approval FROM PUBLIC;
GRANT SELECT ON @extschema@.approval_log, @extschema@.approval
	TO afregning_admin, afregning_reader, afregning_municipality;
