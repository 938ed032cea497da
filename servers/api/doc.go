// Package api is vidlib's public read API over HTTP (chi): the calls the app
// makes to browse the library the signed-in user may see.
//
//	GET /library/home           visible top-level folders, root videos, rows
//	GET /folders/{id}           folder, breadcrumb, visible subfolders and videos (?cursor=&limit=)
//	GET /videos/{id}            video detail (access re-checked)
//	GET /videos/{id}/playback   player embed URL and iframe (access re-checked, audited if configured)
//	GET /me                     user, roles, segments
//	GET /healthz, /readyz       liveness; readiness = a library snapshot is loaded
//	GET /openapi.json           the OpenAPI 3 document (OpenAPI), checked against the router in tests
//
// Every answer comes from a library.Service (in memory; Vimeo is never
// called). The user routes run behind an Authenticator (auth.Service:
// bearer token → auth.Principal → library.Viewer), then a per-user token
// bucket (429 with Retry-After). Errors have the vidlib shape
// {"error":{"code","message","details"}}, details carrying the request id;
// objects outside the user's entitlement are 404 exactly like missing ones;
// malformed ids, cursors and limits are 400. Each request gets an
// X-Request-Id (a sane incoming one is kept), a bounded context, and limits on
// URI and body size. Bodies are pre-encoded by the library: the ETag is
// precomputed (If-None-Match → 304) and gzip is made once per cached body and
// sent when the client accepts it and the body is at least
// Options.GzipMinBytes.
//
// New builds a Server without I/O; Handler serves it in-process; Start or
// Serve listen and Shutdown stops gracefully. Module (fx) does the same in an
// application's lifecycle; LibraryModule provides and runs the
// library.Service. RedisVersions and RedisCache adapt store/redisstore to the
// library's Versions and Cache interfaces.
//
// A Server is safe for concurrent use.
package api
