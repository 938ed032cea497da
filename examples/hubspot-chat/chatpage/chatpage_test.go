package chatpage_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/examples/hubspot-chat/chatpage"
	"github.com/vidlib/vidlib/hubspot/hubspottest"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
)

type nopAuditor struct{}

func (nopAuditor) Record(context.Context, auth.AuditRecord) error { return nil }

// TestPage: the page's server reads the chat context of the signed-in user
// from a real API (against the fake HubSpot) and nothing it does not need.
func TestPage(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	is, err := authtest.Start(nil)
	require.NoError(t, err)
	t.Cleanup(is.Close)
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}}}, nil)
	require.NoError(t, err)
	as, err := auth.New(v, st, nopAuditor{}, nil)
	require.NoError(t, err)
	fake := hubspottest.New(nil)
	t.Cleanup(fake.Close)
	chat, err := api.NewChat(api.ChatConfig{Token: fake.Token(), BaseURL: fake.URL, PortalID: "4711"})
	require.NoError(t, err)
	lib, err := library.New(st, &library.Options{PollInterval: -1, Chat: chat.Options})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	srv, err := api.New(lib, as, &api.Options{RateLimit: -1})
	require.NoError(t, err)
	apiHTTP := httptest.NewServer(srv.Handler())
	t.Cleanup(apiHTTP.Close)

	carol := authtest.User{Email: "carol@example.com"}
	h, err := chatpage.Handler(chatpage.Options{API: apiHTTP.URL,
		Users: []chatpage.User{{Label: "Carol", Token: func() (string, error) { return is.IDToken(carol), nil }}}})
	require.NoError(t, err)
	page := httptest.NewServer(h)
	t.Cleanup(page.Close)
	get := func(path string) (int, []byte) {
		res, err := http.Get(page.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, b
	}

	code, body := get("/")
	require.Equal(t, 200, code)
	require.Contains(t, string(body), "window.hsConversationsSettings = { loadImmediately: false }")
	code, body = get("/users")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"users":["Carol"],"load_widget":false}`, string(body))

	code, body = get("/api/videos/1201/chat-context?as=0")
	require.Equal(t, 200, code, string(body))
	var c library.ChatContext
	require.NoError(t, json.Unmarshal(body, &c))
	require.Equal(t, library.ChatIdentified, c.Identification.Status)
	require.Equal(t, "carol@example.com", c.Widget.Settings.IdentificationEmail)
	require.Equal(t, "https://js.hs-scripts.com/4711.js", c.Widget.ScriptURL)

	code, _ = get("/api/videos/1001/chat-context?as=0")
	require.Equal(t, 404, code, "the API's answer passes through")
	for _, p := range []string{"/api/videos/1201/chat-context?as=1", "/api/openapi.json?as=0", "/api/admin/overview?as=0"} {
		code, _ = get(p)
		require.Equal(t, 400, code, p)
	}
	_, err = chatpage.Handler(chatpage.Options{API: "ftp://x", Users: []chatpage.User{{}}})
	require.Error(t, err)
}
