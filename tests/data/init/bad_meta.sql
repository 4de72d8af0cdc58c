CREATE TABLE meta_ok (id int);

\connect other
SELECT 1;
