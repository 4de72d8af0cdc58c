INSERT INTO items (name) VALUES ('one'), ('two');
