package console

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// pageRoutes registers the console's pages and their navigation entries.
func (c *Console) pageRoutes(r chi.Router) {
	c.nav = []navItem{{"/", "Overview"}}
}

func (c *Console) handleHome(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "home", view{Title: "Overview", Section: "/"})
}
