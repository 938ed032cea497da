package hubspot_test

import (
	"context"
	"fmt"
	"time"

	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/hubspot/hubspottest"
)

// Identification tokens per user: minted once, then reused.
func ExampleTokens() {
	fake := hubspottest.New(nil) // the real API: hubspot.New(token, nil)
	defer fake.Close()
	client, err := hubspot.New(fake.Token(), &hubspot.Options{BaseURL: fake.URL})
	if err != nil {
		panic(err)
	}
	tokens, err := hubspot.NewTokens(client, nil) // Store: shared across instances in production
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	first, _, err := tokens.IdentificationToken(ctx, "user-1", "ana@example.org", "Ana Reyes")
	if err != nil {
		panic(err)
	}
	again, expires, _ := tokens.IdentificationToken(ctx, "user-1", "ana@example.org", "Ana Reyes")
	fmt.Println(first == again, time.Until(expires).Round(time.Hour), fake.Calls(hubspottest.OpVisitorToken))
	// Output: true 12h0m0s 1
}
