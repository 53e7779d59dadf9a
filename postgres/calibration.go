package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/parleyhq/parley/retrieval"
)

// CalibrationProbes returns up to limit of a workspace's question chunks of
// model (the first chunk of each FAQ entry with an answer, and the
// customers' questions learned from resolutions), spread evenly
// over the workspace's groups by a fixed order, for fitting its
// calibration.
func (db *DB) CalibrationProbes(ctx context.Context, workspaceID, model string, limit int) ([]retrieval.Probe, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, text, group_key, language, embedding FROM (
			SELECT c.id, c.text, c.group_key, s.language, c.embedding,
				row_number() OVER (PARTITION BY c.group_key ORDER BY c.id) AS nth
			FROM chunks c JOIN sources s ON s.id = c.source_id
			WHERE c.workspace_id = $1 AND c.embed_model = $2 AND c.ordinal = 0 AND s.kind IN ('faq', 'phrasing') AND c.answer <> '') q
		ORDER BY nth, id LIMIT $3`, workspaceID, model, limit)
	if err != nil {
		return nil, fmt.Errorf("read calibration probes: %w", err)
	}
	probes, err := pgx.CollectRows(rows, scanProbe)
	if err != nil {
		return nil, fmt.Errorf("read calibration probes: %w", err)
	}
	return probes, nil
}

// SaveCalibration stores a workspace's calibration for model, replacing
// the one before.
func (db *DB) SaveCalibration(ctx context.Context, workspaceID, model string, c retrieval.Calibration) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO calibrations
			(workspace_id, embed_model, threshold, target, positives, negatives, precision, coverage, min_similarity,
			answer_similarity, off_subject, escalation_recall)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (workspace_id, embed_model) DO UPDATE SET threshold = EXCLUDED.threshold,
			target = EXCLUDED.target, positives = EXCLUDED.positives, negatives = EXCLUDED.negatives,
			precision = EXCLUDED.precision, coverage = EXCLUDED.coverage,
			min_similarity = EXCLUDED.min_similarity, answer_similarity = EXCLUDED.answer_similarity,
			off_subject = EXCLUDED.off_subject, escalation_recall = EXCLUDED.escalation_recall, fitted_at = clock_timestamp()`,
		workspaceID, model, c.Threshold, c.Target, c.Positives, c.Negatives, c.Precision, c.Coverage, c.MinSimilarity,
		c.AnswerSimilarity, c.OffSubject, c.EscalationRecall)
	if err != nil {
		return fmt.Errorf("save calibration: %w", err)
	}
	return nil
}

// Calibration returns a workspace's calibration for model, or false when
// it has none.
func (db *DB) Calibration(ctx context.Context, workspaceID, model string) (retrieval.Calibration, bool, error) {
	var c retrieval.Calibration
	var at time.Time
	err := db.pool.QueryRow(ctx, `SELECT threshold, target, positives, negatives, precision, coverage, min_similarity,
			answer_similarity, off_subject, escalation_recall, fitted_at
		FROM calibrations WHERE workspace_id = $1 AND embed_model = $2`, workspaceID, model).
		Scan(&c.Threshold, &c.Target, &c.Positives, &c.Negatives, &c.Precision, &c.Coverage, &c.MinSimilarity,
			&c.AnswerSimilarity, &c.OffSubject, &c.EscalationRecall, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return retrieval.Calibration{}, false, nil
	}
	if err != nil {
		return retrieval.Calibration{}, false, fmt.Errorf("read calibration: %w", err)
	}
	c.FittedAt = at
	return c, true, nil
}

// CalibrationPhrasings returns up to perGroup of each group's question
// chunks of model (FAQ questions and example phrasings, with an answer
// text or without), in a fixed order, at most limit in all: the
// calibration asks them as questions on a subject the knowledge does not
// cover.
func (db *DB) CalibrationPhrasings(ctx context.Context, workspaceID, model string, perGroup, limit int) ([]retrieval.Probe, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, text, group_key, language, embedding FROM (
			SELECT c.id, c.text, c.group_key, s.language, c.embedding,
				row_number() OVER (PARTITION BY c.group_key ORDER BY c.id) AS nth
			FROM chunks c JOIN sources s ON s.id = c.source_id
			WHERE c.workspace_id = $1 AND c.embed_model = $2 AND c.ordinal = 0 AND s.kind IN ('faq', 'phrasing')) q
		WHERE nth <= $3 ORDER BY nth, id LIMIT $4`, workspaceID, model, perGroup, limit)
	if err != nil {
		return nil, fmt.Errorf("read calibration phrasings: %w", err)
	}
	probes, err := pgx.CollectRows(rows, scanProbe)
	if err != nil {
		return nil, fmt.Errorf("read calibration phrasings: %w", err)
	}
	return probes, nil
}

// scanProbe reads a row of id, text, group_key, language, embedding.
func scanProbe(r pgx.CollectableRow) (retrieval.Probe, error) {
	var p retrieval.Probe
	var v pgvector.Vector
	err := r.Scan(&p.ChunkID, &p.Text, &p.Group, &p.Language, &v)
	p.Vector = v.Slice()
	return p, err
}
