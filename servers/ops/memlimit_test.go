package ops

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoryLimit(t *testing.T) {
	container := func(n int64, ok bool) func() (int64, bool) { return func() (int64, bool) { return n, ok } }
	cases := []struct {
		name      string
		setting   int64
		env       string
		gogc      string
		container func() (int64, bool)
		want      int64
		from      string
	}{
		{"a setting wins over GOMEMLIMIT", 1 << 30, "3GiB", "", container(4<<30, true), 1 << 30, "setting"},
		{"off sets none", -1, "", "", container(4<<30, true), 0, ""},
		{"off leaves GOGC alone too", -1, "", "", container(0, false), 0, ""},
		{"auto leaves GOMEMLIMIT to the runtime", 0, "3GiB", "", container(4<<30, true), 0, "GOMEMLIMIT"},
		{"auto takes 80% of the container", 0, "", "", container(2500<<20, true), 2000 << 20, "cgroup"},
		{"auto takes the container's limit whatever GOGC", 0, "", "50", container(2500<<20, true), 2000 << 20, "cgroup"},
		{"auto without a container limit follows the live heap", 0, "", "", container(0, false), 0, "live heap"},
		{"auto leaves GOGC to the runtime", 0, "", "80", container(0, false), 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, from := MemoryLimit(tc.setting, tc.env, tc.gogc, tc.container)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.from, from)
		})
	}
}

func TestParseCgroupMemory(t *testing.T) {
	n, ok := parseCgroupMemory("2147483648\n")
	require.True(t, ok)
	require.Equal(t, int64(2<<30), n)
	for _, unlimited := range []string{"max\n", "9223372036854771712\n", "", "0"} {
		_, ok := parseCgroupMemory(unlimited)
		require.False(t, ok, "%q", unlimited)
	}
}
