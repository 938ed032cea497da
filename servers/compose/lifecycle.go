package compose

import (
	"context"
	"fmt"

	"go.uber.org/fx"
)

// Start starts app within its start timeout.
func Start(ctx context.Context, app *fx.App) error {
	if err := app.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, app.StartTimeout())
	defer cancel()
	return app.Start(startCtx)
}

// Stop stops app within its stop timeout, even after ctx has ended.
func Stop(app *fx.App) error {
	ctx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	return app.Stop(ctx)
}

// Run starts app, waits for ctx (SIGINT/SIGTERM) or the app's own
// shutdown, and stops it within its stop timeout. An app that shut itself
// down with a non-zero exit code (a server failed) is an error.
func Run(ctx context.Context, app *fx.App) error {
	if err := Start(ctx, app); err != nil {
		return err
	}
	code := 0
	select {
	case <-ctx.Done():
	case sig := <-app.Wait():
		code = sig.ExitCode
	}
	if err := Stop(app); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("stopped after a failure (exit code %d); see the log", code)
	}
	return nil
}
