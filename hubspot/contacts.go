package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
)

// The contact properties vidlib writes for agents (string, text fields in
// the "contactinformation" group): what the contact last watched.
const (
	PropLastVideoID    = "vidlib_last_video_id"
	PropLastVideoTitle = "vidlib_last_video_title"
	PropLastFolder     = "vidlib_last_folder"
	PropLastReason     = "vidlib_last_reason"
)

// ContactProperties are the definitions EnsureContactProperties creates.
var ContactProperties = []PropertyDefinition{
	{Name: PropLastVideoID, Label: "Last video (vidlib id)"},
	{Name: PropLastVideoTitle, Label: "Last video watched"},
	{Name: PropLastFolder, Label: "Last video folder"},
	{Name: PropLastReason, Label: "Why the last video was recommended"},
}

// PropertyDefinition is a custom contact property (type string, field type
// text).
type PropertyDefinition struct {
	Name, Label string
	// GroupName defaults to "contactinformation".
	GroupName string
}

// EnsureContactProperties creates the properties (POST
// /crm/v3/properties/contacts); one that exists already (409) is fine. It
// needs the crm.schemas.contacts.write scope.
func (c *Client) EnsureContactProperties(ctx context.Context, defs []PropertyDefinition) error {
	for _, d := range defs {
		g := d.GroupName
		if g == "" {
			g = "contactinformation"
		}
		body := map[string]string{"name": d.Name, "label": d.Label, "type": "string", "fieldType": "text", "groupName": g}
		err := c.do(ctx, http.MethodPost, "/crm/v3/properties/contacts", nil, body, nil)
		if err != nil && !errors.Is(err, ErrConflict) {
			return fmt.Errorf("hubspot: property %s: %w", d.Name, err)
		}
	}
	return nil
}

// ContactUpdate sets properties of the contact with Email (values are
// strings; "" clears one).
type ContactUpdate struct {
	Email      string
	Properties map[string]string
}

// MaxBatch is the largest batch HubSpot's batch endpoints take.
const MaxBatch = 100

// UpsertContacts creates or updates contacts by email (POST
// /crm/v3/objects/contacts/batch/upsert with idProperty email): a contact
// that does not exist yet is created, where a PATCH by email would 404.
func (c *Client) UpsertContacts(ctx context.Context, updates []ContactUpdate) error {
	for len(updates) > 0 {
		n := min(len(updates), MaxBatch)
		type input struct {
			IDProperty string            `json:"idProperty"`
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		}
		body := struct {
			Inputs []input `json:"inputs"`
		}{Inputs: make([]input, n)}
		for i, u := range updates[:n] {
			if !ValidEmail(u.Email) {
				return fmt.Errorf("%w: email %q", ErrInvalidArgument, u.Email)
			}
			body.Inputs[i] = input{IDProperty: "email", ID: u.Email, Properties: u.Properties}
		}
		if err := c.do(ctx, http.MethodPost, "/crm/v3/objects/contacts/batch/upsert", nil, body, nil); err != nil {
			return err
		}
		updates = updates[n:]
	}
	return nil
}

// ContactUpserter is what a ContactUpdater writes through: *Client.
type ContactUpserter interface {
	UpsertContacts(ctx context.Context, updates []ContactUpdate) error
}

// UpdaterOptions configures a ContactUpdater. The zero value is valid.
type UpdaterOptions struct {
	// Debounce is how long an update waits for a newer one of the same
	// contact before it is sent (default 30 s): a user who opens ten videos
	// in a minute costs one call, carrying the last one.
	Debounce time.Duration
	// Timeout bounds one flush (default 10 s).
	Timeout time.Duration
	// MaxPending bounds the contacts waiting; past it an update is dropped
	// and counted (default 10,000).
	MaxPending int
	Logger     *zap.Logger
}

// ContactUpdater sends contact-property updates asynchronously and
// debounced, in batches: Update never blocks on HubSpot. The properties
// are per contact, not per chat (two tabs overwrite each other), and best
// effort: an update that fails is logged and dropped, the next one carries
// the current values. Run sends; Close sends what is pending and stops.
type ContactUpdater struct {
	up   ContactUpserter
	o    UpdaterOptions
	log  *zap.Logger
	kick chan struct{}
	done chan struct{}

	mu      sync.Mutex
	pending map[string]pendingUpdate
	closed  bool
	stats   UpdaterStats
}

type pendingUpdate struct {
	props map[string]string
	due   time.Time
}

// UpdaterStats counts a ContactUpdater's work.
type UpdaterStats struct {
	Queued, Coalesced, Sent, Failed, Dropped int64
}

// NewContactUpdater returns an updater writing through up; call Run.
func NewContactUpdater(up ContactUpserter, opts *UpdaterOptions) *ContactUpdater {
	var o UpdaterOptions
	if opts != nil {
		o = *opts
	}
	if o.Debounce <= 0 {
		o.Debounce = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 10_000
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return &ContactUpdater{up: up, o: o, log: o.Logger.Named("hubspot_contacts"), kick: make(chan struct{}, 1),
		done: make(chan struct{}), pending: map[string]pendingUpdate{}}
}

// Update queues properties for the contact with email; a newer update of the
// same contact within the debounce replaces the values it names.
func (u *ContactUpdater) Update(email string, props map[string]string) {
	if !ValidEmail(email) || len(props) == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		u.stats.Dropped++
		return
	}
	p, ok := u.pending[email]
	switch {
	case ok:
		u.stats.Coalesced++
		for k, v := range props {
			p.props[k] = v
		}
	case len(u.pending) >= u.o.MaxPending:
		u.stats.Dropped++
		return
	default:
		p = pendingUpdate{props: make(map[string]string, len(props)), due: time.Now().Add(u.o.Debounce)}
		for k, v := range props {
			p.props[k] = v
		}
	}
	u.pending[email] = p
	u.stats.Queued++
}

// Stats returns the updater's counters.
func (u *ContactUpdater) Stats() UpdaterStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stats
}

// Run sends due updates until ctx is done, then sends what is pending and
// returns.
func (u *ContactUpdater) Run(ctx context.Context) {
	defer close(u.done)
	t := time.NewTicker(max(u.o.Debounce/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			u.mu.Lock()
			u.closed = true
			u.mu.Unlock()
			u.flush(true)
			return
		case <-t.C:
			u.flush(false)
		}
	}
}

// Wait blocks until Run has returned.
func (u *ContactUpdater) Wait() { <-u.done }

func (u *ContactUpdater) flush(all bool) {
	now := time.Now()
	u.mu.Lock()
	var batch []ContactUpdate
	for email, p := range u.pending {
		if all || !now.Before(p.due) {
			batch = append(batch, ContactUpdate{Email: email, Properties: p.props})
			delete(u.pending, email)
		}
	}
	u.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	sort.Slice(batch, func(i, j int) bool { return batch[i].Email < batch[j].Email })
	ctx, cancel := context.WithTimeout(context.Background(), u.o.Timeout)
	defer cancel()
	err := u.up.UpsertContacts(ctx, batch)
	u.mu.Lock()
	if err != nil {
		u.stats.Failed += int64(len(batch))
	} else {
		u.stats.Sent += int64(len(batch))
	}
	u.mu.Unlock()
	if err != nil {
		u.log.Warn("contact properties not updated", zap.Int("contacts", len(batch)), zap.Error(err))
	}
}
