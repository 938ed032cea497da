package ops

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
)

func contextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func contextWithRouteContext(r *http.Request) context.Context {
	return context.WithValue(r.Context(), chi.RouteCtxKey, chi.NewRouteContext())
}
