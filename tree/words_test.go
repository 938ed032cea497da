package tree

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDescribe(t *testing.T) {
	before, err := New(1,
		[]Folder{{VimeoID: "1", Name: "Root"}, {VimeoID: "2", ParentVimeoID: "1", Name: "Teams"},
			{VimeoID: "3", ParentVimeoID: "1", Name: "X"}, {VimeoID: "4", ParentVimeoID: "1", Name: "A"},
			{VimeoID: "5", ParentVimeoID: "1", Name: "Old"}},
		[]Video{{VimeoID: "10", Title: "Q3 review", Status: StatusAvailable, Visibility: VisibilityAnybody},
			{VimeoID: "11", Title: "Gone", Status: StatusAvailable}},
		[]Placement{{FolderVimeoID: "3", VideoVimeoID: "10"}, {FolderVimeoID: "3", VideoVimeoID: "11"}})
	require.NoError(t, err)
	after, err := New(2,
		[]Folder{{VimeoID: "1", Name: "Root"}, {VimeoID: "2", ParentVimeoID: "1", Name: "Teams"},
			{VimeoID: "3", ParentVimeoID: "1", Name: "X"}, {VimeoID: "4", ParentVimeoID: "1", Name: "B"},
			{VimeoID: "6", ParentVimeoID: "2", Name: "Sales"}, {VimeoID: "7", ParentVimeoID: "2", Name: "Y"}},
		[]Video{{VimeoID: "10", Title: "Q3 review", Status: StatusAvailable, Visibility: VisibilityNobody}},
		[]Placement{{FolderVimeoID: "7", VideoVimeoID: "10"}})
	require.NoError(t, err)

	// The words for Diff's changes, paths from the tree after, else before.
	got := DescribeAll(Diff(before, after), after, before)
	require.Equal(t, []string{
		"renamed folder 'A' → 'B' in 'Root'",
		"created folder 'Sales' in 'Root/Teams'",
		"created folder 'Y' in 'Root/Teams'",
		"moved video 'Q3 review' from 'Root/X' to 'Root/Teams/Y'",
		"updated video 'Q3 review': privacy changed from 'anybody' to 'nobody'",
		"deleted video 'Gone' from 'Root/X'",
		"deleted folder 'Old' from 'Root'",
	}, got)

	// Without snapshots, ids stand in for paths; the names travel in the change.
	require.Equal(t, "moved folder 'X' from '1' to '2'", Describe(Change{Kind: ChangeFolderMoved, VimeoID: "3", From: "1", To: "2", Folder: &Folder{Name: "X"}}))
	require.Equal(t, "video '12' became unavailable in Vimeo", Describe(Change{Kind: ChangeVideoUnavailable, VimeoID: "12", Reason: ReasonForbidden}))
	require.Equal(t, "deleted folder 'Old' from 'Root' (not_found)", Describe(Change{Kind: ChangeFolderDeleted, VimeoID: "5", From: "1", Reason: ReasonNotFound}, before))
	require.Equal(t, "updated video 'T': title changed from 'a' to 'T'; description changed",
		Describe(Change{Kind: ChangeVideoUpdated, VimeoID: "9", Fields: []string{FieldTitle, FieldDescription}, Video: &Video{Title: "T"}, OldVideo: &Video{Title: "a"}}))
}
