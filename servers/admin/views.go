package admin

import (
	"context"
	"sync"
	"time"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

// ConsumerLag reads each configured group's lag per topic.
func (s *Service) ConsumerLag(ctx context.Context) ([]Lag, error) {
	if s.opts.Lag == nil {
		return []Lag{}, nil
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := []Lag{}
	for _, g := range s.opts.Groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			m, err := s.opts.Lag.Lag(ctx, g.Group, g.Topics...)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				for _, t := range g.Topics {
					out = append(out, Lag{Group: g.Group, Topic: t, Lag: -1, Error: err.Error()})
				}
				return
			}
			for _, t := range g.Topics {
				var sum int64
				for _, n := range m[t] {
					sum += n
				}
				out = append(out, Lag{Group: g.Group, Topic: t, Lag: sum})
			}
		}()
	}
	wg.Wait()
	sortLag(out)
	return out, nil
}

func sortLag(l []Lag) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && (l[j].Group < l[j-1].Group || l[j].Group == l[j-1].Group && l[j].Topic < l[j-1].Topic); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// Audit searches the audit log (ErrUnavailable until an audit store is
// configured).
func (s *Service) Audit(ctx context.Context, q audit.Query) (audit.Page, error) {
	if s.opts.Audit == nil {
		return audit.Page{}, unavailable("audit search (no audit store)")
	}
	if q.Action != "" && !validAction(q.Action) {
		return audit.Page{}, invalid("action", "unknown action %q", q.Action)
	}
	if q.Before < 0 {
		return audit.Page{}, invalid("before", "must not be negative")
	}
	if q.Limit < 0 || q.Limit > 1000 {
		return audit.Page{}, invalid("limit", "must be between 1 and 1000, got %d", q.Limit)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return audit.Page{}, invalid("to", "must be after from")
	}
	p, err := s.opts.Audit.SearchAudit(ctx, q)
	if p.Items == nil {
		p.Items = []audit.Record{}
	}
	return p, err
}

func validAction(a audit.Action) bool {
	for _, x := range audit.Actions {
		if x == a {
			return true
		}
	}
	return false
}

// Overview is the dashboard's first screen: the last run, what waits for an
// admin, the instances and the lag.
func (s *Service) Overview(ctx context.Context) (Overview, error) {
	var o Overview
	runs, err := s.store.SearchSyncRuns(ctx, tree.SyncRunQuery{Limit: 1})
	if err != nil {
		return o, err
	}
	if len(runs) > 0 {
		r := runOf(runs[0])
		o.LastRun = &r
	}
	held, err := s.store.ListHeldRuns(ctx)
	if err != nil {
		return o, err
	}
	o.HeldRuns = len(held)
	dls, err := s.store.SearchDeadLetters(ctx, events.DeadLetterQuery{Status: events.DeadLetterOpen, Limit: 1000})
	if err != nil {
		return o, err
	}
	o.OpenDeadLetters = len(dls)
	pes, err := s.store.SearchProviderEvents(ctx, events.ProviderEventQuery{Status: events.ProviderEventFailed, Limit: 1000})
	if err != nil {
		return o, err
	}
	o.FailedEvents = len(pes)
	if o.Instances, err = s.Instances(ctx); err != nil {
		return o, err
	}
	o.Lag, err = s.ConsumerLag(ctx)
	return o, err
}
