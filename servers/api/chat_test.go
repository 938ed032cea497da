package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/hubspot/hubspottest"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
)

var chatT0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// chatEnv is an API with the HubSpot chat context against the fake, over
// a seeded memstore; instances share the store, the issuer and the fake.
type chatEnv struct {
	issuer *authtest.Issuer
	as     *auth.Service
	store  *memstore.Store
	fake   *hubspottest.Server
	clock  *hubspottest.VirtualClock
	inst   []*chatInstance
}

type chatInstance struct {
	chat *api.Chat
	http *httptest.Server
	e    *env // for get
}

func newChatEnv(t testing.TB, fo *hubspottest.Options) *chatEnv {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	is, as := newAuth(t, st)
	clock := hubspottest.NewVirtualClock(chatT0)
	var o hubspottest.Options
	if fo != nil {
		o = *fo
	}
	o.Clock = clock
	fake := hubspottest.New(&o)
	t.Cleanup(fake.Close)
	return &chatEnv{issuer: is, as: as, store: st, fake: fake, clock: clock}
}

// instance adds an API instance; cfg adjusts its chat configuration.
func (c *chatEnv) instance(t testing.TB, cfg func(*api.ChatConfig)) *chatInstance {
	t.Helper()
	cc := api.ChatConfig{Token: c.fake.Token(), BaseURL: c.fake.URL, PortalID: "4711", Clock: c.clock,
		Records: api.ChatRecords(c.store), PageOrigin: "https://app.example.com"}
	if cfg != nil {
		cfg(&cc)
	}
	chat, err := api.NewChat(cc)
	require.NoError(t, err)
	lib, err := library.New(c.store, &library.Options{PollInterval: -1, Chat: chat.Options, Now: c.clock.Now})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(context.Background()))
	srv, err := api.New(lib, c.as, &api.Options{RateLimit: -1})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	in := &chatInstance{chat: chat, http: hs, e: &env{issuer: c.issuer, lib: lib, srv: srv, http: hs, store: c.store}}
	c.inst = append(c.inst, in)
	return in
}

func (in *chatInstance) chatContext(t testing.TB, videoID string, u authtest.User) (resp, library.ChatContext) {
	t.Helper()
	r := in.e.get(t, "/videos/"+videoID+"/chat-context", &u)
	var c library.ChatContext
	if r.status == 200 {
		require.NoError(t, json.Unmarshal(r.body, &c), string(r.body))
	}
	return r, c
}

// TestChatContextIdentified: the answer carries the token, the context and
// the widget settings; the token is minted once and reused; each answer is
// recorded without the token.
func TestChatContextIdentified(t *testing.T) {
	ce := newChatEnv(t, nil)
	in := ce.instance(t, nil)
	r, c := in.chatContext(t, "1201", uCarol)
	require.Equal(t, 200, r.status, string(r.body))
	checkResponse(t, "/videos/{id}/chat-context", r)
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	id := c.Identification
	require.Equal(t, library.ChatIdentified, id.Status)
	require.Equal(t, uCarol.Email, id.Email)
	issued := ce.fake.TokensFor(uCarol.Email)
	require.Len(t, issued, 1)
	require.Equal(t, issued[0].Token, id.Token)
	require.Equal(t, chatT0.Add(12*time.Hour), id.ExpiresAt)
	require.Equal(t, "vidlib", issued[0].AgentContext["source"])

	require.Equal(t, "1201", c.Context.Video.ID)
	require.NotEmpty(t, c.Context.Video.Title)
	require.NotEmpty(t, c.Context.FolderPath)
	last := c.Context.FolderPath[len(c.Context.FolderPath)-1]
	require.Equal(t, "12", last.ID)
	require.Equal(t, "Public", last.Name)
	require.Nil(t, c.Context.RankReason, "no ranked feed configured")

	w := c.Widget
	require.False(t, w.Settings.LoadImmediately)
	require.Equal(t, id.Email, w.Settings.IdentificationEmail)
	require.Equal(t, id.Token, w.Settings.IdentificationToken)
	require.Equal(t, "4711", w.PortalID)
	require.Equal(t, "https://js.hs-scripts.com/4711.js", w.ScriptURL)
	u, err := url.Parse(w.PageURL)
	require.NoError(t, err)
	require.Equal(t, "/videos/1201", u.Path)
	require.Equal(t, "12", u.Query().Get(library.ChatQueryFolder))
	require.Equal(t, "1201", u.Query().Get(library.ChatQueryVideo))
	require.Equal(t, "https://app.example.com"+w.PagePath, w.PageURL)

	_, again := in.chatContext(t, "1202", uCarol)
	require.Equal(t, id.Token, again.Identification.Token, "reused for another video")
	require.Equal(t, 1, ce.fake.Calls(hubspottest.OpVisitorToken))

	recs := chatRecords(t, ce, uCarol)
	require.Len(t, recs, 2)
	require.Equal(t, "1202", recs[0].VideoID)
	require.Equal(t, "12", recs[0].FolderID)
	require.True(t, recs[0].ExpiresAt.Equal(id.ExpiresAt))
	require.Equal(t, "identified", recs[0].Context["identification"])
	for _, v := range recs[0].Context {
		require.NotContains(t, v, id.Token)
	}
}

func chatRecords(t testing.TB, ce *chatEnv, u authtest.User) []hubspot.ContextRecord {
	t.Helper()
	users, err := ce.store.ListUsers(context.Background(), "", 100)
	require.NoError(t, err)
	for _, x := range users {
		if x.Email == u.Email {
			recs, err := ce.store.ChatContexts(context.Background(), x.ID, 100)
			require.NoError(t, err)
			return recs
		}
	}
	t.Fatalf("no user %s", u.Email)
	return nil
}

// TestChatContextExpiryAndRefresh: a token is handed out until an hour
// before its 12 h expiry, then a new one is minted.
func TestChatContextExpiryAndRefresh(t *testing.T) {
	ce := newChatEnv(t, nil)
	in := ce.instance(t, nil)
	_, c1 := in.chatContext(t, "1201", uCarol)
	ce.clock.Advance(10 * time.Hour)
	_, c2 := in.chatContext(t, "1201", uCarol)
	require.Equal(t, c1.Identification.Token, c2.Identification.Token)
	ce.clock.Advance(time.Hour + time.Second)
	_, c3 := in.chatContext(t, "1201", uCarol)
	require.NotEqual(t, c1.Identification.Token, c3.Identification.Token)
	require.Equal(t, chatT0.Add(23*time.Hour+time.Second), c3.Identification.ExpiresAt)
	require.Equal(t, 2, ce.fake.Calls(hubspottest.OpVisitorToken))
}

// TestChatContextDenied: a video the viewer may not see is 404, like
// playback, and costs HubSpot nothing.
func TestChatContextDenied(t *testing.T) {
	ce := newChatEnv(t, nil)
	in := ce.instance(t, nil)
	r, _ := in.chatContext(t, "1001", uCarol) // Sales: not Carol's
	requireError(t, r, 404, "not_found")
	checkResponse(t, "/videos/{id}/chat-context", r)
	r, _ = in.chatContext(t, "9999", uCarol)
	requireError(t, r, 404, "not_found")
	r = in.e.get(t, "/videos/1201/chat-context", nil)
	require.Equal(t, 401, r.status)
	require.Equal(t, 0, ce.fake.Calls(hubspottest.OpVisitorToken))
	users, err := ce.store.ListUsers(context.Background(), "", 100)
	require.NoError(t, err)
	for _, u := range users {
		recs, err := ce.store.ChatContexts(context.Background(), u.ID, 10)
		require.NoError(t, err)
		require.Empty(t, recs)
	}
	r, _ = in.chatContext(t, "1001", uAlice)
	require.Equal(t, 200, r.status)
}

// TestChatContextWithoutEmail: context without identification, and no
// HubSpot call.
func TestChatContextWithoutEmail(t *testing.T) {
	ce := newChatEnv(t, nil)
	in := ce.instance(t, nil)
	r, c := in.chatContext(t, "1201", authtest.User{Subject: "no-mail-user"})
	require.Equal(t, 200, r.status, string(r.body))
	checkResponse(t, "/videos/{id}/chat-context", r)
	require.Equal(t, library.ChatNoEmail, c.Identification.Status)
	require.Empty(t, c.Identification.Token)
	require.Empty(t, c.Widget.Settings.IdentificationToken)
	require.Equal(t, "1201", c.Context.Video.ID)
	require.Equal(t, 0, ce.fake.Calls(hubspottest.OpVisitorToken))
}

// TestChatContextHubSpot4xx: HubSpot's refusals are named in the answer.
func TestChatContextHubSpot4xx(t *testing.T) {
	ce := newChatEnv(t, &hubspottest.Options{BelowProfessional: true})
	in := ce.instance(t, nil)
	_, c := in.chatContext(t, "1201", uCarol)
	require.Equal(t, library.ChatUnavailable, c.Identification.Status)
	require.Equal(t, "forbidden", c.Identification.Reason)
	require.Contains(t, c.Identification.Message, "Professional")
	require.Equal(t, "1201", c.Context.Video.ID)

	wrong := ce.instance(t, func(cc *api.ChatConfig) { cc.Token = "pat-wrong" })
	_, c = wrong.chatContext(t, "1201", uBob)
	require.Equal(t, "unauthorized", c.Identification.Reason)
	require.Contains(t, c.Identification.Message, "credentials")

	disabled := ce.instance(t, func(cc *api.ChatConfig) { cc.Token = "" })
	_, c = disabled.chatContext(t, "1201", uCarol)
	require.Equal(t, library.ChatDisabled, c.Identification.Status)
}

// TestChatContextOutage: 5xx answers open the breaker, after which the
// endpoint answers without asking HubSpot; a hanging HubSpot costs a
// request no more than the chat timeout.
func TestChatContextOutage(t *testing.T) {
	ce := newChatEnv(t, nil)
	in := ce.instance(t, nil)
	ce.fake.FailAlways(hubspottest.Fault{Status: 500})
	var reasons []string
	for i := range 6 {
		u := authtest.User{Email: "user" + string(rune('a'+i)) + "@example.com"}
		r, c := in.chatContext(t, "1201", u)
		require.Equal(t, 200, r.status)
		require.Equal(t, library.ChatUnavailable, c.Identification.Status)
		require.Equal(t, "1201", c.Context.Video.ID, "the context is there without a token")
		reasons = append(reasons, c.Identification.Reason)
	}
	require.Equal(t, "server_error", reasons[0])
	require.Equal(t, "circuit_open", reasons[len(reasons)-1])
	require.Equal(t, hubspot.BreakerState("open"), in.chat.Client.Stats().Breaker)
	calls := ce.fake.Calls(hubspottest.OpVisitorToken)
	_, c := in.chatContext(t, "1201", authtest.User{Email: "late@example.com"})
	require.Equal(t, "circuit_open", c.Identification.Reason)
	require.Equal(t, calls, ce.fake.Calls(hubspottest.OpVisitorToken), "an open circuit asks HubSpot nothing")

	// A hanging HubSpot: the answer comes at the chat timeout, not HubSpot's.
	slow := newChatEnv(t, nil)
	sin := slow.instance(t, func(cc *api.ChatConfig) { cc.Timeout = 100 * time.Millisecond })
	slow.fake.FailAlways(hubspottest.Fault{Delay: 10 * time.Second})
	start := time.Now()
	r, c := sin.chatContext(t, "1201", uCarol)
	require.Equal(t, 200, r.status)
	checkResponse(t, "/videos/{id}/chat-context", r)
	require.Equal(t, "timeout", c.Identification.Reason)
	require.Less(t, time.Since(start), 5*time.Second, "did not wait for HubSpot")
	recs := chatRecords(t, slow, uCarol)
	require.Len(t, recs, 1)
	require.Equal(t, "timeout", recs[0].Context["reason"])
	require.True(t, recs[0].ExpiresAt.IsZero())
}

// TestChatContextHangingHubSpotOpensTheBreaker: attempts that time out
// count as failures, so a hanging HubSpot opens the breaker too, and then
// costs nothing.
func TestChatContextHangingHubSpotOpensTheBreaker(t *testing.T) {
	ce := newChatEnv(t, nil)
	in := ce.instance(t, func(cc *api.ChatConfig) {
		cc.Timeout, cc.AttemptTimeout, cc.MintTimeout = time.Second, 30*time.Millisecond, 500*time.Millisecond
	})
	ce.fake.FailAlways(hubspottest.Fault{Delay: 10 * time.Second})
	var last library.ChatIdentification
	for i := range 8 {
		_, c := in.chatContext(t, "1201", authtest.User{Email: "hang" + string(rune('a'+i)) + "@example.com"})
		last = c.Identification
		if last.Reason == "circuit_open" {
			break
		}
		require.Equal(t, "timeout", last.Reason)
	}
	require.Equal(t, "circuit_open", last.Reason)
	require.Equal(t, hubspot.BreakerState("open"), in.chat.Client.Stats().Breaker)
	_, err := api.NewChat(api.ChatConfig{Token: "x", AttemptTimeout: time.Second, MintTimeout: time.Second})
	require.ErrorIs(t, err, api.ErrInvalid)
}

// TestChatContextRateLimitStorm: many users at once against a small
// burst limit: every request is answered, HubSpot never sees more than
// its limit in a window, and each user gets one token.
func TestChatContextRateLimitStorm(t *testing.T) {
	ce := newChatEnv(t, &hubspottest.Options{Burst: 5})
	in := ce.instance(t, func(cc *api.ChatConfig) { cc.BurstPer10s = 5 })
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[library.ChatStatus]int{}
	reasons := map[string]int{}
	for i := range 40 {
		wg.Go(func() {
			u := authtest.User{Email: "storm" + string(rune('a'+i%20)) + "@example.com"}
			r, c := in.chatContext(t, "1201", u)
			require.Equal(t, 200, r.status)
			mu.Lock()
			statuses[c.Identification.Status]++
			if c.Identification.Status == library.ChatUnavailable {
				reasons[c.Identification.Reason]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	st := ce.fake.Stats()
	require.LessOrEqual(t, st.MaxInWindow, 5)
	require.LessOrEqual(t, ce.fake.Calls(hubspottest.OpVisitorToken)-st.RateLimited, 20, "at most one token per user")
	require.Equal(t, 40, statuses[library.ChatIdentified]+statuses[library.ChatUnavailable])
	require.Positive(t, statuses[library.ChatIdentified])
	for r := range reasons {
		require.Equal(t, "rate_limited", r, "a user turned away says why")
	}
}

// TestChatContextAudited: with the audit setting, each generation is an
// audit record (no token in it).
func TestChatContextAudited(t *testing.T) {
	ce := newChatEnv(t, nil)
	rec, err := audit.NewRecorder(&audit.RecorderOptions{Source: "test", Outbox: ce.store})
	require.NoError(t, err)
	in := ce.instance(t, func(cc *api.ChatConfig) { cc.Audit = rec.ChatContexts() })
	_, c := in.chatContext(t, "1201", uCarol)
	require.Equal(t, library.ChatIdentified, c.Identification.Status)
	var payloads [][]byte
	_, err = ce.store.RelayOutbox(context.Background(), 100, func(_ context.Context, batch []events.OutboxRecord) []error {
		for _, r := range batch {
			payloads = append(payloads, r.Payload)
		}
		return make([]error, len(batch))
	})
	require.NoError(t, err)
	var found bool
	for _, p := range payloads {
		if !bytes.Contains(p, []byte(audit.ActionChatContext)) {
			continue
		}
		found = true
		require.Contains(t, string(p), `"identification":"identified"`)
		require.Contains(t, string(p), `"folder_id":"12"`)
		require.NotContains(t, string(p), c.Identification.Token)
	}
	require.True(t, found, "an audit record of the chat context")
}

// TestChatContextOneCallAcrossInstances: three instances sharing Redis,
// many concurrent requests of a few users: one HubSpot call per user, and
// every request of a user gets the same token.
func TestChatContextOneCallAcrossInstances(t *testing.T) {
	ce := newChatEnv(t, nil)
	rs := newRedisStore(t)
	for range 3 {
		ce.instance(t, func(cc *api.ChatConfig) { cc.TokenStore = api.RedisTokenStore(rs) })
	}
	users := []authtest.User{uAlice, uBob, uCarol, uGold}
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := map[string]map[string]bool{}
	for i := range 120 {
		wg.Go(func() {
			u := users[i%len(users)]
			_, c := ce.inst[i%3].chatContext(t, "2001", u)
			mu.Lock()
			defer mu.Unlock()
			if tokens[u.Email] == nil {
				tokens[u.Email] = map[string]bool{}
			}
			tokens[u.Email][c.Identification.Token] = true
		})
	}
	wg.Wait()
	for _, u := range users {
		require.Len(t, tokens[u.Email], 1, u.Email)
		require.Len(t, ce.fake.TokensFor(u.Email), 1, u.Email)
		require.False(t, tokens[u.Email][""], "every request was identified")
	}
}

// TestChatContextPostgres: the production path: PostgreSQL users, videos
// and hubspot_context, tokens in Redis; the record is in the table, with
// its expiry and folder, and no token anywhere in it.
func TestChatContextPostgres(t *testing.T) {
	ctx := context.Background()
	pg := newPGEnv(t).pg
	fake := hubspottest.New(nil)
	t.Cleanup(fake.Close)
	chat, err := api.NewChat(api.ChatConfig{Token: fake.Token(), BaseURL: fake.URL, TokenStore: api.RedisTokenStore(newRedisStore(t)),
		Records: api.ChatRecords(pg)})
	require.NoError(t, err)
	lib, err := library.New(pg, &library.Options{PollInterval: -1, Chat: chat.Options})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	is, as := newAuth(t, pg)
	srv, err := api.New(lib, as, &api.Options{RateLimit: -1})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{issuer: is, lib: lib, srv: srv, http: hs}

	r := e.get(t, "/videos/1201/chat-context", &uCarol)
	require.Equal(t, 200, r.status, string(r.body))
	var c library.ChatContext
	require.NoError(t, json.Unmarshal(r.body, &c))
	require.Equal(t, library.ChatIdentified, c.Identification.Status)
	requireError(t, e.get(t, "/videos/1001/chat-context", &uCarol), 404, "not_found")

	users, err := pg.ListUsers(ctx, "", 100)
	require.NoError(t, err)
	var carol string
	for _, u := range users {
		if u.Email == uCarol.Email {
			carol = u.ID
		}
	}
	recs, err := pg.ChatContexts(ctx, carol, 10)
	require.NoError(t, err)
	require.Len(t, recs, 1, "the denied one is not recorded")
	require.Equal(t, "1201", recs[0].VideoID)
	require.Equal(t, "12", recs[0].FolderID)
	require.WithinDuration(t, c.Identification.ExpiresAt, recs[0].ExpiresAt, time.Microsecond, "PostgreSQL keeps microseconds")
	for _, v := range recs[0].Context {
		require.NotContains(t, v, c.Identification.Token)
	}
}
