package library_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/hubspot/hubspottest"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/rank"
)

type chatLog struct {
	recs []library.ChatRecord
	err  error
}

func (c *chatLog) RecordChatContext(_ context.Context, r library.ChatRecord) error {
	if c.err != nil {
		return c.err
	}
	c.recs = append(c.recs, r)
	return nil
}

type accessLog struct{ recs []library.AccessRecord }

func (a *accessLog) RecordAccess(_ context.Context, r library.AccessRecord) error {
	a.recs = append(a.recs, r)
	return nil
}

func chatTokens(t *testing.T) (*hubspot.Tokens, *hubspottest.Server) {
	t.Helper()
	fake := hubspottest.New(nil)
	t.Cleanup(fake.Close)
	c, err := hubspot.New(fake.Token(), &hubspot.Options{BaseURL: fake.URL})
	require.NoError(t, err)
	tk, err := hubspot.NewTokens(c, nil)
	require.NoError(t, err)
	return tk, fake
}

var chatCarol = library.Viewer{UserID: "u-carol", Email: "carol@example.com", Name: "Carol Diaz"}

// TestChatContextRankReason: the rank reason comes from the viewer's stored
// feed, in words the viewer may see, and goes into the page's query.
func TestChatContextRankReason(t *testing.T) {
	tk, _ := chatTokens(t)
	records, audit := &chatLog{}, &chatLog{}
	var contacts []map[string]string
	lib, st := seeded(t, &library.Options{PollInterval: -1, Chat: &library.ChatOptions{Tokens: tk, Records: records, Audit: audit,
		ContactUpdate: func(email string, c *library.ChatContext) {
			contacts = append(contacts, map[string]string{"email": email, "video": c.Context.Video.ID})
		}}})
	lib2, err := library.New(st, &library.Options{PollInterval: -1, Feeds: st, Chat: &library.ChatOptions{Tokens: tk, Records: records}})
	require.NoError(t, err)
	require.NoError(t, lib2.Refresh(context.Background()))
	require.NoError(t, st.SetRankedFeed(context.Background(), &rank.Feed{UserID: chatCarol.UserID, ComputedAt: time.Now(),
		Items: []rank.Item{{VideoID: "1201", Score: 1, Reason: rank.Reason{Kind: rank.ReasonNew, FolderID: "12"}}}}))

	c, err := lib2.ChatContext(context.Background(), chatCarol, "1201")
	require.NoError(t, err)
	require.NotNil(t, c.Context.RankReason)
	require.Equal(t, rank.ReasonNew, c.Context.RankReason.Kind)
	require.Contains(t, c.Context.RankReason.Text, "Public")
	require.Equal(t, string(rank.ReasonNew), c.Widget.Query[library.ChatQueryReason])
	require.Contains(t, c.Widget.PagePath, "vidlib_reason=new")

	c, err = lib2.ChatContext(context.Background(), chatCarol, "1202")
	require.NoError(t, err)
	require.Nil(t, c.Context.RankReason, "not in the feed")

	c, err = lib.ChatContext(context.Background(), chatCarol, "1201")
	require.NoError(t, err)
	require.Nil(t, c.Context.RankReason, "no feeds configured")
	require.Len(t, audit.recs, 1)
	require.Equal(t, library.ChatIdentified, audit.recs[0].Status)
	require.Equal(t, "12", audit.recs[0].FolderID)
	require.Equal(t, []map[string]string{{"email": chatCarol.Email, "video": "1201"}}, contacts)
	require.Len(t, records.recs, 3)
	require.Equal(t, "new", records.recs[0].Context["rank_reason"])

	b, err := lib.ChatContextJSON(context.Background(), chatCarol, "1201")
	require.NoError(t, err)
	require.Contains(t, string(b.JSON), `"hsConversationsSettings":{"loadImmediately":false,"identificationEmail":"carol@example.com"`)
}

// TestChatContextRecordFailure: an answer that cannot be recorded is
// refused (ErrUnavailable); a denied one is audited like playback.
func TestChatContextRecordFailure(t *testing.T) {
	tk, _ := chatTokens(t)
	access := &accessLog{}
	lib, _ := seeded(t, &library.Options{PollInterval: -1, Auditor: access,
		Chat: &library.ChatOptions{Tokens: tk, Records: &chatLog{err: errors.New("disk full")}}})
	_, err := lib.ChatContext(context.Background(), chatCarol, "1201")
	require.ErrorIs(t, err, library.ErrUnavailable)
	_, err = lib.ChatContext(context.Background(), chatCarol, "1001")
	require.ErrorIs(t, err, library.ErrNotFound)
	require.Len(t, access.recs, 2)
	require.Equal(t, "chat_context", access.recs[1].Action)
	require.False(t, access.recs[1].Allowed)
	_, err = lib.ChatContext(context.Background(), chatCarol, "../x")
	require.ErrorIs(t, err, library.ErrInvalid)
}

func TestChatOptionsValidated(t *testing.T) {
	_, err := library.New(struct{ library.Store }{}, &library.Options{Chat: &library.ChatOptions{PagePath: "videos"}})
	require.ErrorIs(t, err, library.ErrInvalid)
	_, err = library.New(struct{ library.Store }{}, &library.Options{Chat: &library.ChatOptions{PageOrigin: "ftp://x"}})
	require.ErrorIs(t, err, library.ErrInvalid)
	lib, _ := seeded(t, nil)
	require.False(t, lib.ChatEnabled())
	_, err = lib.ChatContext(context.Background(), chatCarol, "1201")
	require.ErrorIs(t, err, library.ErrNotFound)
}
