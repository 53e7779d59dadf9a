package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// CreateWidgetKey makes a publishable widget key usable from the given web
// origins (checked with parley.CheckOrigins) and returns it with its secret.
func (db *DB) CreateWidgetKey(ctx context.Context, workspaceID, name string, origins []string) (parley.APIKey, string, error) {
	origins, err := parley.CheckOrigins(origins)
	if err != nil {
		return parley.APIKey{}, "", err
	}
	return db.createKey(ctx, workspaceID, name, parley.RoleWidget, origins)
}

// SetKeyOrigins replaces the allowed origins of one of the workspace's
// widget keys.
func (db *DB) SetKeyOrigins(ctx context.Context, workspaceID, keyID string, origins []string) (parley.APIKey, error) {
	if !parley.IsID(keyID) {
		return parley.APIKey{}, parley.Errorf(parley.ENotFound, "widget key %q not found", keyID)
	}
	origins, err := parley.CheckOrigins(origins)
	if err != nil {
		return parley.APIKey{}, err
	}
	rows, err := db.pool.Query(ctx, `UPDATE api_keys k SET allowed_origins = $3 FROM workspaces w
		WHERE w.id = k.workspace_id AND k.workspace_id = $1 AND k.id = $2 AND k.role = 'widget' AND k.revoked_at IS NULL
		RETURNING `+keyColumns, workspaceID, keyID, origins)
	if err != nil {
		return parley.APIKey{}, fmt.Errorf("set origins of key %s: %w", keyID, err)
	}
	k, err := pgx.CollectExactlyOneRow(rows, scanKey)
	db.principals.clear()
	return k, translate(err, fmt.Sprintf("widget key %q", keyID))
}

// OriginAllowed reports whether any live widget key allows origin: CORS
// preflights carry no key, so they are answered for origins some key
// names.
func (db *DB) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM api_keys
		WHERE role = 'widget' AND revoked_at IS NULL AND allowed_origins @> ARRAY[$1::text])`, origin).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look up origin: %w", err)
	}
	return ok, nil
}

// VisitorKey returns the key that signs the workspace's visitor tokens,
// made on first use (32 random bytes) and the same for every replica.
func (db *DB) VisitorKey(ctx context.Context, workspaceID string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("generate visitor key: %w", err)
	}
	var key []byte
	err := db.pool.QueryRow(ctx, `UPDATE workspaces SET visitor_key = coalesce(visitor_key, $2)
		WHERE id = $1 RETURNING visitor_key`, workspaceID, fresh).Scan(&key)
	if err != nil {
		return nil, translate(err, "workspace")
	}
	return key, nil
}

// IdentitySecret returns the secret the workspace's site signs customer
// ids with ("" when identity verification is not set up).
func (db *DB) IdentitySecret(ctx context.Context, workspaceID string) (string, error) {
	var secret string
	err := db.pool.QueryRow(ctx, `SELECT identity_secret FROM workspaces WHERE id = $1`, workspaceID).Scan(&secret)
	return secret, translate(err, "workspace")
}

// RotateIdentitySecret gives the workspace a new identity secret and
// returns it; the old one stops working at once.
func (db *DB) RotateIdentitySecret(ctx context.Context, workspaceID string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate identity secret: %w", err)
	}
	secret := hex.EncodeToString(raw)
	tag, err := db.pool.Exec(ctx, `UPDATE workspaces SET identity_secret = $2 WHERE id = $1`, workspaceID, secret)
	if err != nil {
		return "", fmt.Errorf("set identity secret: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "", parley.Errorf(parley.ENotFound, "workspace not found")
	}
	return secret, nil
}

// StartVisitorConversation starts a conversation of a widget visitor.
func (db *DB) StartVisitorConversation(ctx context.Context, workspaceID, visitorID string, customer parley.Customer, language string) (parley.Conversation, error) {
	c := parley.Conversation{WorkspaceID: workspaceID, Channel: "widget", Customer: customer, Language: language, VisitorID: visitorID}
	cust, err := json.Marshal(customer)
	if err != nil {
		return c, fmt.Errorf("encode customer: %w", err)
	}
	err = db.pool.QueryRow(ctx, `INSERT INTO conversations (workspace_id, channel, customer, language, visitor_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING id, status, created_at, updated_at`,
		workspaceID, c.Channel, cust, language, visitorID).Scan(&c.ID, &c.Status, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, fmt.Errorf("start visitor conversation: %w", err)
	}
	return c, nil
}

// LatestVisitorConversation returns the id of the visitor's newest
// conversation, or "" when it has none.
func (db *DB) LatestVisitorConversation(ctx context.Context, workspaceID, visitorID string) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT id FROM conversations WHERE workspace_id = $1 AND visitor_id = $2
		ORDER BY created_at DESC LIMIT 1`, workspaceID, visitorID).Scan(&id)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find the visitor's conversation: %w", err)
	}
	return id, nil
}

// VisitorConversation returns one of visitorID's conversations (with no
// messages) and what the visitor may see of it: the messages after the
// message id after, oldest first, at most limit, without internal notes.
// Anyone else's conversation is not found.
func (db *DB) VisitorConversation(ctx context.Context, workspaceID, visitorID, id string, after int64, limit int) (parley.Conversation, error) {
	nf := parley.Errorf(parley.ENotFound, "conversation %q not found", id)
	if !parley.IsID(id) || visitorID == "" {
		return parley.Conversation{}, nf
	}
	c := parley.Conversation{ID: id, WorkspaceID: workspaceID, VisitorID: visitorID}
	err := db.pool.QueryRow(ctx, `SELECT channel, language, status, created_at, updated_at FROM conversations
		WHERE workspace_id = $1 AND id = $2 AND visitor_id = $3`, workspaceID, id, visitorID).
		Scan(&c.Channel, &c.Language, &c.Status, &c.CreatedAt, &c.UpdatedAt)
	if err == pgx.ErrNoRows {
		return c, nf
	}
	if err != nil {
		return c, fmt.Errorf("read conversation %s: %w", id, err)
	}
	if limit <= 0 {
		return c, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT m.id, m.role, m.text, m.internal, m.meta, m.created_at, f.helpful
		FROM messages m LEFT JOIN feedback f ON f.message_id = m.id
		WHERE m.workspace_id = $1 AND m.conversation_id = $2 AND m.id > $3 AND NOT m.internal
		ORDER BY m.id LIMIT $4`, workspaceID, id, after, limit)
	if err == nil {
		c.Messages, err = pgx.CollectRows(rows, scanMessage)
	}
	if err != nil {
		return c, fmt.Errorf("read messages of conversation %s: %w", id, err)
	}
	return c, nil
}
