-- The example's schema and seed: two accounts holding 150 between them.
CREATE TABLE accounts (
    id      bigserial PRIMARY KEY,
    email   text   NOT NULL UNIQUE,
    balance bigint NOT NULL DEFAULT 0 CHECK (balance >= 0)
);

INSERT INTO accounts (email, balance) VALUES
    ('alice@example.com', 100),
    ('bob@example.com', 50);
