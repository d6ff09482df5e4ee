/*
 * pg_temp.schema_digest(): every row of every table of schema afregning
 * (partitions included) as one digest, with the number of tables read, so
 * that a suite can show that a refused statement changed nothing.
 * Include it with \ir from a suite, inside its transaction.
 */
CREATE FUNCTION pg_temp.schema_digest() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	t text;
	d text;
	tables integer := 0;
	acc text := '';
BEGIN
	FOR t IN SELECT c.relname FROM pg_class c
			  WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'r'
			  ORDER BY c.relname
	LOOP
		EXECUTE format('SELECT count(*) || '':'' || coalesce(md5(string_agg(x::text, ''|'' ORDER BY x::text)), '''') '
					   'FROM afregning.%I x', t) INTO d;
		acc := acc || t || '=' || d || ';';
		tables := tables + 1;
	END LOOP;
	RETURN md5(acc) || ' over ' || tables || ' tables';
END
$$;
