package entitle_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
)

// fakeRules is a minimal RuleStore in memory (store/memstore is the real one).
type fakeRules struct {
	mu      sync.Mutex
	rules   []entitle.Rule
	version int64
	nextID  int64
	calls   int
	fail    error
}

func (f *fakeRules) ListRules(context.Context) ([]entitle.Rule, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, 0, f.fail
	}
	return append([]entitle.Rule(nil), f.rules...), f.version, nil
}

func (f *fakeRules) AddRule(_ context.Context, r entitle.Rule) (entitle.Rule, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return entitle.Rule{}, 0, f.fail
	}
	if err := r.Validate(); err != nil {
		return entitle.Rule{}, 0, err
	}
	for _, o := range f.rules {
		if o.Subject == r.Subject && o.Target == r.Target {
			return entitle.Rule{}, 0, fmt.Errorf("rule exists: %w", entitle.ErrDuplicate)
		}
	}
	f.nextID++
	f.version++
	r.ID = f.nextID
	f.rules = append(f.rules, r)
	return r, f.version, nil
}

func (f *fakeRules) RemoveRule(_ context.Context, id int64) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	for i, r := range f.rules {
		if r.ID == id {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			f.version++
			return f.version, nil
		}
	}
	return 0, entitle.ErrNotFound
}

func (f *fakeRules) EntitlementVersion(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, nil
}

type fakeAuditor struct {
	mu   sync.Mutex
	recs []entitle.AuditRecord
	fail error
}

func (a *fakeAuditor) Record(_ context.Context, r entitle.AuditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.recs = append(a.recs, r)
	return nil
}

var _ entitle.RuleStore = (*fakeRules)(nil)

func newAdmin(t *testing.T) (*entitle.Admin, *fakeRules, *fakeAuditor) {
	t.Helper()
	store, aud := &fakeRules{}, &fakeAuditor{}
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	a, err := entitle.NewAdmin(store, aud, &entitle.AdminOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)
	return a, store, aud
}

func TestAdminAddListRemove(t *testing.T) {
	ctx := context.Background()
	a, store, aud := newAdmin(t)

	r, v, err := a.AddRule(ctx, "admin-1", entitle.Rule{ID: 77, Note: "gold tier",
		Subject: entitle.Subject{Kind: entitle.Segment, Name: "tier", Value: "gold"},
		Target:  entitle.Target{Kind: entitle.FolderTarget, ID: "42"}, Effect: entitle.Allow})
	require.NoError(t, err)
	require.Equal(t, int64(1), r.ID, "the store assigns ids")
	require.Equal(t, int64(1), v)
	require.Equal(t, "admin-1", r.CreatedBy)
	require.Equal(t, time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), r.CreatedAt)
	require.Equal(t, []entitle.AuditRecord{{
		Action: entitle.ActionRuleAdded, Actor: "admin-1", Object: "rule:1",
		Time: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
		Details: map[string]string{"subject": "segment:tier=gold", "target": "folder:42", "effect": "allow",
			"note": "gold tier", "version": "1"},
	}}, aud.recs)

	rules, v, err := a.ListRules(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), v)
	require.Len(t, rules, 1)

	v, err = a.RemoveRule(ctx, "admin-2", 1)
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
	require.Len(t, aud.recs, 2)
	require.Equal(t, entitle.ActionRuleRemoved, aud.recs[1].Action)
	require.Equal(t, "admin-2", aud.recs[1].Actor)
	require.Equal(t, "folder:42", aud.recs[1].Details["target"])
	require.Equal(t, "2", aud.recs[1].Details["version"])
	require.Empty(t, store.rules)
}

func TestAdminRejectsAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	valid := entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.VideoTarget, ID: "9"}, Effect: entitle.Deny}
	tests := []struct {
		name  string
		actor string
		rule  entitle.Rule
		want  error
	}{
		{"empty actor", "", valid, entitle.ErrInvalid},
		{"bad effect", "a", entitle.Rule{Subject: valid.Subject, Target: valid.Target, Effect: "perhaps"}, entitle.ErrInvalid},
		{"bad target", "a", entitle.Rule{Subject: valid.Subject, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "x/y"}, Effect: entitle.Allow}, entitle.ErrInvalid},
		{"bad subject", "a", entitle.Rule{Subject: entitle.Subject{Kind: entitle.Role}, Target: valid.Target, Effect: entitle.Allow}, entitle.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, store, aud := newAdmin(t)
			_, _, err := a.AddRule(ctx, tc.actor, tc.rule)
			require.ErrorIs(t, err, tc.want)
			require.Zero(t, store.calls, "the store was not called")
			require.Empty(t, aud.recs)
		})
	}

	t.Run("duplicate", func(t *testing.T) {
		a, store, aud := newAdmin(t)
		_, _, err := a.AddRule(ctx, "a", valid)
		require.NoError(t, err)
		_, _, err = a.AddRule(ctx, "a", valid)
		require.ErrorIs(t, err, entitle.ErrDuplicate)
		require.Len(t, store.rules, 1)
		require.Len(t, aud.recs, 1, "only the first add is audited")
	})
	t.Run("remove unknown", func(t *testing.T) {
		a, store, aud := newAdmin(t)
		_, err := a.RemoveRule(ctx, "a", 5)
		require.ErrorIs(t, err, entitle.ErrNotFound)
		require.Zero(t, store.calls)
		require.Empty(t, aud.recs)
	})
	t.Run("store failure", func(t *testing.T) {
		a, store, aud := newAdmin(t)
		store.fail = errors.New("connection refused")
		_, _, err := a.AddRule(ctx, "a", valid)
		require.ErrorContains(t, err, "connection refused")
		require.Empty(t, aud.recs)
	})
}

func TestAdminAuditFailureIsReported(t *testing.T) {
	ctx := context.Background()
	a, store, aud := newAdmin(t)
	aud.fail = errors.New("outbox down")
	r, v, err := a.AddRule(ctx, "a", entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow})
	require.ErrorIs(t, err, entitle.ErrAudit)
	require.ErrorContains(t, err, "outbox down")
	require.Equal(t, int64(1), r.ID, "the stored rule is returned with the error")
	require.Equal(t, int64(1), v)
	require.Len(t, store.rules, 1)
}

func TestNewAdminNeedsDependencies(t *testing.T) {
	_, err := entitle.NewAdmin(nil, &fakeAuditor{}, nil)
	require.ErrorIs(t, err, entitle.ErrInvalid)
	_, err = entitle.NewAdmin(&fakeRules{}, nil, nil)
	require.ErrorIs(t, err, entitle.ErrInvalid)
}
