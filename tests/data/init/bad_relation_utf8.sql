-- Ünïcödé: 日本語のコメント — positions count characters, not bytes
CREATE TABLE utf8_ok (name text);
INSERT INTO utf8_ok VALUES ('ÄÖÜ äöü ß €€€ 日本語');
INSERT INTO utf8_ok VALUES ('more: ✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓');


INSERT INTO no_such_table VALUES ('日本語');
