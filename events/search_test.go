package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

// problemFields are the fields a *ValidationError names, in order, and its
// What; none for nil.
func problemFields(t *testing.T, err error) (string, []string) {
	t.Helper()
	if err == nil {
		return "", nil
	}
	var ve *events.ValidationError
	require.True(t, errors.As(err, &ve), "a *ValidationError: %v", err)
	require.ErrorIs(t, err, events.ErrInvalid)
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	return ve.What, fields
}

// The listings and searches of dead letters and provider events check their
// status, time range and page alike, in that order, and default the limit.
func TestListingNormalize(t *testing.T) {
	from := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	type result struct {
		limit  int
		what   string
		fields []string
	}
	check := func(limit int, err error) result {
		what, fields := problemFields(t, err)
		return result{limit: limit, what: what, fields: fields}
	}
	for name, tc := range map[string]struct {
		got, want result
	}{
		"dead letter filter: defaults": {check(func() (int, error) {
			f, err := events.DeadLetterFilter{Status: events.DeadLetterOpen}.Normalize()
			return f.Limit, err
		}()), result{limit: 50}},
		"dead letter filter: all wrong": {check(func() (int, error) {
			f, err := events.DeadLetterFilter{Status: "lost", Before: -1, Limit: 1001}.Normalize()
			return f.Limit, err
		}()), result{limit: 1001, what: "dead letter filter", fields: []string{"status", "before", "limit"}}},
		"provider event filter: defaults": {check(func() (int, error) {
			f, err := events.ProviderEventFilter{Limit: 7}.Normalize()
			return f.Limit, err
		}()), result{limit: 7}},
		"provider event filter: all wrong": {check(func() (int, error) {
			f, err := events.ProviderEventFilter{Status: "lost", Limit: -1}.Normalize()
			return f.Limit, err
		}()), result{limit: -1, what: "provider event filter", fields: []string{"status", "limit"}}},
		"dead letter query: defaults": {check(func() (int, error) {
			q, err := events.DeadLetterQuery{Text: "abc", From: from, To: from.Add(time.Hour)}.Normalize()
			return q.Limit, err
		}()), result{limit: 50}},
		"dead letter query: all wrong": {check(func() (int, error) {
			q, err := events.DeadLetterQuery{Status: "lost", From: from, To: from, Before: -1, Text: "--"}.Normalize()
			return q.Limit, err
		}()), result{limit: 50, what: "dead letter query", fields: []string{"status", "to", "before", "q"}}},
		"provider event query: all wrong": {check(func() (int, error) {
			q, err := events.ProviderEventQuery{Status: "lost", From: from, To: from.Add(-time.Second), Limit: 2000, Text: "!"}.Normalize()
			return q.Limit, err
		}()), result{limit: 2000, what: "provider event query", fields: []string{"status", "to", "limit", "q"}}},
	} {
		require.Equal(t, tc.want, tc.got, name)
	}
}

// ListThrough checks the filter as a filter, then searches its query.
func TestListThrough(t *testing.T) {
	var got []events.DeadLetterQuery
	search := func(_ context.Context, q events.DeadLetterQuery) ([]events.DeadLetter, error) {
		got = append(got, q)
		return []events.DeadLetter{{ID: 3}}, nil
	}
	ctx := context.Background()
	out, err := events.ListThrough(ctx, events.DeadLetterFilter{Topic: "t", Before: 9}, search)
	require.NoError(t, err)
	require.Equal(t, []events.DeadLetter{{ID: 3}}, out)
	require.Equal(t, []events.DeadLetterQuery{{Topic: "t", Before: 9, Limit: 50}}, got)

	_, err = events.ListThrough(ctx, events.DeadLetterFilter{Limit: -1}, search)
	what, fields := problemFields(t, err)
	require.Equal(t, "dead letter filter", what)
	require.Equal(t, []string{"limit"}, fields)
	require.Len(t, got, 1, "an invalid filter is not searched")
}
