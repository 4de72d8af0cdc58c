INSERT INTO init_order VALUES (99, 'must not run after a failing file');
