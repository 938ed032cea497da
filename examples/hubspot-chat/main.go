// Command hubspot-chat serves a small page that signs in to the vidlib API
// as one user, opens a video and boots the HubSpot chat widget with the
// identification token and the context of GET /videos/{id}/chat-context.
//
//	VIDLIB_TOKEN=<bearer token> go run ./examples/hubspot-chat --api http://127.0.0.1:8080
//
// then open http://127.0.0.1:8090. The API must run with --hubspot-chat
// (and VIDLIB_HUBSPOT_TOKEN, --hubspot-portal-id for a real portal);
// `go run ./cmd/vidlib demo` serves this page against a fake HubSpot.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/vidlib/vidlib/examples/hubspot-chat/chatpage"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("hubspot-chat", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	apiBase := fs.String("api", "http://127.0.0.1:8080", "the vidlib API")
	label := fs.String("label", "me", "who the token signs in")
	widget := fs.Bool("load-widget", true, "load the HubSpot widget script")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := os.Getenv("VIDLIB_TOKEN")
	if token == "" {
		return errors.New("set VIDLIB_TOKEN to a bearer token the API accepts")
	}
	h, err := chatpage.Handler(chatpage.Options{API: *apiBase, LoadWidget: *widget,
		Users: []chatpage.User{{Label: *label, Token: func() (string, error) { return token, nil }}}})
	if err != nil {
		return err
	}
	fmt.Printf("open http://%s\n", *addr)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}
