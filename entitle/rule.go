package entitle

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Sentinel errors of the rule store; stores translate driver errors into these.
var (
	ErrNotFound  = errors.New("entitle: not found")
	ErrDuplicate = errors.New("entitle: duplicate")
	ErrInvalid   = errors.New("entitle: invalid")
)

// SubjectKind says whom a rule is about.
type SubjectKind string

// Subject kinds.
const (
	Everyone SubjectKind = "everyone" // any signed-in user
	Public   SubjectKind = "public"   // anyone, signed in or not (anonymous visitors included)
	Role     SubjectKind = "role"     // role:<name>
	Segment  SubjectKind = "segment"  // segment:<key>=<value>
	User     SubjectKind = "user"     // user:<id>
)

// Subject is whom a rule applies to. Name is the role name, the segment key or
// the user id; Value is the segment value.
type Subject struct {
	Kind  SubjectKind
	Name  string
	Value string
}

var namePart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$`)

// ParseSubject parses "public", "everyone", "role:<name>",
// "segment:<key>=<value>" or "user:<id>".
func ParseSubject(s string) (Subject, error) {
	switch s {
	case string(Everyone):
		return Subject{Kind: Everyone}, nil
	case string(Public):
		return Subject{Kind: Public}, nil
	}
	kind, rest, ok := strings.Cut(s, ":")
	var sub Subject
	switch {
	case !ok:
	case kind == string(Role) || kind == string(User):
		sub = Subject{Kind: SubjectKind(kind), Name: rest}
	case kind == string(Segment):
		k, v, ok := strings.Cut(rest, "=")
		if ok && v != "" {
			sub = Subject{Kind: Segment, Name: k, Value: v}
		}
	}
	if sub.Kind == "" || !namePart.MatchString(sub.Name) {
		return Subject{}, fmt.Errorf("%w: subject %q: want public, everyone, role:<name>, segment:<key>=<value> or user:<id>", ErrInvalid, s)
	}
	return sub, nil
}

// String is the canonical form that ParseSubject reads.
func (s Subject) String() string {
	switch s.Kind {
	case Everyone, Public:
		return string(s.Kind)
	case Segment:
		return "segment:" + s.Name + "=" + s.Value
	default:
		return string(s.Kind) + ":" + s.Name
	}
}

// TargetKind says what a rule is about.
type TargetKind string

// Target kinds.
const (
	FolderTarget TargetKind = "folder" // the folder's whole subtree
	VideoTarget  TargetKind = "video"
)

// Target is a folder (and its subtree) or a video, by Vimeo id.
type Target struct {
	Kind TargetKind
	ID   string
}

var vimeoID = regexp.MustCompile(`^[0-9]{1,20}$`)

// ParseTarget parses "folder:<vimeo id>" or "video:<vimeo id>".
func ParseTarget(s string) (Target, error) {
	kind, id, _ := strings.Cut(s, ":")
	t := Target{Kind: TargetKind(kind), ID: id}
	if (t.Kind != FolderTarget && t.Kind != VideoTarget) || !vimeoID.MatchString(id) {
		return Target{}, fmt.Errorf("%w: target %q: want folder:<vimeo id> or video:<vimeo id>", ErrInvalid, s)
	}
	return t, nil
}

// String is the canonical form that ParseTarget reads.
func (t Target) String() string { return string(t.Kind) + ":" + t.ID }

// Effect is what a matching rule decides.
type Effect string

// Effects. At one level of §5 a matching deny beats a matching allow, and a
// matching allow beats a matching teaser (see doc.go).
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
	// Teaser lists the video (title, pictures, duration) locked, with the
	// rule's LockReason, without allowing detail playback: for paid vs free
	// catalogues.
	Teaser Effect = "teaser"
)

// LockReason is the machine-readable reason a teaser gives apps for a locked
// video, so that they can offer the right way in.
type LockReason string

// Lock reasons.
const (
	LockSignIn   LockReason = "sign_in"  // sign in to watch (public teasers only)
	LockUpgrade  LockReason = "upgrade"  // a higher plan or role is needed
	LockPurchase LockReason = "purchase" // buy this video or collection
)

// LockReasons are the valid lock reasons, in a fixed order.
var LockReasons = []LockReason{LockSignIn, LockUpgrade, LockPurchase}

// Valid reports whether r is one of LockReasons.
func (r LockReason) Valid() bool {
	switch r {
	case LockSignIn, LockUpgrade, LockPurchase:
		return true
	}
	return false
}

// Rule grants or denies a subject access to a target, or (Teaser) lists it
// locked for the LockReason.
type Rule struct {
	ID         int64 // assigned by the store
	Subject    Subject
	Target     Target
	Effect     Effect
	LockReason LockReason // teaser rules only: why the video is locked
	Note       string
	CreatedBy  string
	CreatedAt  time.Time
}

// Validate checks the rule's parts; it returns an error wrapping ErrInvalid.
func (r Rule) Validate() error {
	_, err := canonical(r)
	return err
}

// validEffect checks the effect and its lock reason: a teaser needs a valid
// reason, allow and deny take none, and sign_in only makes sense for the
// public subject (everyone else is signed in already).
func validEffect(r Rule) error {
	switch r.Effect {
	case Allow, Deny:
		if r.LockReason != "" {
			return fmt.Errorf("%w: lock reason %q: only a teaser rule has a lock reason", ErrInvalid, r.LockReason)
		}
	case Teaser:
		switch {
		case r.LockReason == "":
			return fmt.Errorf("%w: a teaser rule needs a lock reason: %s", ErrInvalid, lockReasonList())
		case !r.LockReason.Valid():
			return fmt.Errorf("%w: lock reason %q: want %s", ErrInvalid, r.LockReason, lockReasonList())
		case r.LockReason == LockSignIn && r.Subject.Kind != Public:
			return fmt.Errorf("%w: lock reason sign_in is for the public subject (%s is signed in already)", ErrInvalid, r.Subject)
		}
	default:
		return fmt.Errorf("%w: effect %q: want allow, deny or teaser", ErrInvalid, r.Effect)
	}
	return nil
}

func lockReasonList() string {
	parts := make([]string, len(LockReasons))
	for i, r := range LockReasons {
		parts[i] = string(r)
	}
	return strings.Join(parts, ", ")
}

// RuleStore keeps entitlement rules and the entitlement version, which grows with
// every change to the rules.
type RuleStore interface {
	// ListRules returns every rule ordered by id, and the version they form.
	ListRules(ctx context.Context) ([]Rule, int64, error)
	// AddRule validates and stores a rule (ErrInvalid; ErrDuplicate when a rule
	// for the same subject and target exists) and returns it with its ID and the
	// new entitlement version.
	AddRule(ctx context.Context, r Rule) (Rule, int64, error)
	// RemoveRule deletes a rule (ErrNotFound) and returns the new version.
	RemoveRule(ctx context.Context, id int64) (int64, error)
	// EntitlementVersion is the current entitlement version.
	EntitlementVersion(ctx context.Context) (int64, error)
}
