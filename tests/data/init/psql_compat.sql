-- what the official image's psql -f accepts, envup accepts
CREATE DATABASE envup_init_created;
CREATE FUNCTION atomic_sum() RETURNS int LANGUAGE sql
BEGIN ATOMIC
	SELECT 1;
	SELECT CASE WHEN true THEN 1 + 2 ELSE 0 END;
END;
CREATE TABLE copied (id int, name text);
COPY copied (id, name) FROM stdin;
1	one
2	two; with a semicolon
3	\\. not the end
\.
CREATE TABLE after_copy (id int); INSERT INTO after_copy VALUES (7);
/* a comment; with 'quotes; and /* nested; */ comments */
CREATE TABLE tricky (v text);
INSERT INTO tricky VALUES (E'it\'s; escaped'), ($fn$ a $$ ; $$ b $fn$),
	('-- not; a comment'), ('/* not; a comment */');
-- a comment with 'an unbalanced quote; and $$ a dollar
SELECT 1 AS "semi;""colon";;;
