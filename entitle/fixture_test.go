package entitle

import "github.com/vidlib/vidlib/tree"

type treeSnapshot = tree.Snapshot

// newTestSnap: 1 Root > 2 Teams > 3 Sales, and 4 Marketing under Root; video
// 10 "Q3 review" in Sales, 11 "Launch" in Marketing, 12 "Intro" in Root.
func newTestSnap() (*tree.Snapshot, error) {
	return tree.New(1,
		[]tree.Folder{{VimeoID: "1", Name: "Root"}, {VimeoID: "2", ParentVimeoID: "1", Name: "Teams"},
			{VimeoID: "3", ParentVimeoID: "2", Name: "Sales"}, {VimeoID: "4", ParentVimeoID: "1", Name: "Marketing"}},
		[]tree.Video{{VimeoID: "10", Title: "Q3 review", Status: tree.StatusAvailable},
			{VimeoID: "11", Title: "Launch", Status: tree.StatusAvailable},
			{VimeoID: "12", Title: "Intro", Status: tree.StatusAvailable}},
		[]tree.Placement{{FolderVimeoID: "3", VideoVimeoID: "10"}, {FolderVimeoID: "4", VideoVimeoID: "11"},
			{FolderVimeoID: "1", VideoVimeoID: "12"}},
	)
}
