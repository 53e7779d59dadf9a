-- Versions of the per-workspace intent classifiers. A training writes the
-- whole model in one row update, with a new version drawn from one
-- sequence (never reused, even after a classifier is deleted and trained
-- again): answering replicas compare the stored version with the one they
-- hold (retrieval.ClassifierCache) and load the model again only when it
-- changed, so a new model is swapped in whole, on every replica, within
-- the cache's check interval.
CREATE SEQUENCE classifier_versions;
ALTER TABLE classifiers ADD COLUMN version bigint NOT NULL DEFAULT nextval('classifier_versions');
