CREATE TABLE copy_bad (id int);
COPY copy_bad FROM stdin;
1
two
\.
