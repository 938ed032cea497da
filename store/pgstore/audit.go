package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/vidlib/vidlib/audit"
)

var (
	_ audit.Searcher    = (*Store)(nil)
	_ audit.ChainReader = (*Store)(nil)
)

var auditErrs = domainErrs{notFound: audit.ErrInvalid, duplicate: audit.ErrInvalid, invalid: audit.ErrInvalid}

const auditColumns = `seq, event_id::text, occurred_at, actor_kind, actor, action, object_kind, object_id, outcome,
	request_id, trace_id, details, prev_hash, hash`

// AppendAudit appends records to the hash chain in the order given, in one
// transaction: it locks the chain head row (so concurrent writers append one
// after the other and never fork the chain), skips records whose ID is
// already stored or repeated in recs (a redelivery), links the others after
// the head and inserts them. It returns the records it appended, linked (Seq,
// PrevHash, Hash set). An invalid record fails the whole call with a
// *audit.ValidationError and nothing is written.
func (s *Store) AppendAudit(ctx context.Context, recs []audit.Record) ([]audit.Record, error) {
	ids := make([]string, 0, len(recs))
	recs = slices.Clone(recs)
	for i := range recs {
		recs[i] = recs[i].Normalize()
		if err := recs[i].Validate(); err != nil {
			return nil, err
		}
		ids = append(ids, recs[i].ID)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	var out []audit.Record
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		var head audit.Chain
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_chain_head FOR UPDATE`).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("lock chain head: %w", err)
		}
		rows, _ := tx.Query(ctx, `SELECT event_id::text FROM audit_logs WHERE event_id = ANY($1::uuid[])`, ids)
		stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("find stored records: %w", err)
		}
		seen := make(map[string]bool, len(recs)+len(stored))
		for _, id := range stored {
			seen[id] = true
		}
		for _, r := range recs {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			out = append(out, head.Append(r))
		}
		if len(out) == 0 {
			return nil
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"audit_logs"},
			[]string{"seq", "event_id", "occurred_at", "actor_kind", "actor", "action", "object_kind", "object_id",
				"target", "outcome", "request_id", "trace_id", "details", "prev_hash", "hash"},
			pgx.CopyFromSlice(len(out), func(i int) ([]any, error) {
				r := out[i]
				details, err := json.Marshal(nonNilDetails(r.Details))
				if err != nil {
					return nil, err
				}
				return []any{r.Seq, r.ID, r.Time, string(r.ActorKind), r.ActorID, string(r.Action), r.ObjectKind, r.ObjectID,
					r.ObjectKind + ":" + r.ObjectID, string(r.Outcome), r.RequestID, r.TraceID, string(details), r.PrevHash, r.Hash}, nil
			}))
		if err != nil {
			return fmt.Errorf("insert records: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE audit_chain_head SET seq = $1, hash = $2, updated_at = now()`, head.Seq, head.Hash)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: append audit records: %w", translate(err, auditErrs))
	}
	return out, nil
}

func nonNilDetails(d map[string]string) map[string]string {
	if d == nil {
		return map[string]string{}
	}
	return d
}

func scanAudit(row pgx.CollectableRow) (audit.Record, error) {
	var r audit.Record
	var details []byte
	err := row.Scan(&r.Seq, &r.ID, &r.Time, &r.ActorKind, &r.ActorID, &r.Action, &r.ObjectKind, &r.ObjectID, &r.Outcome,
		&r.RequestID, &r.TraceID, &details, &r.PrevHash, &r.Hash)
	if err != nil {
		return r, err
	}
	r.Time = r.Time.UTC()
	if len(details) > 0 && string(details) != "{}" {
		if err := json.Unmarshal(details, &r.Details); err != nil {
			return r, fmt.Errorf("details of seq %d: %w", r.Seq, err)
		}
	}
	return r, nil
}

// Chain scans read the log in seq ranges of scanChunk records, scanAhead
// ranges at once on their own connections, and hand the records over in
// order: the reading, not the hashing, is what takes the time.
const (
	scanChunk = 50_000
	scanAhead = 3
)

// ScanAuditChain implements audit.ChainReader: the records in seq order, read
// by several range queries in parallel.
func (s *Store) ScanAuditChain(ctx context.Context, fromSeq int64, fn func(audit.Record) error) error {
	var maxSeq int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM audit_logs`).Scan(&maxSeq); err != nil {
		return fmt.Errorf("pgstore: scan audit chain: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type chunk struct {
		recs []audit.Record
		err  error
	}
	var pending []chan chunk
	next := fromSeq
	last := false
	start := func() {
		lo := next
		hi := lo + scanChunk
		open := hi > maxSeq // the last range takes whatever comes after max
		next, last = hi, open
		ch := make(chan chunk, 1)
		pending = append(pending, ch)
		go func() {
			sql := `SELECT ` + auditColumns + ` FROM audit_logs WHERE seq >= $1 AND seq < $2 ORDER BY seq`
			args := []any{lo, hi}
			if open {
				sql = `SELECT ` + auditColumns + ` FROM audit_logs WHERE seq >= $1 ORDER BY seq`
				args = args[:1]
			}
			rows, _ := s.pool.Query(ctx, sql, args...)
			recs, err := pgx.CollectRows(rows, scanAudit)
			ch <- chunk{recs, err}
		}()
	}
	for !last && len(pending) < scanAhead {
		start()
	}
	for len(pending) > 0 {
		c := <-pending[0]
		pending = pending[1:]
		if c.err != nil {
			return fmt.Errorf("pgstore: scan audit chain: %w", c.err)
		}
		if !last {
			start()
		}
		for _, r := range c.recs {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// AuditHead implements audit.ChainReader: the chain head row.
func (s *Store) AuditHead(ctx context.Context) (audit.Checkpoint, error) {
	var cp audit.Checkpoint
	err := s.pool.QueryRow(ctx, `SELECT seq, hash, updated_at FROM audit_chain_head`).Scan(&cp.Seq, &cp.Hash, &cp.Time)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Checkpoint{}, nil // the row was removed: nothing to compare with
	}
	if err != nil {
		return cp, fmt.Errorf("pgstore: audit head: %w", err)
	}
	cp.Time = cp.Time.UTC()
	return cp, nil
}

// WriteAuditCheckpoint stores a checkpoint; one at the same Seq already
// stored is kept (the call is then a no-op).
func (s *Store) WriteAuditCheckpoint(ctx context.Context, cp audit.Checkpoint) error {
	if cp.Seq < 1 || len(cp.Hash) != audit.HashSize || cp.Time.IsZero() {
		return &audit.ValidationError{What: "checkpoint", Problems: []string{"seq, a SHA-256 hash and a time are required"}}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, created_at, key_id, signature)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING`, cp.Seq, cp.Hash, cp.Time, cp.KeyID, cp.Signature)
	if err != nil {
		return fmt.Errorf("pgstore: write audit checkpoint: %w", translate(err, auditErrs))
	}
	return nil
}

// AuditCheckpoints implements audit.ChainReader.
func (s *Store) AuditCheckpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	rows, _ := s.pool.Query(ctx, `SELECT seq, hash, created_at, key_id, signature FROM audit_checkpoints ORDER BY seq`)
	cps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Checkpoint, error) {
		var cp audit.Checkpoint
		err := r.Scan(&cp.Seq, &cp.Hash, &cp.Time, &cp.KeyID, &cp.Signature)
		cp.Time = cp.Time.UTC()
		return cp, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: audit checkpoints: %w", err)
	}
	return cps, nil
}

// SearchAudit implements audit.Searcher: newest first by seq, every filter
// served by an index of 0003_audit.sql.
func (s *Store) SearchAudit(ctx context.Context, q audit.Query) (audit.Page, error) {
	q, err := q.Normalize()
	if err != nil {
		return audit.Page{}, err
	}
	var w where
	w.eq("actor_kind", string(q.ActorKind))
	w.eq("actor", q.ActorID)
	w.eq("action", string(q.Action))
	w.eq("object_kind", q.ObjectKind)
	w.eq("object_id", q.ObjectID)
	w.between("occurred_at", q.From, q.To)
	w.below("seq", q.Before)
	sql, args := w.sql(`SELECT `+auditColumns+` FROM audit_logs`, "seq DESC", q.Limit)
	items, err := collect(ctx, s.pool, sql, args, scanAudit, auditErrs, "search audit")
	if err != nil {
		return audit.Page{}, err
	}
	return audit.PageOf(items, q.Limit), nil
}
