package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/store/pgstore"
)

// errAuditBroken makes `vidlib audit verify` exit 1 when the chain is broken.
var errAuditBroken = errors.New("the audit log does not verify")

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: vidlib audit verify [--postgres-url URL] [--public-key BASE64]")
		return fmt.Errorf("%w: the only audit subcommand is verify", errUsage)
	}
	fs := newFlags("audit verify", stderr)
	dsn := fs.String("postgres-url", "", "PostgreSQL URL (env VIDLIB_POSTGRES_URL)")
	pubKey := fs.String("public-key", "", "base64 Ed25519 public key every checkpoint must be signed with (env VIDLIB_PUBLIC_KEY; empty: signatures not checked)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *dsn == "" {
		return fmt.Errorf("%w: --postgres-url (or VIDLIB_POSTGRES_URL) is required", errUsage)
	}
	var opts audit.VerifyOptions
	if *pubKey != "" {
		k, err := audit.ParsePublicKey(*pubKey)
		if err != nil {
			return fmt.Errorf("%w: --public-key: %v", errUsage, err)
		}
		opts.PublicKey = k
	}
	st, err := pgstore.Open(ctx, *dsn, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := audit.Verify(ctx, st, &opts)
	if err != nil {
		return err
	}
	if err := audit.WriteReport(stdout, rep); err != nil {
		return err
	}
	if !rep.OK() {
		return errAuditBroken
	}
	return nil
}
