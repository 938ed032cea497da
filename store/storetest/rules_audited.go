package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
)

// AuditedRuleStore is what TestAuditedRuleStore needs of a store.
type AuditedRuleStore interface {
	entitle.RuleStore
	entitle.AuditedRuleStore
	OutboxBacklog(ctx context.Context) (int64, error)
}

// TestAuditedRuleStore runs the entitle.AuditedRuleStore conformance suite:
// AddRuleAudited and RemoveRuleAudited write the rule change and fn's outbox
// rows together; fn's error undoes both.
func TestAuditedRuleStore(t *testing.T, newStore func(t *testing.T) AuditedRuleStore) {
	ctx := context.Background()
	s := newStore(t)
	sub, err := entitle.ParseSubject("role:staff")
	require.NoError(t, err)
	tg, err := entitle.ParseTarget("folder:1")
	require.NoError(t, err)
	rule := entitle.Rule{Subject: sub, Target: tg, Effect: entitle.Allow, CreatedBy: "a"}
	_, _, err = s.AddRuleAudited(ctx, rule, func(ctx context.Context, w entitle.OutboxWriter, stored entitle.Rule, v int64) error {
		require.NoError(t, w.EnqueueOutbox(ctx, events.TopicAudit, "rule", []byte(`{"x":1}`)))
		return errors.New("audit refused")
	})
	require.ErrorContains(t, err, "audit refused")
	backlog, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, backlog, "the outbox row rolled back with the rule")
	rules, v, err := s.ListRules(ctx)
	require.NoError(t, err)
	require.Empty(t, rules)
	require.Zero(t, v)

	stored, v, err := s.AddRuleAudited(ctx, rule, func(ctx context.Context, w entitle.OutboxWriter, stored entitle.Rule, v int64) error {
		require.NotZero(t, stored.ID)
		require.Equal(t, int64(1), v)
		return w.EnqueueOutbox(ctx, events.TopicAudit, "rule", []byte(`{"x":2}`))
	})
	require.NoError(t, err)
	require.Equal(t, int64(1), v)
	v, err = s.RemoveRuleAudited(ctx, stored.ID, func(ctx context.Context, w entitle.OutboxWriter, removed entitle.Rule, v int64) error {
		require.Equal(t, stored.ID, removed.ID)
		require.Equal(t, sub, removed.Subject)
		return w.EnqueueOutbox(ctx, events.TopicAudit, "rule", []byte(`{"x":3}`))
	})
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
	_, err = s.RemoveRuleAudited(ctx, stored.ID, func(context.Context, entitle.OutboxWriter, entitle.Rule, int64) error { return nil })
	require.ErrorIs(t, err, entitle.ErrNotFound)
	backlog, err = s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), backlog)
}
