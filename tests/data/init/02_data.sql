BEGIN;
INSERT INTO init_order VALUES (2, '02_data.sql');
INSERT INTO init_order VALUES (3, init_note('it''s; fine'));
COMMIT;
