package rank

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/tree"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func daysAgo(d float64) time.Time { return now.Add(-time.Duration(d * float64(24*time.Hour))) }

// lib is a small library: a root, Sales (with Q3 below it), Onboarding and
// Engineering, and the videos given as folder → titles.
type lib struct {
	folders []tree.Folder
	videos  []tree.Video
	places  []tree.Placement
	byTitle map[string]string
}

func newLib() *lib {
	l := &lib{byTitle: map[string]string{}}
	l.folder("1", "", "Root")
	l.folder("10", "1", "Sales")
	l.folder("11", "10", "Q3")
	l.folder("20", "1", "Onboarding")
	l.folder("30", "1", "Engineering")
	return l
}

func (l *lib) folder(id, parent, name string) {
	l.folders = append(l.folders, tree.Folder{VimeoID: id, ParentVimeoID: parent, Name: name})
}

func (l *lib) video(folder, title string, created time.Time) string {
	id := itoa(1000 + len(l.videos))
	l.videos = append(l.videos, tree.Video{VimeoID: id, Title: title, Status: tree.StatusAvailable, CreatedAt: created})
	l.places = append(l.places, tree.Placement{FolderVimeoID: folder, VideoVimeoID: id, SortOrder: len(l.videos)})
	l.byTitle[title] = id
	return id
}

func (l *lib) index(t testing.TB, rules ...entitle.Rule) *entitle.Index {
	t.Helper()
	snap, err := tree.New(1, l.folders, l.videos, l.places)
	require.NoError(t, err)
	for i := range rules {
		rules[i].ID = int64(i + 1)
	}
	idx, err := entitle.New(snap, rules, 1, nil)
	require.NoError(t, err)
	return idx
}

func allow(subject, folder string) entitle.Rule {
	s, err := entitle.ParseSubject(subject)
	if err != nil {
		panic(err)
	}
	return entitle.Rule{Subject: s, Target: entitle.Target{Kind: entitle.FolderTarget, ID: folder}, Effect: entitle.Allow}
}

func deny(subject, folder string) entitle.Rule {
	r := allow(subject, folder)
	r.Effect = entitle.Deny
	return r
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func ids(f *Feed) []string {
	out := make([]string, len(f.Items))
	for i, it := range f.Items {
		out[i] = it.VideoID
	}
	return out
}
