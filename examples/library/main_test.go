package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLibraryExample(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out))
	got := out.String()
	ana, cy, ok := strings.Cut(got, "cy (staff)\n")
	require.True(t, ok, got)

	// ana, free tier: the courses without Premium, no staff folder.
	require.Contains(t, ana, "home: folders Courses (0 folders, 1 videos); videos Welcome\n")
	require.Contains(t, ana, `row "Recently added": Basics, Welcome`+"\n")
	require.Contains(t, ana, "folder Courses: folders -; videos Basics\n")
	require.Contains(t, ana, "video 4: library: not found")

	// cy, staff: everything.
	require.Contains(t, cy, "home: folders Courses (1 folders, 1 videos), Staff only (0 folders, 1 videos); videos Welcome\n")
	require.Contains(t, cy, `row "Recently added": All-hands, Masterclass, Basics, Welcome`+"\n")
	require.Contains(t, cy, "folder Courses: folders Premium (0 folders, 1 videos); videos Basics\n")
	require.Contains(t, cy, "video 4: visible\n")
}
