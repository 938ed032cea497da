package entitle_test

import (
	"fmt"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

func Example() {
	snap, _ := tree.New(1,
		[]tree.Folder{{VimeoID: "1", Name: "Academy"}, {VimeoID: "2", ParentVimeoID: "1", Name: "Advanced"}},
		[]tree.Video{{VimeoID: "10", Status: tree.StatusAvailable}, {VimeoID: "20", Status: tree.StatusAvailable}},
		[]tree.Placement{{FolderVimeoID: "1", VideoVimeoID: "10"}, {FolderVimeoID: "2", VideoVimeoID: "20"}},
	)
	everyone, _ := entitle.ParseSubject("everyone")
	trial, _ := entitle.ParseSubject("role:trial")
	academy, _ := entitle.ParseTarget("folder:1")
	advanced, _ := entitle.ParseTarget("folder:2")
	idx, _ := entitle.New(snap, []entitle.Rule{
		{ID: 1, Subject: everyone, Target: academy, Effect: entitle.Allow},
		{ID: 2, Subject: trial, Target: advanced, Effect: entitle.Deny},
	}, 1, nil)

	// At the same level a matching deny wins; so "everyone but trial users" is
	// an allow further up and a deny for the trial role on the folder.
	tryout := entitle.NewAudience("u1", []string{"trial"}, map[string]string{"tier": "silver"})
	member := entitle.NewAudience("u2", []string{"member"}, map[string]string{"tier": "gold"})
	fmt.Println(idx.Visible(tryout).VideoIDs(), idx.Visible(member).VideoIDs())
	d := idx.Explain(tryout, "20")
	fmt.Println(d.Allowed, d.Rule.ID, d.Level, d.Target)
	// Output:
	// [10] [10 20]
	// false 2 1 folder:2
}
