package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func TestWalkAgainstFake(t *testing.T) {
	acct, root, err := vimeotest.Generate(&vimeotest.GenerateOptions{Seed: 3, Folders: 8, Videos: 20})
	require.NoError(t, err)
	fake := vimeotest.Start(t, acct, nil)
	env := map[string]string{
		"VIMEO_TOKEN":    fake.Token(),
		"VIMEO_FOLDER":   strconv.FormatInt(root, 10),
		"VIMEO_BASE_URL": fake.URL(),
	}
	var out strings.Builder
	require.NoError(t, run(context.Background(), func(k string) string { return env[k] }, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Contains(t, lines[0], "(folder "+strconv.FormatInt(root, 10)+")", "the root comes first")
	require.True(t, strings.HasPrefix(lines[len(lines)-1], "8 folders, 20 videos, "), lines[len(lines)-1])
	require.Contains(t, lines[len(lines)-1], "complete=true consistent=true")
	require.Len(t, lines, 8+20+1)

	require.ErrorContains(t, run(context.Background(), func(string) string { return "" }, &out), "set VIMEO_TOKEN")
}
