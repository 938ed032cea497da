package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/examples/hubspot-chat/chatpage"
	"github.com/vidlib/vidlib/hubspot/hubspottest"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/config"
)

// portalID is the portal the fake HubSpot stands for.
const portalID = "20261204"

// fakeHubSpot turns the chat context on against a fake HubSpot API (or the
// real one when VIDLIB_HUBSPOT_TOKEN is set), with every generation
// audited and the contact properties written. It returns what stops the
// fake.
func fakeHubSpot(cfg *config.Config, stdout io.Writer) func() {
	cfg.HubSpot.Chat, cfg.HubSpot.Audit, cfg.HubSpot.ContactProperties = true, true, true
	if cfg.HubSpot.Token.IsSet() {
		fmt.Fprintf(stdout, "HubSpot          the real API at %s, portal %s\n", cfg.HubSpot.BaseURL, cfg.HubSpot.PortalID)
		return func() {}
	}
	fake := hubspottest.New(nil)
	cfg.HubSpot.Token = config.NewSecret(fake.Token())
	cfg.HubSpot.BaseURL = fake.URL
	cfg.HubSpot.PortalID = portalID
	fmt.Fprintf(stdout, "fake HubSpot API %s  (visitor identification tokens, contact properties)\n", fake.URL)
	return fake.Close
}

// chat asks for the chat context of a video the staff user sees,
// prints it, and serves the hubspot-chat example page for every demo user.
// It returns what stops the page.
func chat(ctx context.Context, stdout io.Writer, apiBase string, issuer *authtest.Issuer) (func(), error) {
	staff := len(people) - 1
	token := issuer.IDToken(people[staff].user)
	video, err := someVideo(ctx, apiBase, token)
	if err != nil {
		return nil, err
	}
	code, body, err := get(ctx, apiBase+"/videos/"+video+"/chat-context", token)
	if err != nil {
		return nil, err
	}
	var c library.ChatContext
	if code != http.StatusOK || json.Unmarshal(body, &c) != nil {
		return nil, fmt.Errorf("GET /videos/%s/chat-context: status %d: %s", video, code, body)
	}
	path := make([]string, len(c.Context.FolderPath))
	for i, f := range c.Context.FolderPath {
		path[i] = f.Name
	}
	fmt.Fprintf(stdout, "\nchat context     %s on %q in %s: identification %s", people[staff].label, c.Context.Video.Title,
		strings.Join(path, " / "), c.Identification.Status)
	if c.Identification.Status == library.ChatIdentified {
		fmt.Fprintf(stdout, " (token until %s)", c.Identification.ExpiresAt.Format("15:04 MST"))
	} else if c.Identification.Reason != "" {
		fmt.Fprintf(stdout, " (%s)", c.Identification.Reason)
	}
	fmt.Fprintf(stdout, "\n                 widget page %s\n", c.Widget.PagePath)

	users := make([]chatpage.User, len(people))
	for i, u := range people {
		users[i] = chatpage.User{Label: u.label, Token: func() (string, error) { return issuer.IDToken(u.user), nil }}
	}
	h, err := chatpage.Handler(chatpage.Options{API: apiBase, Users: users})
	if err != nil {
		return nil, err
	}
	base, stop, err := serveLoopback(h)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "chat example     %s  (sign in as a demo user, open a video, see what the HubSpot widget gets)\n", base)
	fmt.Fprintf(stdout, "                 curl -s -H \"Authorization: Bearer $TOKEN_3\" %s/videos/%s/chat-context\n", apiBase, video)
	return stop, nil
}

// someVideo is a video the token's user sees: from the home page, else the
// first folder.
func someVideo(ctx context.Context, apiBase, token string) (string, error) {
	type videos struct {
		Videos []struct {
			ID string `json:"id"`
		} `json:"videos"`
	}
	var home struct {
		videos
		Rows    []videos `json:"rows"`
		Folders []struct {
			ID string `json:"id"`
		} `json:"folders"`
	}
	code, body, err := get(ctx, apiBase+"/library/home", token)
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &home) != nil {
		return "", fmt.Errorf("GET /library/home for the chat context: %d %v", code, err)
	}
	for _, r := range append(home.Rows, home.videos) {
		if len(r.Videos) > 0 {
			return r.Videos[0].ID, nil
		}
	}
	for _, f := range home.Folders {
		var page videos
		code, body, err := get(ctx, apiBase+"/folders/"+f.ID, token)
		if err == nil && code == http.StatusOK && json.Unmarshal(body, &page) == nil && len(page.Videos) > 0 {
			return page.Videos[0].ID, nil
		}
	}
	return "", fmt.Errorf("no video visible for the chat context")
}
