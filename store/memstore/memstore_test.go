package memstore_test

import (
	"testing"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/storetest"
	"github.com/vidlib/vidlib/tree"
)

func TestTreeStore(t *testing.T) {
	storetest.TestTreeStore(t, func(*testing.T) tree.Store { return memstore.New() })
}

func TestUserStore(t *testing.T) {
	storetest.TestUserStore(t, func(*testing.T) auth.UserStore { return memstore.New() })
}

func TestRuleStore(t *testing.T) {
	storetest.TestRuleStore(t, func(*testing.T) entitle.RuleStore { return memstore.New() })
}
