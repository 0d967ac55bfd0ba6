-- Schema 12: who may call the API server (ops-server): namespaces, and the keys that authenticate as each,
-- as in Shaken Fist. A key is kept as a bcrypt hash only (the key itself is shown once, when made). Its
-- nonce is named in every token issued for it; a key deleted or replaced takes its nonce along, so its
-- tokens stop working at their next use without a list of tokens. `system` is the administrators'
-- namespace, and sees every other. No foreign keys, as in the rest of the schema.

CREATE TABLE IF NOT EXISTS namespaces (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS namespace_keys (
    namespace VARCHAR(255) NOT NULL,
    key_name VARCHAR(255) NOT NULL,
    key_hash VARCHAR(255) NOT NULL,
    nonce VARCHAR(64) NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (namespace, key_name)
);
INSERT INTO namespaces (name, created_at) VALUES ('system', 0) ON CONFLICT DO NOTHING;
