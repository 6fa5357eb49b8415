-- The operator's pause (`seqrec pause` / `seqrec resume`): an input to the run loop,
-- like the seal queue, not a projection of the core's state; `run` turns a change into
-- a `pause` or `resume` event.
CREATE TABLE admin (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    paused INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    changed_at_ms INTEGER NOT NULL DEFAULT 0
);
INSERT INTO admin (id) VALUES (1);
