-- The weight of each dimension learned with a classifier (retrieval.Classifier.Scale:
-- the inverse document frequency of each hashed feature in the workspace's
-- training vectors), little-endian float32s, 4 * dims bytes. NULL: none
-- (classifiers trained before it keep working until they are retrained).
ALTER TABLE classifiers ADD COLUMN feature_scale bytea
    CHECK (feature_scale IS NULL OR length(feature_scale) = 4 * dims);
