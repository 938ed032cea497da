package compose

import (
	"testing"

	"github.com/vidlib/vidlib/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
