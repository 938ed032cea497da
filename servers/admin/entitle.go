package admin

import (
	"context"
	"fmt"
	"slices"
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

func audienceWords(a entitle.Audience) string {
	var parts []string
	if a.User() != "" {
		parts = append(parts, "user:"+a.User())
	}
	for _, r := range a.Roles() {
		parts = append(parts, "role:"+r)
	}
	seg := a.Segments()
	keys := make([]string, 0, len(seg))
	for k := range seg {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		parts = append(parts, "segment:"+k+"="+seg[k])
	}
	if len(parts) == 0 {
		return "everyone (no roles or segments)"
	}
	return strings.Join(parts, ", ")
}

func explainVideo(idx *entitle.Index, aud entitle.Audience, videoID string) VideoDecision {
	d := idx.Explain(aud, videoID)
	snap := idx.Snapshot()
	out := VideoDecision{VideoID: videoID, Allowed: d.Allowed, Reason: string(d.Reason), Level: d.Level, Via: d.Via}
	if d.Rule != nil {
		r := ruleOf(*d.Rule)
		out.Rule = &r
	}
	if d.Level >= 0 {
		out.Target = d.Target.String()
	}
	out.Path = []string{"video:" + videoID}
	via := d.Via
	if via == "" {
		if fs := snap.FoldersOf(videoID); len(fs) > 0 {
			via = fs[0]
		}
	}
	if via != "" {
		anc := snap.Path(via) // root … via
		for i := len(anc) - 1; i >= 0; i-- {
			out.Path = append(out.Path, "folder:"+anc[i])
		}
	}
	switch d.Reason {
	case entitle.ReasonRule:
		verb := "allowed"
		if !d.Allowed {
			verb = "denied"
		}
		out.Words = fmt.Sprintf("%s by rule %d (%s %s on %s) at level %d", verb, d.Rule.ID, d.Rule.Subject, d.Rule.Effect, d.Target, d.Level)
		if d.Allowed {
			out.WouldChange = []string{fmt.Sprintf("a deny rule for one of the audience's subjects on %s or a more specific level", d.Target)}
			if d.Level > 0 {
				out.WouldChange = append(out.WouldChange, "a deny rule on video:"+videoID)
			}
		} else {
			out.WouldChange = []string{"removing the deny rule " + strconv.FormatInt(d.Rule.ID, 10) + " (then the next level up decides)"}
			if d.Level > 0 {
				out.WouldChange = append(out.WouldChange, "an allow rule for one of the audience's subjects on a level below "+d.Target.String()+", e.g. video:"+videoID)
			}
		}
	case entitle.ReasonNoRule:
		out.Words = "denied: no rule for this audience on the video or any folder above it (default deny)"
		out.WouldChange = []string{"an allow rule for one of the audience's subjects on any level of the path"}
	case entitle.ReasonHidden:
		out.Words = "denied: hidden by an admin"
		out.WouldChange = []string{"showing the video again"}
	case entitle.ReasonDeleted:
		out.Words = "denied: deleted in Vimeo"
	case entitle.ReasonNotPlayable:
		out.Words = "denied: not playable in Vimeo (transcoding, error or unavailable)"
	default:
		out.Words = "denied: not in the library (not placed in a live folder)"
	}
	return out
}

func folderAccess(idx *entitle.Index, aud entitle.Audience, folderID string) FolderAccess {
	snap := idx.Snapshot()
	view := idx.Visible(aud)
	vids := snap.SubtreeVideos(folderID)
	out := FolderAccess{FolderID: folderID, Visible: view.Folder(folderID), Videos: len(vids), Subjects: []string{}}
	for _, v := range vids {
		if view.Video(v) {
			out.VisibleVideos++
		}
	}
	onPath := map[string]bool{}
	for _, f := range snap.Path(folderID) {
		onPath[f] = true
	}
	seen := map[string]bool{}
	for _, r := range idx.Rules() {
		if r.Target.Kind == entitle.FolderTarget && onPath[r.Target.ID] {
			k := r.Subject.String() + " " + string(r.Effect)
			if !seen[k] {
				seen[k] = true
				out.Subjects = append(out.Subjects, k+" (on folder:"+r.Target.ID+")")
			}
		}
	}
	return out
}

func summary(idx *entitle.Index, aud entitle.Audience) []FolderSummary {
	snap := idx.Snapshot()
	view := idx.Visible(aud)
	var tops []string
	for _, r := range snap.Roots() {
		tops = append(tops, snap.Children(r)...)
	}
	out := make([]FolderSummary, 0, len(tops))
	for _, f := range tops {
		fs := FolderSummary{FolderID: f, Visible: view.Folder(f)}
		if fo := snap.Folder(f); fo != nil {
			fs.Name = fo.Name
		}
		for _, v := range snap.SubtreeVideos(f) {
			fs.Videos++
			if view.Video(v) {
				fs.VisibleVideos++
			}
		}
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
		return entitle.Rule{}, invalid("subject", "want everyone, role:<name>, segment:<key>=<value> or user:<id>, got %q", r.Subject)
	}
	tgt, err := entitle.ParseTarget(r.Target)
	if err != nil {
		return entitle.Rule{}, invalid("target", "want folder:<id> or video:<id>, got %q", r.Target)
	}
	if r.Effect != string(entitle.Allow) && r.Effect != string(entitle.Deny) {
		return entitle.Rule{}, invalid("effect", "want allow or deny, got %q", r.Effect)
	}
	if len(r.Note) > 1024 {
		return entitle.Rule{}, invalid("note", "at most 1024 bytes")
	}
	return entitle.Rule{Subject: sub, Target: tgt, Effect: entitle.Effect(r.Effect), Note: r.Note}, nil
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
		"subject": in.Subject, "target": in.Target, "effect": in.Effect, "version": strconv.FormatInt(v, 10)}); err != nil {
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

// PreviewRule shows a rule change's effect before it is applied: for the
// subject of the added or removed rule, and every role and segment with a
// rule, how many videos they see now and after.
func (s *Service) PreviewRule(ctx context.Context, ch RuleChange) (Preview, error) {
	idx, err := s.index()
	if err != nil {
		return Preview{}, err
	}
	rules := idx.Rules()
	var subjects []entitle.Subject
	switch {
	case ch.Add != nil && ch.Remove != 0:
		return Preview{}, invalid("remove", "give add or remove, not both")
	case ch.Add != nil:
		r, err := parseRule(*ch.Add)
		if err != nil {
			return Preview{}, err
		}
		r.ID = maxRuleID(rules) + 1
		rules = append(rules, r)
		subjects = append(subjects, r.Subject)
	case ch.Remove != 0:
		i := slices.IndexFunc(rules, func(r entitle.Rule) bool { return r.ID == ch.Remove })
		if i < 0 {
			return Preview{}, fmt.Errorf("%w: rule %d", ErrNotFound, ch.Remove)
		}
		subjects = append(subjects, rules[i].Subject)
		rules = slices.Delete(rules, i, i+1)
	default:
		return Preview{}, invalid("add", "give a rule to add or the id of one to remove")
	}
	after, err := entitle.New(idx.Snapshot(), rules, idx.Version()+1, nil)
	if err != nil {
		return Preview{}, err
	}
	// Every other subject with a rule may be affected too (a deny for a
	// segment changes what a role's members with it see): report them all.
	seen := map[string]bool{subjects[0].String(): true}
	for _, r := range idx.Rules() {
		if k := r.Subject.String(); !seen[k] {
			seen[k] = true
			subjects = append(subjects, r.Subject)
		}
	}
	out := Preview{Effects: []PreviewEffect{}}
	var words []string
	for i, sub := range subjects {
		aud := audienceOf(sub)
		_, b := idx.Visible(aud).Len()
		_, a := after.Visible(aud).Len()
		if i > 0 && a == b {
			continue
		}
		out.Effects = append(out.Effects, PreviewEffect{Subject: sub.String(), Before: b, After: a, Delta: a - b})
		if a != b {
			words = append(words, fmt.Sprintf("%s videos for %s", signed(a-b), sub))
		}
	}
	out.Words = strings.Join(words, ", ")
	if out.Words == "" {
		out.Words = "no change in what anyone sees"
	}
	return out, nil
}

func maxRuleID(rules []entitle.Rule) int64 {
	var m int64
	for _, r := range rules {
		m = max(m, r.ID)
	}
	return m
}

// audienceOf is the smallest audience that has a subject.
func audienceOf(s entitle.Subject) entitle.Audience {
	switch s.Kind {
	case entitle.Role:
		return entitle.NewAudience("", []string{s.Name}, nil)
	case entitle.Segment:
		return entitle.NewAudience("", nil, map[string]string{s.Name: s.Value})
	case entitle.User:
		return entitle.NewAudience(s.Name, nil, nil)
	}
	return entitle.NewAudience("", nil, nil)
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
