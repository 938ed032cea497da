package memstore_test

import (
	"testing"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/storetest"
)

func TestAuditStore(t *testing.T) {
	storetest.TestAuditStore(t, func(t *testing.T) audit.Store { return memstore.New() })
}

func TestAuditedRuleStore(t *testing.T) {
	storetest.TestAuditedRuleStore(t, func(t *testing.T) storetest.AuditedRuleStore { return memstore.New() })
}
