package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEntitleExample(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	got := out.String()
	require.Contains(t, got, "ana (free tier) sees 2 folders and 2 videos")
	require.Contains(t, got, "video 3 (Masterclass): denied by rule 3 (deny segment:tier=free folder:111) at level 1")
	require.Contains(t, got, "ben (gold tier) sees 3 folders and 3 videos")
	require.Contains(t, got, "video 4 (All-hands): denied (")
	require.Contains(t, got, "cy (staff) sees 4 folders and 4 videos")
}
