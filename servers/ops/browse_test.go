package ops_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/servers/ops"
)

func TestBrowseURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8082":               "http://localhost:8082",
		"[::]:8082":           "http://localhost:8082",
		"0.0.0.0:9090":        "http://localhost:9090",
		"127.0.0.1:41234":     "http://127.0.0.1:41234",
		"[::1]:8080":          "http://[::1]:8080",
		"admin.internal:8082": "http://admin.internal:8082",
		"localhost:8080":      "http://localhost:8080",
	} {
		require.Equal(t, want, ops.BrowseURL(addr), addr)
	}
}
