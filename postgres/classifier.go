package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/retrieval"
)

// trainingWhere selects a workspace's labelled chunks of one model: those
// whose group key names an intent ($1 workspace, $2 model).
const trainingWhere = `workspace_id = $1 AND embed_model = $2 AND starts_with(group_key, '` + parley.IntentGroupPrefix + `')`

// TrainingLabels returns the ids and group keys of a workspace's labelled
// chunks of model, by id: what decides whether its classifier is current.
func (db *DB) TrainingLabels(ctx context.Context, workspaceID, model string) ([]int64, []string, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, group_key FROM chunks WHERE `+trainingWhere+` ORDER BY id`, workspaceID, model)
	if err != nil {
		return nil, nil, fmt.Errorf("read training labels: %w", err)
	}
	defer rows.Close()
	var (
		ids    []int64
		groups []string
	)
	for rows.Next() {
		var id int64
		var g string
		if err := rows.Scan(&id, &g); err != nil {
			return nil, nil, fmt.Errorf("read training labels: %w", err)
		}
		ids, groups = append(ids, id), append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read training labels: %w", err)
	}
	return ids, groups, nil
}

// TrainingExamples streams a workspace's labelled chunks of model with
// their vectors, by id, to fn; an error from fn stops it.
func (db *DB) TrainingExamples(ctx context.Context, workspaceID, model string, fn func(retrieval.Example) error) error {
	rows, err := db.pool.Query(ctx, `SELECT id, group_key, embedding FROM chunks WHERE `+trainingWhere+` ORDER BY id`, workspaceID, model)
	if err != nil {
		return fmt.Errorf("read training examples: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e retrieval.Example
		var v pgvector.Vector
		if err := rows.Scan(&e.ID, &e.Group, &v); err != nil {
			return fmt.Errorf("read training examples: %w", err)
		}
		e.Vector = v.Slice()
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read training examples: %w", err)
	}
	return nil
}

// ClassifierHash returns the data hash of a workspace's stored classifier
// for model, or false when it has none.
func (db *DB) ClassifierHash(ctx context.Context, workspaceID, model string) (string, bool, error) {
	var h string
	err := db.pool.QueryRow(ctx, `SELECT data_hash FROM classifiers WHERE workspace_id = $1 AND embed_model = $2`,
		workspaceID, model).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read classifier hash: %w", err)
	}
	return h, true, nil
}

// ClassifierVersion returns the version of a workspace's classifier for
// model, or false when it has none.
func (db *DB) ClassifierVersion(ctx context.Context, workspaceID, model string) (int64, bool, error) {
	var v int64
	err := db.pool.QueryRow(ctx, `SELECT version FROM classifiers WHERE workspace_id = $1 AND embed_model = $2`,
		workspaceID, model).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read classifier version: %w", err)
	}
	return v, true, nil
}

// SaveClassifier stores a workspace's classifier for model with a new
// version, replacing the one it had in one row update: readers see the old
// model or the new one, whole.
func (db *DB) SaveClassifier(ctx context.Context, workspaceID, model string, c *retrieval.Classifier) error {
	if len(c.Weights) != len(c.Classes)*c.Dims || len(c.Bias) != len(c.Classes) {
		return fmt.Errorf("save classifier: %d weights and %d biases for %d classes of %d dimensions",
			len(c.Weights), len(c.Bias), len(c.Classes), c.Dims)
	}
	var scale []byte // NULL: no feature scale
	if c.Scale != nil {
		if len(c.Scale) != c.Dims {
			return fmt.Errorf("save classifier: %d feature weights for %d dimensions", len(c.Scale), c.Dims)
		}
		scale = encodeFloats(c.Scale)
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO classifiers (workspace_id, embed_model, classes, weights, feature_scale, dims, examples, data_hash, trained_at)
		VALUES ($1, $2, $3, $4, $8, $5, $6, $7, clock_timestamp())
		ON CONFLICT (workspace_id, embed_model) DO UPDATE SET
			classes = EXCLUDED.classes, weights = EXCLUDED.weights, feature_scale = EXCLUDED.feature_scale, dims = EXCLUDED.dims,
			examples = EXCLUDED.examples, data_hash = EXCLUDED.data_hash, trained_at = EXCLUDED.trained_at,
			version = nextval('classifier_versions')`,
		workspaceID, model, c.Classes, encodeFloats(c.Weights, c.Bias), c.Dims, c.Examples, c.DataHash, scale)
	return translate(err, "workspace")
}

// DeleteClassifier deletes a workspace's classifier for model, if any.
func (db *DB) DeleteClassifier(ctx context.Context, workspaceID, model string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM classifiers WHERE workspace_id = $1 AND embed_model = $2`, workspaceID, model); err != nil {
		return fmt.Errorf("delete classifier: %w", err)
	}
	return nil
}

// Classifier returns a workspace's classifier for model, or nil when it
// has none.
func (db *DB) Classifier(ctx context.Context, workspaceID, model string) (*retrieval.Classifier, error) {
	c := &retrieval.Classifier{}
	var raw, scale []byte
	err := db.pool.QueryRow(ctx, `SELECT classes, weights, feature_scale, dims, examples, data_hash, trained_at, version
		FROM classifiers WHERE workspace_id = $1 AND embed_model = $2`, workspaceID, model).
		Scan(&c.Classes, &raw, &scale, &c.Dims, &c.Examples, &c.DataHash, &c.TrainedAt, &c.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read classifier: %w", err)
	}
	n := len(c.Classes) * c.Dims
	floats := decodeFloats(raw)
	if len(floats) != n+len(c.Classes) {
		return nil, fmt.Errorf("read classifier: %d weights for %d classes of %d dimensions", len(floats), len(c.Classes), c.Dims)
	}
	c.Weights, c.Bias = floats[:n:n], floats[n:]
	if scale != nil {
		c.Scale = decodeFloats(scale)
	}
	return c, nil
}

// encodeFloats writes the floats of each slice in turn, little-endian.
func encodeFloats(parts ...[]float32) []byte {
	n := 0
	for _, s := range parts {
		n += len(s)
	}
	out := make([]byte, 0, 4*n)
	for _, s := range parts {
		for _, f := range s {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(f))
		}
	}
	return out
}

func decodeFloats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// GroupHits returns, for each of the answer groups named, the chunk of the
// group nearest to q.Vector as a hit (with its similarity and no ranks),
// carrying the group's answer text when that chunk has none. The engine
// asks for the groups the intent classifier ranks high that the search did
// not return.
func (db *DB) GroupHits(ctx context.Context, q parley.SearchQuery, groups []string) ([]parley.Hit, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `WITH nearest AS (
			SELECT DISTINCT ON (group_key) id, source_id, group_key, text, answer, section_path,
				1 - (embedding <=> $3) AS sim
			FROM chunks
			WHERE workspace_id = $1 AND embed_model = $2 AND group_key = ANY($4)
			ORDER BY group_key, embedding <=> $3, id
		)
		SELECT n.id, s.id, s.kind, s.external_id, s.title, s.url, s.intent, s.tags, n.group_key, n.text,
			CASE WHEN n.answer <> '' THEN n.answer ELSE coalesce((SELECT a.answer FROM chunks a
				WHERE a.workspace_id = $1 AND a.group_key = n.group_key AND a.embed_model = $2 AND a.answer <> ''
				ORDER BY a.id LIMIT 1), '') END,
			n.section_path, n.sim
		FROM nearest n JOIN sources s ON s.id = n.source_id
		ORDER BY n.group_key`,
		q.WorkspaceID, q.Model, pgvector.NewVector(q.Vector), groups)
	if err != nil {
		return nil, fmt.Errorf("group hits: %w", err)
	}
	hits, err := pgx.CollectRows(rows, scanHit(func(h *parley.Hit) *float64 { return &h.Similarity }))
	if err != nil {
		return nil, fmt.Errorf("group hits: %w", err)
	}
	return hits, nil
}

// GroupAnswer returns the answer text of an answer group as GroupHits
// would carry it for q (the answer of the group's chunk nearest to
// q.Vector, else the group's first answer), or "" when none of its chunks
// has one (labelled examples only): that is found first, without
// measuring a distance, and without a query at all in a workspace none of
// whose chunks has an answer text (as its cached chunk statistics say:
// see chunkStats for how current they are).
func (db *DB) GroupAnswer(ctx context.Context, q parley.SearchQuery, group string) (string, error) {
	st, err := db.chunkStats(ctx, q.WorkspaceID, q.Model)
	if err != nil {
		return "", fmt.Errorf("answer of group %s: %w", group, err)
	}
	if !st.answers {
		return "", nil
	}
	var answer string
	err = db.pool.QueryRow(ctx, `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM chunks
				WHERE workspace_id = $1 AND embed_model = $2 AND group_key = $3 AND answer <> '') THEN ''
			ELSE coalesce((SELECT CASE WHEN n.answer <> '' THEN n.answer ELSE (SELECT a.answer FROM chunks a
					WHERE a.workspace_id = $1 AND a.embed_model = $2 AND a.group_key = $3 AND a.answer <> ''
					ORDER BY a.id LIMIT 1) END
				FROM (SELECT answer FROM chunks WHERE workspace_id = $1 AND embed_model = $2 AND group_key = $3
					ORDER BY embedding <=> $4, id LIMIT 1) n), '') END`,
		q.WorkspaceID, q.Model, group, pgvector.NewVector(q.Vector)).Scan(&answer)
	if err != nil {
		return "", fmt.Errorf("answer of group %s: %w", group, err)
	}
	return answer, nil
}

var (
	_ retrieval.TrainerStore     = (*DB)(nil)
	_ retrieval.ClassifierSource = (*DB)(nil)
)
