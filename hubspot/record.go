package hubspot

import "time"

// ContextRecord is one generated chat context as the stores keep it
// (PostgreSQL: hubspot_context): who, which video, where, when, and until
// when the token handed out is valid. It never holds the token.
type ContextRecord struct {
	UserID    string
	VideoID   string // Vimeo id
	FolderID  string // "" when none
	CreatedAt time.Time
	ExpiresAt time.Time // zero: no token was handed out
	// Context is the rest: identification status, why there was no token,
	// folder path, rank reason.
	Context map[string]string
}
