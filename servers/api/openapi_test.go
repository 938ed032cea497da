package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/servers/api"
)

// doc is the parsed OpenAPI document.
type doc map[string]any

func loadDoc(t testing.TB) doc {
	t.Helper()
	var d doc
	require.NoError(t, json.Unmarshal(api.OpenAPI, &d))
	return d
}

func (d doc) resolve(v any) map[string]any {
	m, _ := v.(map[string]any)
	for m != nil && m["$ref"] != nil {
		ref := strings.TrimPrefix(m["$ref"].(string), "#/")
		var cur any = map[string]any(d)
		for _, p := range strings.Split(ref, "/") {
			cur = cur.(map[string]any)[p]
		}
		m, _ = cur.(map[string]any)
	}
	return m
}

// validate checks value against a schema: type, required properties,
// declared properties and array items, recursively (a hand-written subset of
// JSON Schema, enough for the shapes this API documents).
func (d doc) validate(schema map[string]any, value any, at string) error {
	schema = d.resolve(schema)
	if schema == nil {
		return nil
	}
	switch schema["type"] {
	case "object":
		obj, ok := value.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want object, got %T", at, value)
		}
		for _, r := range asList(schema["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: missing required %q", at, r)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for k, v := range obj {
			if ps, ok := props[k]; ok {
				if err := d.validate(ps.(map[string]any), v, at+"."+k); err != nil {
					return err
				}
			} else if ap, ok := schema["additionalProperties"].(map[string]any); ok {
				if err := d.validate(ap, v, at+"."+k); err != nil {
					return err
				}
			} else if props != nil {
				return fmt.Errorf("%s: undocumented property %q", at, k)
			}
		}
	case "array":
		arr, ok := value.([]any)
		if !ok {
			return fmt.Errorf("%s: want array, got %T", at, value)
		}
		for i, v := range arr {
			if err := d.validate(schema["items"].(map[string]any), v, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case "string":
		s, ok := value.(string)
		if !ok {
			return fmt.Errorf("%s: want string, got %T", at, value)
		}
		if enum := asList(schema["enum"]); enum != nil && !slices.Contains(enum, any(s)) {
			return fmt.Errorf("%s: %q not in enum", at, s)
		}
	case "integer":
		f, ok := value.(float64)
		if !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: want integer, got %v", at, value)
		}
	}
	return nil
}

func asList(v any) []any { l, _ := v.([]any); return l }

// checkResponse validates a response against the document: the route and
// status must be documented, and a JSON body must match the schema.
func checkResponse(t testing.TB, route string, r resp) {
	t.Helper()
	d := loadDoc(t)
	op := d["paths"].(map[string]any)[route].(map[string]any)["get"].(map[string]any)
	rs, ok := op["responses"].(map[string]any)[strconv.Itoa(r.status)]
	require.True(t, ok, "status %d of %s is not documented", r.status, route)
	res := d.resolve(rs)
	content, _ := res["content"].(map[string]any)
	if content == nil {
		require.Empty(t, r.body)
		return
	}
	schema := content["application/json"].(map[string]any)["schema"].(map[string]any)
	var v any
	require.NoError(t, json.Unmarshal(r.body, &v), string(r.body))
	require.NoError(t, d.validate(schema, v, route), string(r.body))
}

// TestOpenAPIMatchesRouter: every route in the router (analytics and chat
// context on) is
// documented, and every documented path is routed.
func TestOpenAPIMatchesRouter(t *testing.T) {
	e, _, _ := analyticsEnv(t, nil)
	var routed []string
	require.NoError(t, chi.Walk(e.srv.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, strings.ToLower(method)+" "+route)
		return nil
	}))
	var documented []string
	for p, item := range loadDoc(t)["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			documented = append(documented, m+" "+p)
		}
	}
	slices.Sort(routed)
	slices.Sort(documented)
	require.Equal(t, documented, routed)

	r := e.get(t, "/openapi.json", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, string(api.OpenAPI), string(r.body))
	checkResponse(t, "/openapi.json", r)
}

// TestValidatorCatchesBadShapes keeps the schema check honest.
func TestValidatorCatchesBadShapes(t *testing.T) {
	d := loadDoc(t)
	s := map[string]any{"$ref": "#/components/schemas/FolderPage"}
	var good, missing, wrong any
	require.NoError(t, json.Unmarshal([]byte(`{"folder":{"id":"1","name":"a"},"breadcrumb":[],"folders":[],"videos":[],"version":"c1.e1"}`), &good))
	require.NoError(t, json.Unmarshal([]byte(`{"folder":{"id":"1","name":"a"},"breadcrumb":[],"folders":[],"version":"c1.e1"}`), &missing))
	require.NoError(t, json.Unmarshal([]byte(`{"folder":{"id":"1","name":"a"},"breadcrumb":[{"id":1}],"folders":[],"videos":[],"version":"c1.e1"}`), &wrong))
	require.NoError(t, d.validate(s, good, "x"))
	require.Error(t, d.validate(s, missing, "x"))
	require.Error(t, d.validate(s, wrong, "x"))
}
