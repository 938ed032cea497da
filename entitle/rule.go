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

// ParseSubject parses "everyone", "role:<name>", "segment:<key>=<value>" or
// "user:<id>".
func ParseSubject(s string) (Subject, error) {
	if s == string(Everyone) {
		return Subject{Kind: Everyone}, nil
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
		return Subject{}, fmt.Errorf("%w: subject %q: want everyone, role:<name>, segment:<key>=<value> or user:<id>", ErrInvalid, s)
	}
	return sub, nil
}

// String is the canonical form that ParseSubject reads.
func (s Subject) String() string {
	switch s.Kind {
	case Everyone:
		return string(Everyone)
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

// Effects.
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Rule grants or denies a subject access to a target.
type Rule struct {
	ID        int64 // assigned by the store
	Subject   Subject
	Target    Target
	Effect    Effect
	Note      string
	CreatedBy string
	CreatedAt time.Time
}

// Validate checks the rule's parts; it returns an error wrapping ErrInvalid.
func (r Rule) Validate() error {
	if _, err := ParseSubject(r.Subject.String()); err != nil {
		return err
	}
	if _, err := ParseTarget(r.Target.String()); err != nil {
		return err
	}
	if r.Effect != Allow && r.Effect != Deny {
		return fmt.Errorf("%w: effect %q: want allow or deny", ErrInvalid, r.Effect)
	}
	return nil
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
