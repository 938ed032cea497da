package syncworker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
)

// RedriveStore is what Redrive needs of a store.
type RedriveStore interface {
	ListProviderEvents(ctx context.Context, f events.ProviderEventFilter) ([]events.ProviderEvent, error)
	MarkProviderEventProcessed(ctx context.Context, id int64) error
	Processed(ctx context.Context, consumer, key string) (bool, error)
}

// RedriveOptions configure Redrive. The zero value is valid.
type RedriveOptions struct {
	// OlderThan: only rows received at least this long ago are looked at, so
	// that a delivery still on its way is left alone (0: 2 min).
	OlderThan time.Duration
	// Max rows looked at per call (0: 1000).
	Max int
	// NormalizerGroup is the normaliser's consumer group (0: GroupNormalizer).
	NormalizerGroup string
}

// Redrive closes the one gap of the direct publish: a webhook stored in
// provider_events whose publish failed (Vimeo got a 503) and that Vimeo never
// delivered again stays "received". Redrive looks at such rows older than
// OlderThan: one the normaliser has already handled (its ledger has the key)
// is marked processed; any other is published to vimeo.webhooks.raw again
// (the normaliser deduplicates). It returns how many it published. Module
// runs it every minute.
func (in *Intake) Redrive(ctx context.Context, store RedriveStore, opts *RedriveOptions) (published int, err error) {
	var o RedriveOptions
	if opts != nil {
		o = *opts
	}
	if o.OlderThan <= 0 {
		o.OlderThan = 2 * time.Minute
	}
	if o.Max <= 0 {
		o.Max = 1000
	}
	if o.NormalizerGroup == "" {
		o.NormalizerGroup = GroupNormalizer
	}
	cutoff := in.opts.Now().Add(-o.OlderThan)
	f := events.ProviderEventFilter{Provider: Provider, Status: events.ProviderEventReceived, Limit: min(o.Max, 500)}
	seen := 0
	for seen < o.Max {
		page, err := store.ListProviderEvents(ctx, f)
		if err != nil {
			return published, fmt.Errorf("syncworker: redrive: list: %w", err)
		}
		for _, pe := range page {
			seen++
			if pe.ReceivedAt.After(cutoff) {
				continue
			}
			done, err := store.Processed(ctx, o.NormalizerGroup, pe.EventKey)
			if err != nil {
				return published, fmt.Errorf("syncworker: redrive: ledger: %w", err)
			}
			if done {
				err := store.MarkProviderEventProcessed(ctx, pe.ID)
				if err != nil && !errors.Is(err, events.ErrConflict) && !errors.Is(err, events.ErrNotFound) {
					return published, fmt.Errorf("syncworker: redrive: mark %d: %w", pe.ID, err)
				}
				continue
			}
			if err := in.publish(ctx, pe); err != nil {
				return published, fmt.Errorf("syncworker: redrive: publish %d: %w", pe.ID, err)
			}
			published++
			in.log.Info("republished a stored webhook", zap.Int64("provider_event_id", pe.ID), zap.String("event_key", pe.EventKey))
		}
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	return published, nil
}
