package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// KnowledgeVersion identifies the state of a workspace's knowledge: the
// number of its chunks and the sum of their ids. Chunk ids are never
// reused and an ingest writes changed content as new chunks, so any write
// or delete changes it. A training job compares it before and after its run
// to learn whether the knowledge changed meanwhile.
func (db *DB) KnowledgeVersion(ctx context.Context, workspaceID string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, knowledgeVersion, workspaceID).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("read knowledge version: %w", err)
	}
	return v, nil
}

const knowledgeVersion = `SELECT count(*) || ':' || coalesce(sum(id), 0) FROM chunks WHERE workspace_id = $1`

// lockTraining takes the transaction-scoped lock that orders the queueing
// of a workspace's training with the completion of its running one.
func lockTraining(ctx context.Context, tx pgx.Tx, workspaceID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('parley.training:' || $1, 0))`, workspaceID); err != nil {
		return fmt.Errorf("lock training of workspace %s: %w", workspaceID, err)
	}
	return nil
}

// QueueTraining puts a training job of a workspace on the training queue
// and returns its id. The job kind's insert options make it unique per
// workspace while it waits or runs: a second request while one waits joins
// it (and gets its id). A request while one runs also joins it: the
// running job sees the knowledge changed when it tries to finish
// (CompleteTraining) and trains again, and the lock taken here orders the
// two so that no request falls between the check and the completion.
func (q *Queue) QueueTraining(ctx context.Context, workspaceID string, args river.JobArgs) (int64, error) {
	var id int64
	err := q.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockTraining(ctx, tx, workspaceID); err != nil {
			return err
		}
		res, err := q.client.InsertTx(ctx, tx, args, &river.InsertOpts{Queue: q.trainingName})
		if err != nil {
			return err
		}
		id = res.Job.ID
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("queue training of workspace %s: %w", workspaceID, err)
	}
	return id, nil
}

// CompleteTraining marks a running training job of a workspace completed
// if the workspace's knowledge is still at version (KnowledgeVersion, read
// before the training), and reports whether it did; otherwise the caller
// trains again. It must be called from the job's Work.
func CompleteTraining[T river.JobArgs](ctx context.Context, db *DB, job *river.Job[T], workspaceID, version string) (bool, error) {
	done := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockTraining(ctx, tx, workspaceID); err != nil {
			return err
		}
		var now string
		err := tx.QueryRow(ctx, knowledgeVersion, workspaceID).Scan(&now)
		if err != nil || now != version {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("complete training job %d: %w", job.ID, err)
	}
	return done, nil
}

// InsertOnTrainingQueue puts a job on the training queue, worked one job
// at a time: for other heavy work (jobs.VectorIndex's index builds).
func (q *Queue) InsertOnTrainingQueue(ctx context.Context, args river.JobArgs) error {
	if _, err := q.client.Insert(ctx, args, &river.InsertOpts{Queue: q.trainingName}); err != nil {
		return fmt.Errorf("queue %s job: %w", args.Kind(), err)
	}
	return nil
}
