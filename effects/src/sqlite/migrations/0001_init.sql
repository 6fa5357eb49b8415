-- seqrec projection, version 1: the core's state as tables other sequencer components read.
-- Written only from the core's `db` effects (idempotent by op id) and reconciled from the
-- core's state at boot.
CREATE TABLE applied_ops (
    op INTEGER PRIMARY KEY
);
CREATE TABLE batches (
    batch_index            INTEGER PRIMARY KEY,
    nonce                  INTEGER NOT NULL,
    parent                 INTEGER,
    first_frame_safe_block INTEGER NOT NULL,
    drain_from             INTEGER NOT NULL,
    drain_to               INTEGER NOT NULL,
    wire_hash              TEXT,
    valid                  INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE submissions (
    w_nonce     INTEGER NOT NULL,
    batch_index INTEGER,
    tx_hash     TEXT NOT NULL,
    PRIMARY KEY (w_nonce, tx_hash)
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER
);
INSERT INTO meta (key, value) VALUES ('watermark', NULL), ('generation', 0), ('divergence_nonce', NULL);
-- The inclusion lane hands sealed payloads over here; the executor turns each into a `seal` event.
CREATE TABLE seal_queue (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    payload BLOB NOT NULL,
    taken   INTEGER NOT NULL DEFAULT 0
);
