package hubspottest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/hubspot/hubspottest"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, s *hubspottest.Server, method, path, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return answer{res.StatusCode, res.Header, m}
}

// TestFakeFollowsHubSpot pins the behaviour the client relies on.
func TestFakeFollowsHubSpot(t *testing.T) {
	clock := hubspottest.NewVirtualClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	s := hubspottest.New(&hubspottest.Options{Burst: 3, Daily: 100, Clock: clock})
	defer s.Close()
	tok := s.Token()

	a := call(t, s, "POST", "/visitor-identification/v3/tokens/create", "", `{"email":"a@example.org"}`)
	require.Equal(t, 401, a.status)
	require.Equal(t, "INVALID_AUTHENTICATION", a.body["category"])
	require.Equal(t, "error", a.body["status"])
	require.NotEmpty(t, a.body["correlationId"])

	seen := map[string]bool{}
	for _, p := range []string{"/conversations/v3/visitor-identification/tokens/create", "/visitor-identification/v3/tokens/create",
		"/visitor-identification/2026-03/tokens/create"} {
		a = call(t, s, "POST", p, tok, `{"email":"a@example.org","hsCustomerAgentContext":{"videoId":"1"}}`)
		require.Equal(t, 200, a.status, p)
		token := a.body["token"].(string)
		require.Len(t, strings.Split(token, "."), 3, "JWT-shaped")
		require.False(t, seen[token], "a new token every call")
		seen[token] = true
		require.Equal(t, "3", a.header.Get("X-HubSpot-RateLimit-Max"))
		require.Equal(t, "10000", a.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
		require.NotEmpty(t, a.header.Get("X-HubSpot-Correlation-Id"))
	}
	require.Equal(t, "0", a.header.Get("X-HubSpot-RateLimit-Remaining"))
	require.Equal(t, map[string]string{"videoId": "1"}, s.Tokens()[0].AgentContext)

	a = call(t, s, "POST", "/visitor-identification/v3/tokens/create", tok, `{"email":"a@example.org"}`)
	require.Equal(t, 429, a.status, "the fourth in 10 s")
	require.Equal(t, "RATE_LIMIT", a.body["errorType"])
	require.Equal(t, "TEN_SECONDLY_ROLLING", a.body["policyName"])
	require.Empty(t, a.header.Get("Retry-After"))
	clock.Advance(10 * time.Second)

	a = call(t, s, "POST", "/visitor-identification/v3/tokens/create", tok, `{"email":"not-an-email"}`)
	require.Equal(t, 400, a.status)
	require.Equal(t, "VALIDATION_ERROR", a.body["category"])

	a = call(t, s, "PATCH", "/crm/v3/objects/contacts/b%40example.org?idProperty=email", tok, `{"properties":{"firstname":"B"}}`)
	require.Equal(t, 404, a.status)
	require.Equal(t, "OBJECT_NOT_FOUND", a.body["category"])
	s.AddContact("b@example.org")
	a = call(t, s, "PATCH", "/crm/v3/objects/contacts/b%40example.org?idProperty=email", tok, `{"properties":{"firstname":"B"}}`)
	require.Equal(t, 200, a.status)
	require.Equal(t, "B", a.body["properties"].(map[string]any)["firstname"])
	clock.Advance(10 * time.Second)

	a = call(t, s, "PATCH", "/crm/v3/objects/contacts/b%40example.org?idProperty=email", tok, `{"properties":{"nope":"x"}}`)
	require.Equal(t, 400, a.status)
	errs := a.body["errors"].([]any)
	require.Equal(t, "PROPERTY_DOESNT_EXIST", errs[0].(map[string]any)["code"])
	a = call(t, s, "POST", "/crm/v3/objects/contacts", tok, `{"properties":{"email":"b@example.org"}}`)
	require.Equal(t, 409, a.status)
	require.Contains(t, a.body["message"], "Contact already exists. Existing ID: ")
	clock.Advance(10 * time.Second)

	a = call(t, s, "POST", "/crm/v3/properties/contacts", tok, `{"name":"x","label":"X","type":"string","fieldType":"text"}`)
	require.Equal(t, 400, a.status, "groupName is required")
	a = call(t, s, "POST", "/crm/v3/properties/contacts", tok, `{"name":"x","label":"X","type":"string","fieldType":"text","groupName":"g"}`)
	require.Equal(t, 201, a.status)
	a = call(t, s, "POST", "/crm/v3/properties/contacts", tok, `{"name":"x","label":"X","type":"string","fieldType":"text","groupName":"g"}`)
	require.Equal(t, 409, a.status)
	clock.Advance(10 * time.Second)

	s.SetScopes(hubspottest.ScopeContactsWrite)
	a = call(t, s, "POST", "/visitor-identification/v3/tokens/create", tok, `{"email":"a@example.org"}`)
	require.Equal(t, 403, a.status)
	require.Equal(t, "MISSING_SCOPES", a.body["category"])

	s.FailNext(hubspottest.Fault{Status: 429, Policy: hubspottest.PolicyDaily}, hubspottest.Fault{NonJSON: true})
	a = call(t, s, "POST", "/crm/v3/objects/contacts", tok, `{}`)
	require.Equal(t, "DAILY", a.body["policyName"])
	a = call(t, s, "POST", "/crm/v3/objects/contacts", tok, `{}`)
	require.Equal(t, 502, a.status)
	require.Nil(t, a.body, "an HTML page")
	require.Equal(t, 3, s.Calls(hubspottest.OpContactCreate))
	require.LessOrEqual(t, s.Stats().MaxInWindow, 3)
}
