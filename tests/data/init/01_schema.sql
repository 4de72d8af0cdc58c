-- the schema first: 02_data.sql depends on it
CREATE TABLE init_order (
	n    integer PRIMARY KEY,
	file text NOT NULL
);
CREATE FUNCTION init_note(t text) RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
	-- semicolons; inside a dollar quote; are not statement ends
	RETURN 'noted: ' || t;
END;
$body$;
INSERT INTO init_order VALUES (1, '01_schema.sql');
