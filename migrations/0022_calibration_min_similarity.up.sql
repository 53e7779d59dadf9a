-- The no-match floor fitted with each calibration (retrieval.Calibration
-- MinSimilarity): the median nearest-hit similarity of the out-of-scope
-- probes, for the workspace's knowledge and embedding model. 0 in rows
-- fitted before it existed: the engine then uses its default floor until
-- the next knowledge change refits the calibration.
ALTER TABLE calibrations ADD COLUMN min_similarity double precision NOT NULL DEFAULT 0;
