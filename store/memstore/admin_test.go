package memstore_test

import (
	"testing"

	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/storetest"
)

func TestAdminStore(t *testing.T) {
	storetest.TestAdminStore(t, func(*testing.T) storetest.AdminStore { return memstore.New() })
}
