package memstore

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/vidlib/vidlib/audit"
)

var _ audit.Store = (*Store)(nil)

// auditState is the audit chain: records in Seq order (Seq i at index i-1),
// the ids stored, the checkpoints.
type auditState struct {
	mu          sync.RWMutex
	records     []audit.Record
	ids         map[string]bool
	head        audit.Chain
	headTime    time.Time
	checkpoints []audit.Checkpoint
}

func cloneRecord(r audit.Record) audit.Record {
	r.Details = maps.Clone(r.Details)
	r.PrevHash = slices.Clone(r.PrevHash)
	r.Hash = slices.Clone(r.Hash)
	return r
}

// AppendAudit implements audit.Appender.
func (s *Store) AppendAudit(ctx context.Context, recs []audit.Record) ([]audit.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := make([]audit.Record, len(recs))
	for i, r := range recs {
		in[i] = cloneRecord(r.Normalize())
		if len(in[i].Details) == 0 {
			in[i].Details = nil
		}
		if err := in[i].Validate(); err != nil {
			return nil, err
		}
	}
	a := &s.audit
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = map[string]bool{}
	}
	var out []audit.Record
	for _, r := range in {
		if a.ids[r.ID] {
			continue
		}
		a.ids[r.ID] = true
		r = a.head.Append(r)
		a.records = append(a.records, r)
		out = append(out, cloneRecord(r))
	}
	if len(out) > 0 {
		a.headTime = time.Now().UTC()
	}
	return out, nil
}

// ScanAuditChain implements audit.ChainReader.
func (s *Store) ScanAuditChain(ctx context.Context, fromSeq int64, fn func(audit.Record) error) error {
	s.audit.mu.RLock()
	recs := slices.Clone(s.audit.records)
	s.audit.mu.RUnlock()
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Seq < fromSeq {
			continue
		}
		if err := fn(cloneRecord(r)); err != nil {
			return err
		}
	}
	return nil
}

// AuditHead implements audit.ChainReader.
func (s *Store) AuditHead(ctx context.Context) (audit.Checkpoint, error) {
	s.audit.mu.RLock()
	defer s.audit.mu.RUnlock()
	return audit.Checkpoint{Seq: s.audit.head.Seq, Hash: slices.Clone(s.audit.head.Hash), Time: s.audit.headTime}, ctx.Err()
}

// WriteAuditCheckpoint implements audit.CheckpointWriter: one checkpoint per
// Seq, the first kept.
func (s *Store) WriteAuditCheckpoint(ctx context.Context, cp audit.Checkpoint) error {
	if cp.Seq < 1 || len(cp.Hash) != audit.HashSize || cp.Time.IsZero() {
		return &audit.ValidationError{What: "checkpoint", Problems: []string{"seq, a SHA-256 hash and a time are required"}}
	}
	cp.Time = cp.Time.UTC().Truncate(time.Microsecond)
	cp.Hash, cp.Signature = slices.Clone(cp.Hash), slices.Clone(cp.Signature)
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	i, found := slices.BinarySearchFunc(s.audit.checkpoints, cp.Seq, func(c audit.Checkpoint, seq int64) int { return int(c.Seq - seq) })
	if !found {
		s.audit.checkpoints = slices.Insert(s.audit.checkpoints, i, cp)
	}
	return ctx.Err()
}

// AuditCheckpoints implements audit.ChainReader.
func (s *Store) AuditCheckpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	s.audit.mu.RLock()
	defer s.audit.mu.RUnlock()
	out := make([]audit.Checkpoint, len(s.audit.checkpoints))
	for i, cp := range s.audit.checkpoints {
		cp.Hash, cp.Signature = slices.Clone(cp.Hash), slices.Clone(cp.Signature)
		out[i] = cp
	}
	return out, ctx.Err()
}

// SearchAudit implements audit.Searcher.
func (s *Store) SearchAudit(ctx context.Context, q audit.Query) (audit.Page, error) {
	q, err := q.Normalize()
	if err != nil {
		return audit.Page{}, err
	}
	s.audit.mu.RLock()
	defer s.audit.mu.RUnlock()
	var items []audit.Record
	for i := len(s.audit.records) - 1; i >= 0 && len(items) < q.Limit; i-- {
		r := s.audit.records[i]
		if (q.Before == 0 || r.Seq < q.Before) && q.Match(r) {
			items = append(items, cloneRecord(r))
		}
	}
	return audit.PageOf(items, q.Limit), ctx.Err()
}
