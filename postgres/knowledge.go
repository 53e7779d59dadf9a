package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// objectName is the form of knowledge base and team names.
var objectName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// checkName checks the name of a knowledge base or team (what names it).
func checkName(what, name string) error {
	if !objectName.MatchString(name) {
		return parley.Errorf(parley.EInvalid, "%s name %q: use 1-63 letters, digits, '.', '_' or '-'", what, name)
	}
	return nil
}

// notNamed is the error for a reference (a name or id in a path) that no
// knowledge base or team can have: it is not looked up, so text the
// database cannot hold (a NUL, invalid UTF-8) never reaches it.
func notNamed(what, ref string) error {
	if objectName.MatchString(ref) { // ids match too
		return nil
	}
	return parley.Errorf(parley.ENotFound, "%s %q not found", what, ref)
}

// ValidKBName checks a knowledge base name.
func ValidKBName(name string) error { return checkName("knowledge base", name) }

// EnsureKB returns the workspace's knowledge base named name, creating it if
// missing. created reports whether it was created.
func (db *DB) EnsureKB(ctx context.Context, workspaceID, name string) (kb parley.KnowledgeBase, created bool, err error) {
	if err := ValidKBName(name); err != nil {
		return kb, false, err
	}
	err = db.pool.QueryRow(ctx, `
		INSERT INTO knowledge_bases (workspace_id, name) VALUES ($1, $2)
		ON CONFLICT (workspace_id, name) DO UPDATE SET name = EXCLUDED.name
		RETURNING id, workspace_id, name, created_at, (xmax = 0)`, workspaceID, name).
		Scan(&kb.ID, &kb.WorkspaceID, &kb.Name, &kb.CreatedAt, &created)
	if err != nil {
		return kb, false, translate(err, fmt.Sprintf("knowledge base %q", name))
	}
	return kb, created, nil
}

// CreateKB creates a knowledge base; an existing name is a conflict.
func (db *DB) CreateKB(ctx context.Context, workspaceID, name string) (parley.KnowledgeBase, error) {
	var kb parley.KnowledgeBase
	if err := ValidKBName(name); err != nil {
		return kb, err
	}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO knowledge_bases (workspace_id, name) VALUES ($1, $2)
		RETURNING id, workspace_id, name, created_at`, workspaceID, name).
		Scan(&kb.ID, &kb.WorkspaceID, &kb.Name, &kb.CreatedAt)
	return kb, translate(err, fmt.Sprintf("knowledge base %q", name))
}

const kbColumns = `kb.id, kb.workspace_id, kb.name, kb.created_at,
	(SELECT count(*) FROM sources s WHERE s.kb_id = kb.id),
	(SELECT coalesce(sum(s.chunk_count), 0) FROM sources s WHERE s.kb_id = kb.id)`

func scanKB(r pgx.CollectableRow) (parley.KnowledgeBase, error) {
	var kb parley.KnowledgeBase
	err := r.Scan(&kb.ID, &kb.WorkspaceID, &kb.Name, &kb.CreatedAt, &kb.Sources, &kb.Chunks)
	return kb, err
}

// ListKBs lists a workspace's knowledge bases with their source and chunk counts.
func (db *DB) ListKBs(ctx context.Context, workspaceID string) ([]parley.KnowledgeBase, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+kbColumns+` FROM knowledge_bases kb
		WHERE kb.workspace_id = $1 ORDER BY kb.name`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list knowledge bases: %w", err)
	}
	kbs, err := pgx.CollectRows(rows, scanKB)
	if err != nil {
		return nil, fmt.Errorf("list knowledge bases: %w", err)
	}
	return kbs, nil
}

// KB returns one of the workspace's knowledge bases by id or name.
func (db *DB) KB(ctx context.Context, workspaceID, idOrName string) (parley.KnowledgeBase, error) {
	if err := notNamed("knowledge base", idOrName); err != nil {
		return parley.KnowledgeBase{}, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+kbColumns+` FROM knowledge_bases kb
		WHERE kb.workspace_id = $1 AND (kb.name = $2 OR kb.id::text = $2)`, workspaceID, idOrName)
	if err != nil {
		return parley.KnowledgeBase{}, fmt.Errorf("get knowledge base: %w", err)
	}
	kb, err := pgx.CollectExactlyOneRow(rows, scanKB)
	return kb, translate(err, fmt.Sprintf("knowledge base %q", idOrName))
}

// DeleteKB deletes a knowledge base with its sources and chunks, and
// counts the chunks' words out of chunk_words.
func (db *DB) DeleteKB(ctx context.Context, workspaceID, idOrName string) error {
	if err := notNamed("knowledge base", idOrName); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var kbID string
		err := tx.QueryRow(ctx, `SELECT id FROM knowledge_bases WHERE workspace_id = $1 AND (name = $2 OR id::text = $2)`,
			workspaceID, idOrName).Scan(&kbID)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "knowledge base %q not found", idOrName)
		}
		if err != nil {
			return fmt.Errorf("find knowledge base: %w", err)
		}
		if err := lockKB(ctx, tx, kbID); err != nil {
			return err
		}
		if err := countWords(ctx, tx, `WITH gone AS (
				DELETE FROM chunks WHERE source_id IN (SELECT id FROM sources WHERE workspace_id = $1 AND kb_id = $2)
				RETURNING embed_model, tsv
			)`+deletedWordsSQL, workspaceID, kbID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM knowledge_bases WHERE workspace_id = $1 AND id = $2`, workspaceID, kbID); err != nil {
			return fmt.Errorf("delete knowledge base: %w", err)
		}
		return nil
	})
	db.expireChunkStats(workspaceID)
	return err
}

// ListSources lists a knowledge base's sources, ordered by id, after the
// given id (for paging), at most limit.
func (db *DB) ListSources(ctx context.Context, workspaceID, kbID string, after int64, limit int) ([]parley.Source, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+sourceColumns+`
		FROM sources WHERE workspace_id = $1 AND kb_id = $2 AND id > $3
		ORDER BY id LIMIT $4`, workspaceID, kbID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	srcs, err := pgx.CollectRows(rows, scanSource)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return srcs, nil
}

const sourceColumns = `id, kb_id, kind, external_id, title, url, language, intent, tags, content_hash, chunk_count, created_at, updated_at`

func scanSource(r pgx.CollectableRow) (parley.Source, error) {
	var s parley.Source
	err := r.Scan(&s.ID, &s.KBID, &s.Kind, &s.ExternalID, &s.Title, &s.URL, &s.Language, &s.Intent,
		&s.Tags, &s.ContentHash, &s.Chunks, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

// SourceChunks returns one source (by numeric id or external id) with its
// chunks as stored, in order, without their vectors. A ref that matches
// two sources is a conflict naming both, as for DeleteSource.
func (db *DB) SourceChunks(ctx context.Context, workspaceID, kbID string, ref parley.SourceRef) (parley.Source, []parley.StoredChunk, error) {
	if strings.ContainsRune(ref.ExternalID, 0) || !utf8.ValidString(ref.ExternalID) {
		return parley.Source{}, nil, parley.Errorf(parley.ENotFound, "source %s not found", ref)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE workspace_id = $1 AND kb_id = $2 AND (($3 <> 0 AND id = $3) OR ($4 <> '' AND external_id = $4)) ORDER BY id`,
		workspaceID, kbID, ref.ID, ref.ExternalID)
	if err != nil {
		return parley.Source{}, nil, fmt.Errorf("read source %s: %w", ref, err)
	}
	srcs, err := pgx.CollectRows(rows, scanSource)
	if err != nil {
		return parley.Source{}, nil, fmt.Errorf("read source %s: %w", ref, err)
	}
	switch len(srcs) {
	case 0:
		return parley.Source{}, nil, parley.Errorf(parley.ENotFound, "source %s not found", ref)
	case 1:
	default:
		return parley.Source{}, nil, parley.Errorf(parley.EConflict, "source %s is ambiguous: sources %d and %d match it; say ?by=id or ?by=external_id",
			ref, srcs[0].ID, srcs[1].ID)
	}
	rows, err = db.pool.Query(ctx, `SELECT id, ordinal, text, answer, section_path, tokens, embed_model
		FROM chunks WHERE source_id = $1 ORDER BY ordinal, id`, srcs[0].ID)
	if err != nil {
		return parley.Source{}, nil, fmt.Errorf("read the chunks of source %d: %w", srcs[0].ID, err)
	}
	chunks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.StoredChunk, error) {
		var c parley.StoredChunk
		err := r.Scan(&c.ID, &c.Ordinal, &c.Text, &c.Answer, &c.SectionPath, &c.Tokens, &c.EmbedModel)
		return c, err
	})
	if err != nil {
		return parley.Source{}, nil, fmt.Errorf("read the chunks of source %d: %w", srcs[0].ID, err)
	}
	return srcs[0], chunks, nil
}

// DeleteSource deletes one source and its chunks, and counts the chunks'
// words out of chunk_words. A ref that matches one source by numeric id
// and another by external id deletes nothing: a conflict that names both.
func (db *DB) DeleteSource(ctx context.Context, workspaceID, kbID string, ref parley.SourceRef) error {
	// Loaders give only valid UTF-8 without NUL: other text names nothing.
	if strings.ContainsRune(ref.ExternalID, 0) || !utf8.ValidString(ref.ExternalID) {
		return parley.Errorf(parley.ENotFound, "source %s not found", ref)
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockKB(ctx, tx, kbID); err != nil {
			return err
		}
		var matched []int64
		err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM sources
			WHERE workspace_id = $1 AND kb_id = $2 AND (($3 <> 0 AND id = $3) OR ($4 <> '' AND external_id = $4))`,
			workspaceID, kbID, ref.ID, ref.ExternalID).Scan(&matched)
		if err != nil {
			return fmt.Errorf("find source %s: %w", ref, err)
		}
		switch len(matched) {
		case 0:
			return parley.Errorf(parley.ENotFound, "source %s not found", ref)
		case 1:
		default:
			return parley.Errorf(parley.EConflict, "source %s is ambiguous: sources %d and %d match it; say ?by=id or ?by=external_id",
				ref, matched[0], matched[1])
		}
		if err := countWords(ctx, tx, `WITH gone AS (DELETE FROM chunks WHERE source_id = $2 RETURNING embed_model, tsv)`+deletedWordsSQL,
			workspaceID, matched[0]); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sources WHERE id = $1`, matched[0]); err != nil {
			return fmt.Errorf("delete source %s: %w", ref, err)
		}
		return nil
	})
	db.expireChunkStats(workspaceID)
	return err
}
