package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/tree"
)

// ChatContextStore keeps generated chat contexts (hubspot_context).
type ChatContextStore interface {
	tree.Store
	auth.UserStore
	RecordChatContext(ctx context.Context, r hubspot.ContextRecord) error
	ChatContexts(ctx context.Context, userID string, limit int) ([]hubspot.ContextRecord, error)
}

// TestChatContextStore: records are kept with their folder and expiry
// (none when no token was handed out), newest first per user; a record of
// an unknown video is refused and changes nothing.
func TestChatContextStore(t *testing.T, newStore func(t *testing.T) ChatContextStore) {
	s := newStore(t)
	ctx := context.Background()
	seed(t, s)
	ana, _, err := s.ProvisionUser(ctx, auth.Identity{Issuer: "https://issuer.test", Subject: "ana"}, auth.User{Email: "ana@example.com"})
	require.NoError(t, err)
	bo, _, err := s.ProvisionUser(ctx, auth.Identity{Issuer: "https://issuer.test", Subject: "bo"}, auth.User{})
	require.NoError(t, err)

	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	first := hubspot.ContextRecord{UserID: ana.ID, VideoID: "101", FolderID: "3", CreatedAt: at, ExpiresAt: at.Add(12 * time.Hour),
		Context: map[string]string{"identification": "identified", "folder_path": "A/B ünïcode"}}
	second := hubspot.ContextRecord{UserID: ana.ID, VideoID: "100", FolderID: "2", CreatedAt: at.Add(time.Minute),
		Context: map[string]string{"identification": "unavailable", "reason": "timeout"}}
	require.NoError(t, s.RecordChatContext(ctx, first))
	require.NoError(t, s.RecordChatContext(ctx, second))
	require.NoError(t, s.RecordChatContext(ctx, hubspot.ContextRecord{UserID: bo.ID, VideoID: "102", CreatedAt: at,
		Context: map[string]string{"identification": "no_email"}}))
	err = s.RecordChatContext(ctx, hubspot.ContextRecord{UserID: ana.ID, VideoID: "999", CreatedAt: at})
	require.ErrorIs(t, err, tree.ErrNotFound)

	got, err := s.ChatContexts(ctx, ana.ID, 10)
	require.NoError(t, err)
	require.Len(t, got, 2, "the refused record was not kept")
	require.Equal(t, "100", got[0].VideoID)
	require.True(t, got[0].ExpiresAt.IsZero())
	require.Equal(t, "2", got[0].FolderID)
	require.Equal(t, second.Context, got[0].Context)
	require.Equal(t, "101", got[1].VideoID)
	require.True(t, first.ExpiresAt.Equal(got[1].ExpiresAt))
	require.True(t, first.CreatedAt.Equal(got[1].CreatedAt))
	require.Equal(t, first.Context, got[1].Context)

	one, err := s.ChatContexts(ctx, ana.ID, 1)
	require.NoError(t, err)
	require.Len(t, one, 1)
	_, err = s.ChatContexts(ctx, ana.ID, 0)
	require.Error(t, err)
}
