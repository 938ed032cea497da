package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkChat checks, while the demo serves, that the chat context was
// generated against the fake HubSpot and that the example page serves it
// for a demo user.
func checkChat(t *testing.T, out string) {
	t.Helper()
	require.Regexp(t, `chat context     staff on ".*" in .*: identification identified \(token until`, out)
	m := regexp.MustCompile(`chat example     (http://\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, "the example page is served")
	v := regexp.MustCompile(`/videos/([0-9]+)/chat-context`).FindStringSubmatch(out)
	require.NotNil(t, v)
	get := func(path string) (int, []byte) {
		res, err := http.Get(m[1] + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, b
	}
	code, page := get("/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(page), "hsConversationsSettings")
	code, body := get("/api/videos/" + v[1] + "/chat-context?as=3")
	require.Equal(t, http.StatusOK, code, string(body))
	var c struct {
		Identification struct{ Status, Token string } `json:"identification"`
		Widget         struct {
			Settings struct {
				Token string `json:"identificationToken"`
			} `json:"hsConversationsSettings"`
		} `json:"widget"`
	}
	require.NoError(t, json.Unmarshal(body, &c))
	require.Equal(t, "identified", c.Identification.Status)
	require.Equal(t, c.Identification.Token, c.Widget.Settings.Token)
	code, _ = get("/api/videos/" + v[1] + "/chat-context?as=0")
	require.Equal(t, http.StatusNotFound, code, "the visitor sees no video, so no chat context either")
	code, _ = get("/api/admin/overview?as=3")
	require.Equal(t, http.StatusBadRequest, code, "the page's server reads only what the page needs")
}
