package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/compose"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// person is one of the demo's signed-in users.
type person struct {
	label string
	user  authtest.User
}

var people = []person{
	{"visitor (no role)", authtest.User{Email: "visitor@demo.vidlib.dev", Name: "Vera Visitor"}},
	{"member, free tier", authtest.User{Email: "free@demo.vidlib.dev", Name: "Frank Free", Groups: []string{"members"}, Extra: map[string]any{"custom:tier": "free"}}},
	{"member, gold tier", authtest.User{Email: "gold@demo.vidlib.dev", Name: "Gina Gold", Groups: []string{"members"}, Extra: map[string]any{"custom:tier": "gold"}}},
	{"staff", authtest.User{Email: "staff@demo.vidlib.dev", Name: "Sam Staff", Groups: []string{"staff"}}},
}

// Options tune Run; nil is valid.
type Options struct {
	// Out is where the demo talks: what it starts, what each user sees,
	// the tokens and the curl lines. nil: nowhere.
	Out io.Writer
	// Version is the version the servers report (compose.WithVersion).
	Version string
	// ExitWhenReady makes Run return once it has checked and printed
	// everything, instead of serving until ctx ends.
	ExitWhenReady bool
}

// Run runs every server in one process on embedded defaults: a fake Vimeo
// account generated from cfg.Demo (or, when cfg.Vimeo.Token is set, the
// real account's folder cfg.Vimeo.RootFolderID), a local OIDC issuer with
// the demo users, a fake HubSpot API (unless cfg.HubSpot.Token is set), and
// memstore and the in-process bus (or PostgreSQL, Redis and Kafka when cfg
// names them). It mirrors the account, serves the API and the admin
// console, prints what each user sees and the curl lines to try, and serves
// until ctx ends (or returns at once with opts.ExitWhenReady). cfg is a
// loaded demo configuration (config.ForDemo); Run fills in the rest (the
// Vimeo, sign-in, HubSpot and secret settings the demo provides).
func Run(ctx context.Context, cfg *config.Config, opts *Options) error {
	if opts == nil {
		opts = &Options{}
	}
	stdout := opts.Out
	if stdout == nil {
		stdout = io.Discard
	}
	start := time.Now()

	// 1. Vimeo: the fake on a loopback port, or a real account.
	var fake *vimeotest.Server
	var acct *vimeotest.Account
	var rootID int64
	var topFolders []string
	switch {
	case cfg.Vimeo.Token.IsSet() && cfg.Vimeo.RootFolderID != "":
		fmt.Fprintf(stdout, "Vimeo            the real API, root folder %s\n", cfg.Vimeo.RootFolderID)
	case cfg.Vimeo.Token.IsSet():
		return errors.New("demo: a real Vimeo account needs its root folder id")
	default:
		var err error
		acct, rootID, err = vimeotest.Generate(&vimeotest.GenerateOptions{Seed: cfg.Demo.Seed, Folders: cfg.Demo.Folders, Videos: cfg.Demo.Videos,
			Tags: tags, TagEvery: 7})
		if err != nil {
			return fmt.Errorf("generate the fake account: %w", err)
		}
		w := cfg.Vimeo.Webhook // the fake signs webhooks as the intake expects
		fake = vimeotest.NewServer(acct, &vimeotest.Options{Webhooks: vimeotest.WebhookOptions{
			Header: w.Header, Encoding: w.Encoding, Prefix: w.Prefix, TimestampHeader: w.TimestampHeader}})
		base, stopFake, err := serveLoopback(fake)
		if err != nil {
			return err
		}
		defer stopFake()
		cfg.Vimeo.Token = config.NewSecret(fake.Token())
		cfg.Vimeo.BaseURL = base
		cfg.Vimeo.RootFolderID = strconv.FormatInt(rootID, 10)
		for _, f := range acct.Folders() {
			if f.ParentID == rootID {
				topFolders = append(topFolders, strconv.FormatInt(f.ID, 10))
			}
		}
		fmt.Fprintf(stdout, "fake Vimeo API   %s  (a generated account: %d folders, %d videos under root folder %d)\n", base, cfg.Demo.Folders, cfg.Demo.Videos, rootID)
	}
	cfg.Vimeo.UserID = "me"
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	cfg.Vimeo.WebhookSecrets = config.Secrets{config.NewSecret(hex.EncodeToString(secret))}
	cfg.Sync.PollInterval = 10 * time.Second
	cfg.Listen.Sync = "127.0.0.1:0"
	if len(cfg.Analytics.SessionSecrets) == 0 {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		cfg.Analytics.SessionSecrets = config.Secrets{config.NewSecret(hex.EncodeToString(key))}
	}
	stopHubSpot := fakeHubSpot(cfg, stdout)
	defer stopHubSpot()

	// 2. A local sign-in issuer shaped like a Cognito user pool. Demo only.
	// Its hosted sign-in page lists the demo admin and users: the admin
	// console signs in there with one click.
	signIn := []authtest.User{adminPerson.user}
	for _, u := range people {
		signIn = append(signIn, u.user)
	}
	issuer, err := authtest.New(&authtest.Options{MintEndpoint: true, HostedUI: true, Users: signIn, TokenTTL: 12 * time.Hour})
	if err != nil {
		return err
	}
	issuerBase, stopIssuer, err := serveLoopback(issuer)
	if err != nil {
		return err
	}
	defer stopIssuer()
	issuer.SetBaseURL(issuerBase)
	cfg.Auth.GroupRoles = map[string][]string{"members": {"member"}, "staff": {"staff"}, "admins": {"admin"}}
	cfg.Auth.SegmentClaims = map[string]string{"custom:tier": "tier"}
	fmt.Fprintf(stdout, "sign-in issuer   %s  (local, demo only: it mints tokens for anyone)\n", issuer.URL())
	if !cfg.Console.SessionKey.IsSet() {
		// One process: a fresh key per run is all the demo needs (and
		// saves it the warning a production process gets).
		key := make([]byte, config.SessionKeySize)
		_, _ = rand.Read(key)
		cfg.Console.SessionKey = config.NewSecret(hex.EncodeToString(key))
	}
	// The console derives its redirect URL from the host the browser used
	// (cfg.Console.RedirectURL stays empty): localhost and 127.0.0.1 both work.

	// 3. Every server in this process.
	var lib *library.Service
	var apiSrv *compose.APIServer
	var b compose.Backend
	var metrics *ops.MetricsServer
	var adminSrv *compose.AdminServer
	var mirror syncworker.Mirror
	var con http.Handler // the admin console, unless --console=false
	app := fx.New(
		compose.Options(cfg, compose.All, compose.WithVersion(opts.Version),
			fx.Replace(compose.Issuers{{Kind: auth.Cognito, URL: issuer.URL(), ClientIDs: []string{issuer.ClientID()}}}),
			fx.Invoke(func(lc fx.Lifecycle, b compose.Backend) {
				lc.Append(fx.StartHook(func(ctx context.Context) error {
					return seedRules(ctx, b, cfg.Vimeo.RootFolderID, topFolders)
				}))
			}),
		),
		fx.Populate(&lib, &apiSrv, &b, &metrics, &adminSrv, &mirror),
		fx.Invoke(fx.Annotate(func(h http.Handler) { con = h }, fx.ParamTags(`name:"admin_console" optional:"true"`))),
	)
	if err := compose.Start(ctx, app); err != nil {
		return err
	}
	defer func() { _ = compose.Stop(app) }()

	// 4. The first reconciliation, with a progress bar.
	if err := progress(ctx, stdout, lib, fake, cfg.Demo.Folders+cfg.Demo.Videos/100); err != nil {
		return err
	}
	st := lib.Status()
	fmt.Fprintf(stdout, "mirrored         %d folders, %d videos (content version %d); ready in %v\n",
		st.Folders, st.Videos, st.ContentVersion, time.Since(start).Round(time.Millisecond))

	// 5. What each demo user sees, through the API, and the curl lines.
	rules, rv, err := b.ListRules(ctx)
	if err != nil {
		return err
	}
	snap, err := b.LoadSnapshot(ctx, tree.LoadOptions{})
	if err != nil {
		return err
	}
	idx, err := entitle.New(snap, rules, rv, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nrules:")
	for _, r := range rules {
		fmt.Fprintf(stdout, "  %-5s %-18s %s\n", r.Effect, r.Subject, r.Target)
	}
	apiBase := ops.BrowseURL(apiSrv.Addr())
	fmt.Fprintf(stdout, "\n%-20s %8s %8s %12s   (of %d folders, %d videos; the last column is GET /library/home)\n",
		"user", "folders", "videos", "home folders", st.Folders, st.Videos)
	tokens := make([]string, len(people))
	var exampleFolder string
	for i, u := range people {
		tokens[i] = issuer.IDToken(u.user)
		code, body, err := get(ctx, apiBase+"/library/home", tokens[i])
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("GET /library/home as %s: status %d: %s", u.label, code, body)
		}
		roles, segments := audience(cfg, u.user)
		vf, vv := idx.Visible(entitle.NewAudience(u.user.Email, roles, segments)).Len()
		n, first := homeFolders(body)
		if first != "" {
			exampleFolder = first
		}
		fmt.Fprintf(stdout, "%-20s %8d %8d %12d\n", u.label, vf, vv, n)
	}
	// Some viewing history, through the API as a player would send it, so
	// that continue watching and the history are not empty.
	for i := range people {
		n, err := watchHistory(ctx, apiBase, tokens[i], 4)
		if err != nil {
			return fmt.Errorf("demo viewing history of %s: %w", people[i].label, err)
		}
		if n > 0 {
			fmt.Fprintf(stdout, "viewing history  %-20s %d playback events accepted\n", people[i].label, n)
		}
	}
	labels := make([]string, len(people))
	for i, u := range people {
		labels[i] = u.label
	}
	if err := feeds(ctx, stdout, apiBase, labels, tokens); err != nil {
		return err
	}
	if err := showcaseRules(ctx, stdout, b, lib, mirror, acct, apiBase, topFolders, tokens); err != nil {
		return fmt.Errorf("demo public content, teasers and privacy: %w", err)
	}
	if err := search(ctx, stdout, apiBase, labels, tokens); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nThe API is at %s. Try it as each user (tokens are valid for 12 hours):\n\n", apiBase)
	for i, u := range people {
		fmt.Fprintf(stdout, "# %s\nTOKEN_%d='%s'\ncurl -s -H \"Authorization: Bearer $TOKEN_%d\" %s/library/home\n\n", u.label, i, tokens[i], i, apiBase)
	}
	if exampleFolder == "" {
		exampleFolder = "<id>"
	}
	fmt.Fprintf(stdout, "Then open a folder:        curl -s -H \"Authorization: Bearer $TOKEN_3\" %s/folders/%s\n", apiBase, exampleFolder)
	fmt.Fprintf(stdout, "and a video's player:      curl -s -H \"Authorization: Bearer $TOKEN_3\" %s/videos/<id>/playback\n", apiBase)
	fmt.Fprintf(stdout, "continue watching:         curl -s -H \"Authorization: Bearer $TOKEN_3\" %s/me/continue-watching\n", apiBase)
	fmt.Fprintf(stdout, "and the history:           curl -s -H \"Authorization: Bearer $TOKEN_3\" %s/me/history\n", apiBase)
	fmt.Fprintf(stdout, "the ranked feed:           curl -s -H \"Authorization: Bearer $TOKEN_3\" %s/feed\n", apiBase)
	fmt.Fprintf(stdout, "The same folder as TOKEN_1 may be a 404: what a user may not see does not exist for them.\n")
	fmt.Fprintf(stdout, "OpenAPI: %s/openapi.json", apiBase)
	if metrics.HTTPServer != nil {
		fmt.Fprintf(stdout, "   metrics: %s/metrics", ops.BrowseURL(metrics.Addr()))
	}
	fmt.Fprintln(stdout)
	stopChat, err := chat(ctx, stdout, apiBase, issuer)
	if err != nil {
		return err
	}
	defer stopChat()

	// 6. The admin API, with something in every view.
	held, err := adminState(ctx, b, mirror, acct, rootID)
	if err != nil {
		return err
	}
	adminBase := ops.BrowseURL(adminSrv.Addr())
	if err := checkAdmin(ctx, adminBase, issuer.IDToken(adminPerson.user), held != nil); err != nil {
		return err
	}
	if con != nil {
		fmt.Fprintf(stdout, "\nThe admin console:  %s/\n", adminBase)
		fmt.Fprintf(stdout, "Open it in a browser, click Sign in, then click %s on the demo issuer's page (no password).\n", adminPerson.user.Name)
	}
	fmt.Fprintf(stdout, "\nThe admin API is at %s/admin/. Call it as the admin:\n\nADMIN_TOKEN='%s'\n", adminBase, issuer.IDToken(adminPerson.user))
	for _, p := range []string{"overview", "dead-letters", "sync-runs?status=held", "drift", "cache/instances"} {
		fmt.Fprintf(stdout, "curl -s -H \"Authorization: Bearer $ADMIN_TOKEN\" '%s/admin/%s'\n", adminBase, p)
	}
	if held != nil && held.Run.ID != 0 {
		fmt.Fprintf(stdout, "Reconciliation %d is held (%d deletions): approve or reject it:\n", held.Run.ID, len(held.Held))
		fmt.Fprintf(stdout, "curl -s -X POST -H \"Authorization: Bearer $ADMIN_TOKEN\" %s/admin/sync-runs/%d/approve\n", adminBase, held.Run.ID)
		fmt.Fprintf(stdout, "A dry run shows the drift against Vimeo now: curl -s -X POST -H \"Authorization: Bearer $ADMIN_TOKEN\" %s/admin/drift/dry-run\n", adminBase)
	}
	if opts.ExitWhenReady {
		return nil
	}
	fmt.Fprintln(stdout, "\nvidlib is running. Press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping")
	return nil
}

// seedRules gives the demo users different libraries: members and staff see
// the root, the free tier not the first top-level folder ("premium"), and
// members not the second ("staff only"). Nothing is added twice.
func seedRules(ctx context.Context, rs entitle.RuleStore, root string, top []string) error {
	existing, _, err := rs.ListRules(ctx)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return nil
	}
	type r struct{ subject, target, effect string }
	rules := []r{{"role:member", "folder:" + root, "allow"}, {"role:staff", "folder:" + root, "allow"}}
	if len(top) >= 2 {
		rules = append(rules, r{"segment:tier=free", "folder:" + top[0], "deny"}, r{"role:member", "folder:" + top[1], "deny"})
	}
	for _, x := range rules {
		sub, err := entitle.ParseSubject(x.subject)
		if err != nil {
			return err
		}
		tg, err := entitle.ParseTarget(x.target)
		if err != nil {
			return err
		}
		effect := entitle.Allow
		if x.effect == "deny" {
			effect = entitle.Deny
		}
		if _, _, err := rs.AddRule(ctx, entitle.Rule{Subject: sub, Target: tg, Effect: effect, CreatedBy: "demo"}); err != nil {
			return err
		}
	}
	return nil
}

// progress draws a progress bar of the first reconciliation until the
// library has loaded a snapshot with videos in it.
func progress(ctx context.Context, w io.Writer, lib *library.Service, fake *vimeotest.Server, estimate int) error {
	const width = 30
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		st := lib.Status()
		if st.Ready && st.Videos > 0 {
			fmt.Fprintf(w, "\rmirroring        [%s] done%s\n", strings.Repeat("#", width), strings.Repeat(" ", 10))
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the first reconciliation did not finish in 10 minutes")
		}
		if fake != nil && estimate > 0 {
			n := int(fake.Stats().Requests)
			done := min(n*width/estimate, width-1)
			fmt.Fprintf(w, "\rmirroring        [%s%s] %d API calls", strings.Repeat("#", done), strings.Repeat(".", width-done), n)
		} else {
			fmt.Fprintf(w, "\rmirroring        (reconciling; %v)", time.Since(deadline.Add(-10*time.Minute)).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func get(ctx context.Context, url, token string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// homeFolders reads the number of top-level folders of a /library/home
// answer, and the id of the first.
func homeFolders(body []byte) (int, string) {
	var h struct {
		Folders []struct {
			ID string `json:"id"`
		} `json:"folders"`
	}
	if json.Unmarshal(body, &h) != nil || len(h.Folders) == 0 {
		return 0, ""
	}
	return len(h.Folders), h.Folders[0].ID
}

// audience is the roles and segments auth gives a demo user's token
// (groups mapped to roles, claims to segments), for the summary table.
func audience(cfg *config.Config, u authtest.User) ([]string, map[string]string) {
	var roles []string
	for _, g := range u.Groups {
		roles = append(roles, cfg.Auth.GroupRoles[g]...)
	}
	segments := map[string]string{}
	for claim, key := range cfg.Auth.SegmentClaims {
		if v, ok := u.Extra[claim].(string); ok {
			segments[key] = v
		}
	}
	return roles, segments
}

// serveLoopback serves h on a free loopback port and returns its base URL.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
