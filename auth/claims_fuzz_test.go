package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzParseClaims: whatever the payload, parseClaims does not panic; what it
// accepts is valid JSON whose exactly named claims it read, with their JSON
// values.
func FuzzParseClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"https://x","sub":"a","exp":1789412698,"cognito:groups":["g"],"aud":["c"],"email_verified":"true"}`,
		`{"sub":"a","sub":"b"}`, `{"COGNITO:GROUPS":["admin"]}`, `{"exp":"1789412698"}`, `{"sub":"a\u0000"}`,
		`{"identities":[{"providerName":"Google","primary":"true","userId":"1"}]}`, `{}`, `[]`, `{"a":1} x`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := parseClaims(payload)
		if err != nil {
			return
		}
		if !json.Valid(payload) {
			t.Fatalf("accepted invalid JSON %q", payload)
		}
		var all map[string]json.RawMessage
		if err := json.Unmarshal(payload, &all); err != nil {
			t.Fatalf("accepted %q, which is not an object: %v", payload, err)
		}
		for name, got := range map[string]string{"iss": c.Issuer, "sub": c.Subject, "token_use": c.TokenUse, "client_id": c.ClientID, "email": c.Email} {
			raw, ok := all[name]
			var want string
			if ok && string(raw) != "null" {
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatalf("accepted %s = %s, not a string", name, raw)
				}
			}
			if got != want {
				t.Fatalf("%s = %q, the payload says %q", name, got, want)
			}
			if strings.IndexByte(got, 0) >= 0 {
				t.Fatalf("%s holds a NUL", name)
			}
		}
		if len(c.Groups) > 0 {
			if _, ok := all["cognito:groups"]; !ok {
				t.Fatalf("groups %q from a payload without cognito:groups: %s", c.Groups, payload)
			}
		}
	})
}

// FuzzParseHeader: a JWS header decodes without panicking; an accepted alg
// and kid are the exactly named members.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{`{"alg":"RS256","kid":"k1","typ":"JWT"}`, `{"ALG":"none","kid":"k"}`, `{"alg":"RS256","alg":"none"}`, `{"crit":["b64"]}`} {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(s)))
	}
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, seg string) {
		h, err := parseHeader(seg)
		if err != nil {
			return
		}
		b, _ := strictB64.DecodeString(seg)
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("accepted a header that is not an object: %q", b)
		}
		var alg string
		if raw, ok := m["alg"]; ok && string(raw) != "null" {
			_ = json.Unmarshal(raw, &alg)
		}
		if h.Alg != alg {
			t.Fatalf("alg %q, the header says %q", h.Alg, alg)
		}
	})
}

// FuzzBearerToken: an Authorization header gives a token or a token error,
// never a panic; a token is what follows "Bearer ", trimmed.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer x", "Basic YQ==", "Bearer ", "Bearer  a b ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := &http.Request{Header: http.Header{}}
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		tok, err := BearerToken(r)
		if err != nil {
			if !errors.Is(err, ErrNoToken) && !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("BearerToken(%q) = %v", h, err)
			}
			return
		}
		if tok == "" || tok != strings.TrimSpace(tok) || !strings.EqualFold(h[:7], "bearer ") {
			t.Fatalf("BearerToken(%q) = %q", h, tok)
		}
	})
}
