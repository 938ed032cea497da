package main

import (
	"context"
	"fmt"
	"io"

	"github.com/vidlib/vidlib/store/pgstore"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	dsn := fs.String("postgres-url", "", "PostgreSQL URL, e.g. postgres://user@host:5432/vidlib (env VIDLIB_POSTGRES_URL)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dsn == "" {
		return fmt.Errorf("%w: --postgres-url (or VIDLIB_POSTGRES_URL) is required", errUsage)
	}
	st, err := pgstore.Open(ctx, *dsn, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "the database is up to date")
		return nil
	}
	fmt.Fprintf(stdout, "applied migrations %v\n", applied)
	return nil
}
