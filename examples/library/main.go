// Command library builds vidlib's read service (library.Service) over the
// in-memory store (store/memstore) with a few folders, videos and
// entitlement rules, and prints the home page and a folder page for two
// viewers: the same mirror, two different libraries. It needs no service:
//
//	go run ./examples/library
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "library:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	st := memstore.New()
	if err := seed(ctx, st); err != nil {
		return err
	}
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	if err != nil {
		return err
	}
	// Refresh loads the first generation; a server calls Run instead, which
	// keeps it current.
	if err := lib.Refresh(ctx); err != nil {
		return err
	}
	viewers := []struct {
		label string
		v     library.Viewer
	}{
		{"ana (free tier)", library.Viewer{UserID: "ana", Segments: map[string]string{"tier": "free"}}},
		{"cy (staff)", library.Viewer{UserID: "cy", Roles: []string{"staff"}}},
	}
	for _, x := range viewers {
		fmt.Fprintf(out, "%s\n", x.label)
		h, err := lib.Home(ctx, x.v)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  home: folders %s; videos %s\n", folders(h.Folders), videos(h.Videos))
		for _, r := range h.Rows {
			fmt.Fprintf(out, "  row %q: %s\n", r.Title, videos(r.Videos))
		}
		p, err := lib.Folder(ctx, x.v, "110", "", 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  folder %s: folders %s; videos %s\n", p.Folder.Name, folders(p.Folders), videos(p.Videos))
		if _, err := lib.Video(ctx, x.v, "4"); err != nil {
			fmt.Fprintf(out, "  video 4: %v\n", err)
		} else {
			fmt.Fprintf(out, "  video 4: visible\n")
		}
	}
	return nil
}

// seed writes the mirror and the rules, as the sync worker and an admin
// would.
//
//	Library ─┬─ Courses ─── Premium   (video 3)
//	         │    (video 2)
//	         └─ Staff only            (video 4)
//	(video 1 in Library)
func seed(ctx context.Context, st *memstore.Store) error {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	video := func(id, title string, n int) tree.Video {
		return tree.Video{VimeoID: id, Title: title, Status: tree.StatusAvailable, CreatedAt: day.AddDate(0, 0, n)}
	}
	_, err := st.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, []tree.Folder{
			{VimeoID: "100", Name: "Library"},
			{VimeoID: "110", ParentVimeoID: "100", Name: "Courses", SortOrder: 0},
			{VimeoID: "111", ParentVimeoID: "110", Name: "Premium"},
			{VimeoID: "120", ParentVimeoID: "100", Name: "Staff only", SortOrder: 1},
		}); err != nil {
			return err
		}
		if err := tx.UpsertVideos(ctx, []tree.Video{
			video("1", "Welcome", 0), video("2", "Basics", 1), video("3", "Masterclass", 2), video("4", "All-hands", 3),
		}); err != nil {
			return err
		}
		return tx.PlaceVideos(ctx, []tree.Placement{
			{FolderVimeoID: "100", VideoVimeoID: "1"},
			{FolderVimeoID: "110", VideoVimeoID: "2"},
			{FolderVimeoID: "111", VideoVimeoID: "3"},
			{FolderVimeoID: "120", VideoVimeoID: "4"},
		})
	})
	if err != nil {
		return fmt.Errorf("seed tree: %w", err)
	}
	for _, r := range []struct{ subject, target, effect string }{
		{"everyone", "video:1", "allow"},            // signed-in users see the welcome video
		{"everyone", "folder:110", "allow"},         // and the courses,
		{"segment:tier=free", "folder:111", "deny"}, // but the free tier misses Premium;
		{"role:staff", "folder:100", "allow"},       // staff see everything.
	} {
		sub, err := entitle.ParseSubject(r.subject)
		if err != nil {
			return err
		}
		tgt, err := entitle.ParseTarget(r.target)
		if err != nil {
			return err
		}
		if _, _, err := st.AddRule(ctx, entitle.Rule{Subject: sub, Target: tgt, Effect: entitle.Effect(r.effect)}); err != nil {
			return fmt.Errorf("seed rule %v: %w", r, err)
		}
	}
	return nil
}

func folders(fs []library.FolderSummary) string {
	if len(fs) == 0 {
		return "-"
	}
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = fmt.Sprintf("%s (%d folders, %d videos)", f.Name, f.FolderCount, f.VideoCount)
	}
	return strings.Join(s, ", ")
}

func videos(vs []library.VideoSummary) string {
	if len(vs) == 0 {
		return "-"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.Title
	}
	return strings.Join(s, ", ")
}
