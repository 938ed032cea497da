package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/vimeosource"
	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// runDemo mirrors a generated fake Vimeo account into memory and shows how
// entitlement rules give demo users different libraries. It needs no external
// service. (The HTTP API, sign-in and the rest of the demo arrive with their
// issues.)
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	folders := fs.Int("folders", 300, "folders in the generated Vimeo account's mirrored tree")
	videos := fs.Int("videos", 3000, "videos in the generated account's mirrored tree")
	seed := fs.Uint64("seed", 1, "seed of the generated account (same seed, same account)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *folders < 3 || *videos < 1 {
		return fmt.Errorf("%w: --folders must be at least 3 and --videos at least 1", errUsage)
	}
	start := time.Now()

	// 1. A fake Vimeo account, served on a loopback port as the real API would be.
	acct, rootID, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: *seed, Folders: *folders, Videos: *videos})
	if err != nil {
		return fmt.Errorf("generate the fake account: %w", err)
	}
	fake := vimeotest.NewServer(acct, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go httpSrv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer func() { _ = httpSrv.Shutdown(context.WithoutCancel(ctx)) }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "fake Vimeo API   %s  (a generated account: %d folders, %d videos under root folder %d)\n", base, *folders, *videos, rootID)

	// 2. Walk it with the real client, as reconciliation does.
	client, err := vimeo.New(fake.Token(), &vimeo.Options{BaseURL: base})
	if err != nil {
		return err
	}
	root := strconv.FormatInt(rootID, 10)
	walk, err := client.Walk(ctx, root, nil)
	if err != nil {
		return fmt.Errorf("walk: %w", err)
	}
	if !walk.Trustworthy() {
		return fmt.Errorf("the walk was not complete and consistent: %v %v", walk.Failures, walk.Problems)
	}
	fmt.Fprintf(stdout, "walked           %d folders, %d videos in %d API calls (%v)\n",
		len(walk.Folders), len(walk.Videos), walk.Calls, time.Since(start).Round(time.Millisecond))

	// 3. Mirror it into the embedded store, in one transaction.
	st := memstore.New()
	fl, vl, pl := vimeosource.FromWalk(walk)
	version, err := st.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, fl); err != nil {
			return err
		}
		if err := tx.UpsertVideos(ctx, vl); err != nil {
			return err
		}
		return tx.PlaceVideos(ctx, pl)
	})
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
	if err != nil {
		return err
	}
	nf, nv := snap.Len()
	fmt.Fprintf(stdout, "mirrored         %d folders, %d videos (content version %d)\n", nf, nv, version)

	// 4. Entitlement rules over the top-level folders, and four demo users.
	top := snap.Children(root)
	if len(top) < 2 {
		return errors.New("the generated tree has fewer than two top-level folders: raise --folders")
	}
	premium, staffOnly := top[0], top[1]
	for _, r := range []struct{ subject, target string }{
		{"role:member", "folder:" + root}, {"role:staff", "folder:" + root},
		{"segment:tier=free", "folder:" + premium}, {"role:member", "folder:" + staffOnly},
	} {
		sub, _ := entitle.ParseSubject(r.subject)
		tg, _ := entitle.ParseTarget(r.target)
		effect := entitle.Allow
		if r.target != "folder:"+root {
			effect = entitle.Deny
		}
		if _, _, err := st.AddRule(ctx, entitle.Rule{Subject: sub, Target: tg, Effect: effect, CreatedBy: "demo"}); err != nil {
			return err
		}
	}
	rules, rv, err := st.ListRules(ctx)
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
	fmt.Fprintf(stdout, "  (%q is premium, %q is staff-only; no matching rule means deny)\n\n",
		snap.Folder(premium).Name, snap.Folder(staffOnly).Name)

	users := []struct {
		name     string
		roles    []string
		segments map[string]string
	}{
		{"visitor (no role)", nil, nil},
		{"member, free tier", []string{"member"}, map[string]string{"tier": "free"}},
		{"member, gold tier", []string{"member"}, map[string]string{"tier": "gold"}},
		{"staff", []string{"staff"}, nil},
	}
	playable := 0
	for _, v := range snap.Videos() {
		if v.Playable() {
			playable++
		}
	}
	fmt.Fprintf(stdout, "%-20s %8s %8s   (of %d folders, %d playable videos)\n", "user", "folders", "videos", nf, playable)
	for i, u := range users {
		a := entitle.NewAudience(fmt.Sprintf("demo-user-%d", i), u.roles, u.segments)
		f, v := idx.Visible(a).Len()
		fmt.Fprintf(stdout, "%-20s %8d %8d\n", u.name, f, v)
	}
	if vids := snap.SubtreeVideos(staffOnly); len(vids) > 0 {
		gold := entitle.NewAudience("demo-user-2", []string{"member"}, map[string]string{"tier": "gold"})
		d := idx.Explain(gold, vids[0])
		fmt.Fprintf(stdout, "\nwhy can't the gold member see video %s? allowed=%v, %s", vids[0], d.Allowed, d.Reason)
		if d.Rule != nil {
			fmt.Fprintf(stdout, ": rule %d (%s %s %s), %d levels up", d.Rule.ID, d.Rule.Effect, d.Rule.Subject, d.Target, d.Level)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "\nready in %v. The HTTP API, sign-in and the sync worker come with their issues; see README.md.\n",
		time.Since(start).Round(time.Millisecond))
	return nil
}
