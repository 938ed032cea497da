package admin

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
)

func sortStrings(s []string) { sort.Strings(s) }

func (s *Service) index() (*entitle.Index, error) {
	if s.opts.Library == nil {
		return nil, unavailable("explain (no library)")
	}
	return s.opts.Library.Index()
}

// audience resolves an ExplainRequest's user or roles and segments.
func (s *Service) audience(ctx context.Context, req ExplainRequest) (entitle.Audience, error) {
	if req.Anonymous {
		if req.UserID != "" || len(req.Roles) > 0 || len(req.Segments) > 0 {
			return entitle.Audience{}, invalid("anonymous", "an anonymous visitor has no user, roles or segments")
		}
		return entitle.Anonymous(), nil
	}
	if req.UserID != "" {
		u, err := s.store.User(ctx, req.UserID)
		if err != nil {
			return entitle.Audience{}, err
		}
		roles, err := s.store.UserRoles(ctx, req.UserID)
		if err != nil {
			return entitle.Audience{}, err
		}
		roles = append(roles, req.Roles...) // group-mapped roles come with tokens; the caller may add them
		seg := map[string]string{}
		for k, v := range req.Segments {
			seg[k] = v
		}
		for k, v := range u.Profile {
			seg[k] = v
		}
		return entitle.NewAudience(u.ID, roles, seg), nil
	}
	for _, r := range req.Roles {
		if _, err := entitle.ParseSubject("role:" + r); err != nil {
			return entitle.Audience{}, invalid("roles", "bad role %q", r)
		}
	}
	for k, v := range req.Segments {
		if _, err := entitle.ParseSubject("segment:" + k + "=" + v); err != nil {
			return entitle.Audience{}, invalid("segments", "bad segment %q=%q", k, v)
		}
	}
	return entitle.NewAudience("", req.Roles, req.Segments), nil
}

// Explain says what an audience (a user, or roles and segments) may see:
// for a video the decision, the path walked, the deciding rule and level and
// what would change it; for a folder whether it is visible and who has
// rules on its path; with neither, a per-top-folder summary.
func (s *Service) Explain(ctx context.Context, req ExplainRequest) (Explanation, error) {
	idx, err := s.index()
	if err != nil {
		return Explanation{}, err
	}
	switch {
	case req.VideoID != "" && !library.ValidID(req.VideoID):
		return Explanation{}, invalid("video_id", "a video id is 1 to 20 digits")
	case req.FolderID != "" && !library.ValidID(req.FolderID):
		return Explanation{}, invalid("folder_id", "a folder id is 1 to 20 digits")
	}
	aud, err := s.audience(ctx, req)
	if err != nil {
		return Explanation{}, err
	}
	snap := idx.Snapshot()
	out := Explanation{Audience: audienceWords(aud)}
	if req.VideoID != "" {
		if snap.Video(req.VideoID) == nil {
			return Explanation{}, fmt.Errorf("%w: video %s", ErrNotFound, req.VideoID)
		}
		d := explainVideo(idx, aud, req.VideoID)
		out.Video = &d
	}
	if req.FolderID != "" {
		if snap.Folder(req.FolderID) == nil {
			return Explanation{}, fmt.Errorf("%w: folder %s", ErrNotFound, req.FolderID)
		}
		f := folderAccess(idx, aud, req.FolderID)
		out.Folder = &f
	}
	if req.VideoID == "" && req.FolderID == "" {
		out.Summary = summary(idx, aud)
	}
	return out, nil
}

func audienceWords(a entitle.Audience) string { return entitle.AudienceLabel(a) }

func explainVideo(idx *entitle.Index, aud entitle.Audience, videoID string) VideoDecision {
	x := idx.ExplainDetail(aud, videoID)
	out := VideoDecision{VideoID: videoID, Title: x.Title, Allowed: x.Allowed, Locked: x.Locked, LockReason: string(x.LockReason),
		Reason: string(x.Reason), Detail: x.Detail, Level: x.Level, Via: x.Via, Words: x.String()}
	if x.Rule != nil {
		r := ruleOf(*x.Rule)
		out.Rule = &r
	}
	if x.Level >= 0 {
		out.Target = x.Target.String()
	}
	if len(x.Video.Matched)+len(x.Video.Other) > 0 || x.Video.Decides {
		out.Levels = append(out.Levels, levelOf(x.Video, ""))
	}
	out.Path = []string{"video:" + videoID}
	for i, p := range x.Paths {
		for _, l := range p.Levels {
			out.Levels = append(out.Levels, levelOf(l, p.Via))
		}
		if p.Via == x.Via || (x.Via == "" && i == 0) {
			for k := len(p.Levels) - 1; k >= 0; k-- {
				out.Path = append(out.Path, p.Levels[k].Target.String())
			}
		}
	}
	for _, c := range x.Changes {
		out.WouldChange = append(out.WouldChange, c.Text)
	}
	return out
}

func levelOf(l entitle.Level, via string) ExplainLevel {
	out := ExplainLevel{Level: l.Level, Target: l.Target.String(), Name: l.Name, Via: via, Decides: l.Decides}
	for _, r := range l.Matched {
		out.Matched = append(out.Matched, ruleOf(r))
	}
	for _, r := range l.Other {
		out.Other = append(out.Other, ruleOf(r))
	}
	return out
}

// subjectAudiences are the audiences of every rule subject, each with only
// that subject: who-can-see and previews are answered for them.
func subjectAudiences(idx *entitle.Index, extra ...entitle.Subject) []entitle.Audience {
	seen := map[string]bool{}
	var out []entitle.Audience
	for _, s := range append(idx.Subjects(), extra...) {
		if k := s.String(); !seen[k] {
			seen[k] = true
			out = append(out, entitle.SubjectAudience(s))
		}
	}
	return out
}

func folderAccess(idx *entitle.Index, aud entitle.Audience, folderID string) FolderAccess {
	snap := idx.Snapshot()
	view := idx.Visible(aud)
	vids := snap.SubtreeVideos(folderID)
	out := FolderAccess{FolderID: folderID, Visible: view.Folder(folderID), Videos: len(vids), Subjects: []SubjectSee{}}
	for _, v := range vids {
		if view.Video(v) {
			out.VisibleVideos++
		}
	}
	acc := idx.WhoCanSee(entitle.Target{Kind: entitle.FolderTarget, ID: folderID}, subjectAudiences(idx))
	for _, a := range acc.Allowed {
		ss := SubjectSee{Subject: a.Label, Grants: []Rule{}}
		for _, r := range a.Grants {
			ss.Grants = append(ss.Grants, ruleOf(r))
		}
		out.Subjects = append(out.Subjects, ss)
	}
	out.Denied = acc.Denied
	return out
}

func summary(idx *entitle.Index, aud entitle.Audience) []FolderSummary {
	sum := idx.Summary(aud)
	out := make([]FolderSummary, 0, len(sum.Sections))
	for _, sc := range sum.Sections {
		fs := FolderSummary{FolderID: sc.FolderID, Name: sc.Name, Visible: sc.Folders > 0, VisibleVideos: sc.Videos, VisibleFolders: sc.Folders}
		out = append(out, fs)
	}
	return out
}

// Rules lists the entitlement rules and their version.
func (s *Service) Rules(ctx context.Context) (RuleSet, error) {
	rules, v, err := s.store.ListRules(ctx)
	if err != nil {
		return RuleSet{}, err
	}
	out := RuleSet{Rules: make([]Rule, 0, len(rules)), Version: v}
	for _, r := range rules {
		out.Rules = append(out.Rules, ruleOf(r))
	}
	return out, nil
}

// parseRule checks a rule, naming the field that is wrong.
func parseRule(r Rule) (entitle.Rule, error) {
	sub, err := entitle.ParseSubject(r.Subject)
	if err != nil {
		return entitle.Rule{}, invalid("subject", "want public, everyone, role:<name>, segment:<key>=<value> or user:<id>, got %q", r.Subject)
	}
	tgt, err := entitle.ParseTarget(r.Target)
	if err != nil {
		return entitle.Rule{}, invalid("target", "want folder:<id> or video:<id>, got %q", r.Target)
	}
	switch entitle.Effect(r.Effect) {
	case entitle.Allow, entitle.Deny, entitle.Teaser:
	default:
		return entitle.Rule{}, invalid("effect", "want allow, deny or teaser, got %q", r.Effect)
	}
	if len(r.Note) > 1024 {
		return entitle.Rule{}, invalid("note", "at most 1024 bytes")
	}
	out := entitle.Rule{Subject: sub, Target: tgt, Effect: entitle.Effect(r.Effect), LockReason: entitle.LockReason(r.LockReason), Note: r.Note}
	if err := out.Validate(); err != nil { // the effect and its lock reason
		return entitle.Rule{}, invalid("lock_reason", "%s", strings.TrimPrefix(err.Error(), entitle.ErrInvalid.Error()+": "))
	}
	return out, nil
}

// AddRule validates and stores a rule (400 naming the field; 409 for a
// duplicate subject and target).
func (s *Service) AddRule(ctx context.Context, a Actor, in Rule) (Rule, error) {
	r, err := parseRule(in)
	var stored entitle.Rule
	var v int64
	if err == nil {
		r.CreatedBy, r.CreatedAt = a.ID, s.opts.Now().UTC()
		stored, v, err = s.store.AddRule(ctx, r)
	}
	if err == nil {
		s.announce(ctx, library.VersionEntitlement, v)
	}
	oid := strconv.FormatInt(stored.ID, 10)
	if err := s.done(ctx, a, audit.ActionRuleAdded, "rule", oid, err, map[string]string{
		"subject": in.Subject, "target": in.Target, "effect": in.Effect, "lock_reason": in.LockReason, "version": strconv.FormatInt(v, 10)}); err != nil {
		return Rule{}, err
	}
	return ruleOf(stored), nil
}

// RemoveRule deletes a rule (ErrNotFound).
func (s *Service) RemoveRule(ctx context.Context, a Actor, id int64) error {
	v, err := s.store.RemoveRule(ctx, id)
	if err == nil {
		s.announce(ctx, library.VersionEntitlement, v)
	}
	return s.done(ctx, a, audit.ActionRuleRemoved, "rule", strconv.FormatInt(id, 10), err, map[string]string{"version": strconv.FormatInt(v, 10)})
}

func (s *Service) announce(ctx context.Context, name string, v int64) {
	if s.opts.Announcer == nil || v <= 0 {
		return
	}
	if err := s.opts.Announcer.Publish(ctx, name, v); err != nil {
		s.log.Warn("version not announced; readers will poll")
	}
}

// PreviewRule shows a rule change's effect before it is applied: for every
// rule subject (and the changed rule's), the videos and folders it gains or
// loses, e.g. "+1,204 videos for role:member".
func (s *Service) PreviewRule(ctx context.Context, ch RuleChange) (Preview, error) {
	idx, err := s.index()
	if err != nil {
		return Preview{}, err
	}
	var change entitle.RuleChange
	var extra []entitle.Subject
	switch {
	case ch.Add != nil && ch.Remove != 0:
		return Preview{}, invalid("remove", "give add or remove, not both")
	case ch.Add != nil:
		r, err := parseRule(*ch.Add)
		if err != nil {
			return Preview{}, err
		}
		change.Add, extra = &r, []entitle.Subject{r.Subject}
	case ch.Remove > 0:
		change.Remove = ch.Remove
	default:
		return Preview{}, invalid("add", "give a rule to add or the id of one to remove")
	}
	p, err := idx.Preview(change, subjectAudiences(idx, extra...))
	if err != nil {
		return Preview{}, err
	}
	out := Preview{Effects: []PreviewEffect{}, Words: p.Text}
	var words []string
	for _, d := range p.Deltas {
		e := PreviewEffect{Subject: d.Label, VideosAdded: d.VideosAdded, VideosRemoved: d.VideosRemoved, FoldersAdded: d.FoldersAdded,
			FoldersRemoved: d.FoldersRemoved, LockedAdded: d.LockedAdded, LockedRemoved: d.LockedRemoved,
			ExampleAdded: d.ExampleAdded, ExampleRemoved: d.ExampleRemoved, Words: d.Text}
		e.Delta = d.VideosAdded - d.VideosRemoved
		if sub, err := entitle.ParseSubject(d.Label); err == nil {
			_, e.Before = idx.Visible(entitle.SubjectAudience(sub)).Len()
			e.After = e.Before + e.Delta
		}
		out.Effects = append(out.Effects, e)
		if e.Delta != 0 {
			words = append(words, fmt.Sprintf("%s videos for %s", signed(e.Delta), d.Label))
		}
	}
	if len(words) > 0 {
		out.Words = strings.Join(words, ", ")
	} else if out.Words == "" {
		out.Words = "no change in what anyone sees"
	}
	return out, nil
}

// RoleList is the role catalogue.
func (s *Service) RoleList(ctx context.Context) ([]auth.Role, error) { return s.store.Roles(ctx) }

// PutRole creates a role or updates its description.
func (s *Service) PutRole(ctx context.Context, a Actor, r auth.Role) error {
	err := s.store.PutRole(ctx, r)
	return s.done(ctx, a, audit.ActionRoleCreated, "role", r.Name, err, nil)
}

// GrantRole gives a user a role; RevokeRole takes it away.
func (s *Service) GrantRole(ctx context.Context, a Actor, userID, role string) error {
	err := s.store.GrantRole(ctx, userID, role)
	return s.done(ctx, a, audit.ActionRoleGranted, "user", userID, err, map[string]string{"role": role})
}

// RevokeRole takes a role away from a user.
func (s *Service) RevokeRole(ctx context.Context, a Actor, userID, role string) error {
	err := s.store.RevokeRole(ctx, userID, role)
	return s.done(ctx, a, audit.ActionRoleRevoked, "user", userID, err, map[string]string{"role": role})
}

// SetUserDisabled disables a user (their tokens are refused within the
// principal cache TTL) or enables them again.
func (s *Service) SetUserDisabled(ctx context.Context, a Actor, userID string, disabled bool) error {
	action := audit.ActionUserEnable
	if disabled {
		action = audit.ActionUserDisable
	}
	err := s.store.SetUserDisabled(ctx, userID, disabled)
	return s.done(ctx, a, action, "user", userID, err, nil)
}

// signed formats n with a sign and thousands separators: +1,204, −37.
func signed(n int) string {
	sign := "+"
	if n < 0 {
		sign, n = "−", -n
	}
	d := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}
