/*
 * wait_until(cond, timeout): true as soon as the SQL condition cond holds,
 * false after timeout; a fresh look at pg_stat_activity each time.  The
 * two-session scenarios use it to let one session hold its transaction
 * until the other is seen waiting for a lock.  Loaded with psql -f.
 */
CREATE FUNCTION public.wait_until(cond text, timeout interval) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	holds boolean;
BEGIN
	LOOP
		PERFORM pg_stat_clear_snapshot();
		EXECUTE 'SELECT ' || cond INTO holds;
		IF holds THEN RETURN true; END IF;
		IF clock_timestamp() - t0 > timeout THEN RETURN false; END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
END
$$;
