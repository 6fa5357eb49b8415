-- seqrec projection, version 2: what became of each queued seal (docs/protocol.md §11.4, §11.5).
-- `taken`: 0 queued, 1 sealed into `batch_index`, 2 rejected with `reason`. A row is
-- marked only by the core's own write, after its `seal` record is durable.
ALTER TABLE seal_queue ADD COLUMN batch_index INTEGER;
ALTER TABLE seal_queue ADD COLUMN reason TEXT;
