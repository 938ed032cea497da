package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vidlib/vidlib/tree"
)

// idParam is the {id} of a route in its canonical spelling: /videos/0900000047
// and /videos/900000047 are one video (tree.CanonicalID).
func idParam(r *http.Request) string {
	id, _ := tree.CanonicalID(chi.URLParam(r, "id"))
	return id
}
