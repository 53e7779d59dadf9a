-- The weight of each dimension learned with a classifier (an inverse
-- document frequency of each hashed feature in the workspace's training
-- vectors), little-endian float32s, 4 * dims bytes. NULL: none. Unused since
-- the change that wrote it was reverted (see BENCHMARKS.md, issue #17,
-- session 5, fewshot); kept because it had been applied to databases.
ALTER TABLE classifiers ADD COLUMN feature_scale bytea
    CHECK (feature_scale IS NULL OR length(feature_scale) = 4 * dims);
