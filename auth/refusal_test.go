package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
)

// TestRefusedSignInsAuditedWithinRate: a token that does not verify is
// audited as a refused sign-in, at most RefusalAuditBurst at once; an
// auditor failure does not change the answer.
func TestRefusedSignInsAuditedWithinRate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &auth.Options{RefusalAuditRate: 0.001, RefusalAuditBurst: 2})
	for range 5 {
		_, err := f.svc.Authenticate(ctx, "not-a-token")
		require.ErrorIs(t, err, auth.ErrInvalidToken)
	}
	recs := f.auditor.records()
	require.Len(t, recs, 2, "the burst, then rate-limited")
	for _, r := range recs {
		require.Equal(t, auth.ActionLoginRefused, r.Action)
		require.Equal(t, "anonymous", r.Actor)
		require.Regexp(t, `^token:[0-9a-f]{16}$`, r.Object)
		require.NotEmpty(t, r.Details["reason"])
	}

	f2 := newFixture(t, nil)
	f2.auditor.setFail(errors.New("outbox down"))
	_, err := f2.svc.Authenticate(ctx, "not-a-token")
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	require.NotErrorIs(t, err, auth.ErrUnavailable)
}
