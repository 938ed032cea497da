// Package demo is `vidlib demo`: every server in one process on embedded
// defaults, with something to see in every view.
//
// Run takes a loaded demo configuration (config.ForDemo, as `vidlib demo`
// parses it) and
//
//   - generates a fake Vimeo account (vimeo/vimeotest, sized by cfg.Demo) and
//     serves it on a loopback port, or mirrors a real account's folder when
//     cfg.Vimeo.Token and cfg.Vimeo.RootFolderID are set;
//   - starts a local sign-in issuer shaped like a Cognito user pool
//     (auth/authtest) with four demo users and a demo admin, and a fake
//     HubSpot API (hubspot/hubspottest) unless cfg.HubSpot.Token is set;
//   - builds every server through servers/compose, the one composition that
//     `vidlib all` runs, swapping in only the issuer (compose.Issuers), and
//     seeds the rules that give each demo user a different library;
//   - draws a progress bar of the first reconciliation, then shows, through
//     the API as a client would call it, what each user sees, their viewing
//     history (posted as a player would), ranked feeds, search, a public
//     folder, a teaser and a video hidden by its Vimeo privacy, and the chat
//     context; it serves the hubspot-chat example page;
//   - leaves dead letters and a held reconciliation for the admin API and
//     console, and prints the tokens and curl lines to try it all.
//
// Every answer it prints is checked: a wrong status is an error and Run
// returns it. Run serves until its context ends, or returns once ready with
// Options.ExitWhenReady.
//
// The fakes and the local issuer mint tokens for anyone: this package is for
// demonstrations and tests, never for a production process.
package demo
