-- line 1
CREATE TABLE bad_syntax_ok (id int);
INSERT INTO bad_syntax_ok VALUES (1);
/* a comment
   over two lines */

SELEC 1;
INSERT INTO bad_syntax_ok VALUES (2);
