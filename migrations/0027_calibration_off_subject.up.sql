-- The second bar fitted with each calibration (retrieval.Calibration
-- AnswerSimilarity): the best answer's nearest-hit similarity under which
-- the engine does not answer, fitted with questions on the workspace's
-- subject that its knowledge does not cover (its own questions asked with
-- their answer group left out): how many were asked, and the share of
-- the questions that must escalate (those and the generic out-of-scope
-- ones) not answered at the bars. 0 in rows fitted before: no similarity bar until
-- the next knowledge change refits the calibration.
ALTER TABLE calibrations
	ADD COLUMN answer_similarity double precision NOT NULL DEFAULT 0,
	ADD COLUMN off_subject integer NOT NULL DEFAULT 0,
	ADD COLUMN escalation_recall double precision NOT NULL DEFAULT 0;
