CREATE TABLE runtime_ok (id int PRIMARY KEY);
DO $$
BEGIN
	INSERT INTO runtime_ok VALUES (1); -- ';' inside the DO body
END
$$;
SELECT 'a string; with a semicolon', "runtime_ok".id
	FROM runtime_ok;
INSERT INTO runtime_ok
	VALUES (1);
