// Command entitle compiles entitlement rules over a small in-code tree and
// answers "can this user see this video?", with the rule and level that
// decided (Explain). It needs no service:
//
//	go run ./examples/entitle
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "entitle:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	// root ─┬─ courses ─── premium   (video 3)
	//       │    (video 2)
	//       └─ staff                 (video 4)
	// (video 1 in root)
	folders := []tree.Folder{
		{VimeoID: "100", Name: "Library"},
		{VimeoID: "110", ParentVimeoID: "100", Name: "Courses"},
		{VimeoID: "111", ParentVimeoID: "110", Name: "Premium"},
		{VimeoID: "120", ParentVimeoID: "100", Name: "Staff only"},
	}
	videos := []tree.Video{
		{VimeoID: "1", Title: "Welcome", Status: tree.StatusAvailable},
		{VimeoID: "2", Title: "Basics", Status: tree.StatusAvailable},
		{VimeoID: "3", Title: "Masterclass", Status: tree.StatusAvailable},
		{VimeoID: "4", Title: "All-hands", Status: tree.StatusAvailable},
	}
	placements := []tree.Placement{
		{FolderVimeoID: "100", VideoVimeoID: "1"},
		{FolderVimeoID: "110", VideoVimeoID: "2"},
		{FolderVimeoID: "111", VideoVimeoID: "3"},
		{FolderVimeoID: "120", VideoVimeoID: "4"},
	}
	snap, err := tree.New(1, folders, videos, placements)
	if err != nil {
		return err
	}

	var rules []entitle.Rule
	for i, r := range []struct{ subject, target, effect string }{
		{"everyone", "video:1", "allow"},            // signed-in users see the welcome video
		{"everyone", "folder:110", "allow"},         // and the courses,
		{"segment:tier=free", "folder:111", "deny"}, // but the free tier misses Premium;
		{"role:staff", "folder:100", "allow"},       // staff see everything.
	} {
		sub, err := entitle.ParseSubject(r.subject)
		if err != nil {
			return err
		}
		tg, err := entitle.ParseTarget(r.target)
		if err != nil {
			return err
		}
		rules = append(rules, entitle.Rule{ID: int64(i + 1), Subject: sub, Target: tg, Effect: entitle.Effect(r.effect)})
	}
	idx, err := entitle.New(snap, rules, 1, nil)
	if err != nil {
		return err
	}

	users := []struct {
		name     string
		audience entitle.Audience
	}{
		{"ana (free tier)", entitle.NewAudience("u1", nil, map[string]string{"tier": "free"})},
		{"ben (gold tier)", entitle.NewAudience("u2", nil, map[string]string{"tier": "gold"})},
		{"cy (staff)", entitle.NewAudience("u3", []string{"staff"}, nil)},
	}
	for _, u := range users {
		f, v := idx.Visible(u.audience).Len()
		fmt.Fprintf(out, "%s sees %d folders and %d videos\n", u.name, f, v)
		for _, vid := range []string{"3", "4"} {
			d := idx.Explain(u.audience, vid)
			verdict := "denied"
			if d.Allowed {
				verdict = "allowed"
			}
			fmt.Fprintf(out, "  video %s (%s): %s", vid, snap.Video(vid).Title, verdict)
			if d.Rule != nil {
				fmt.Fprintf(out, " by rule %d (%s %s %s) at level %d", d.Rule.ID, d.Rule.Effect, d.Rule.Subject, d.Rule.Target, d.Level)
			} else {
				fmt.Fprintf(out, " (%s)", d.Reason)
			}
			fmt.Fprintln(out)
		}
	}
	return nil
}
