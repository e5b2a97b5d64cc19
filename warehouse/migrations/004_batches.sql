-- 004: which staging batches the writer has loaded (first load only; a re-load adds nothing).

CREATE TABLE stg_batch (
    batch_id     VARCHAR PRIMARY KEY,
    batch_dir    VARCHAR NOT NULL,
    loaded_at    TIMESTAMP NOT NULL,
    actor        VARCHAR NOT NULL,
    submissions  INTEGER NOT NULL,
    new_versions INTEGER NOT NULL,
    duplicates   INTEGER NOT NULL
);
