package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Loader fills a Config from a flag set and the environment. Build it with
// Register before the flag set is parsed, then call Load.
type Loader struct {
	sections []Section
	byName   map[string]*setting
	flags    map[string]string // values given on the command line
	cfg      *Config           // defaults, shown in usage
}

// Register adds the flags of the given sections (SectionCore is always
// included) to fs and returns the Loader that reads them. Secrets get no
// flag. Parse fs, then call Load:
//
//	fs := flag.NewFlagSet("vidlib api", flag.ContinueOnError)
//	l := config.Register(fs, config.ForAPI...)
//	if err := fs.Parse(args); err != nil { ... }
//	cfg, err := l.Load(os.LookupEnv)
func Register(fs *flag.FlagSet, sections ...Section) *Loader {
	l := &Loader{byName: map[string]*setting{}, flags: map[string]string{}, cfg: Default()}
	want := map[Section]bool{SectionCore: true}
	for _, s := range sections {
		want[s] = true
	}
	for _, s := range allSections {
		if want[s] {
			l.sections = append(l.sections, s)
		}
	}
	for _, st := range settings {
		if !want[st.section] {
			continue
		}
		l.byName[st.name] = st
		if st.secret {
			continue
		}
		usage := st.usage + " (env " + st.env()
		if st.fileOK {
			usage += " or " + st.env() + "_FILE"
		}
		usage += ")"
		fs.Var(&flagValue{l: l, st: st}, st.name, usage)
	}
	return l
}

// Narrow limits what Load reads and validates to the given sections (and
// SectionCore) among those registered: a mode of a subcommand that needs
// less (vidlib sync --once) calls it after parsing the flags. Flags of the
// other sections are then ignored.
func (l *Loader) Narrow(sections ...Section) {
	want := map[Section]bool{SectionCore: true}
	for _, s := range sections {
		want[s] = true
	}
	l.sections = slices.DeleteFunc(l.sections, func(s Section) bool { return !want[s] })
	for name, st := range l.byName {
		if !want[st.section] {
			delete(l.byName, name)
		}
	}
}

// allSections is every section in a fixed order.
var allSections = []Section{
	SectionCore, SectionMetrics, SectionAPI, SectionSync, SectionAdmin, SectionPostgres,
	SectionRedis, SectionKafka, SectionVimeo, SectionWebhook, SectionAuth, SectionDemo, SectionAudit,
}

// Secrets returns the environment variables of the registered secrets, for
// a usage text (they have no flags).
func (l *Loader) Secrets() []string {
	var out []string
	for _, st := range settings {
		if l.byName[st.name] != nil && st.secret {
			out = append(out, st.env()+" or "+st.env()+"_FILE: "+st.usage)
		}
	}
	return out
}

// flagValue records a flag's raw value; Load parses it.
type flagValue struct {
	l  *Loader
	st *setting
}

func (f *flagValue) String() string {
	if f == nil || f.l == nil {
		return ""
	}
	return f.st.display(f.l.cfg)
}

// IsBoolFlag lets a boolean setting's flag stand alone (--name is --name=true).
func (f *flagValue) IsBoolFlag() bool { return f != nil && f.st != nil && f.st.isBool }

func (f *flagValue) Set(v string) error {
	// Checked by Load, so that every problem is reported together.
	f.l.flags[f.st.name] = v
	return nil
}

// Load builds the Config: defaults, then the environment (getenv; nil means
// os.LookupEnv), then the flags given on the command line, then Validate.
// An error wraps ErrInvalid and lists every problem (a *ValidationError).
func (l *Loader) Load(getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	c := Default()
	c.sections = l.sections
	c.from = map[string]sourceKind{}
	var problems []Problem
	bad := func(st *setting, format string, args ...any) {
		problems = append(problems, Problem{Flag: flagName(st), Env: st.env(), Message: fmt.Sprintf(format, args...)})
	}
	for _, st := range settings {
		if l.byName[st.name] == nil {
			continue
		}
		val, src, err := l.source(st, getenv)
		if err != nil {
			bad(st, "%v", err)
			continue
		}
		if src == fromDefault {
			continue
		}
		if err := st.set(c, val); err != nil {
			if st.secret {
				bad(st, "cannot be read") // never echo a secret
			} else {
				bad(st, "%s: %v", sourceName(st, src), err)
			}
			continue
		}
		c.from[st.name] = src
	}
	problems = append(problems, c.problems()...)
	if len(problems) > 0 {
		return c, &ValidationError{Problems: problems}
	}
	return c, nil
}

// source returns a setting's raw value and where it came from.
func (l *Loader) source(st *setting, getenv func(string) (string, bool)) (string, sourceKind, error) {
	if v, ok := l.flags[st.name]; ok && !st.secret {
		return v, fromFlag, nil
	}
	env, envOK := getenv(st.env())
	file, fileOK := "", false
	if st.fileOK {
		file, fileOK = getenv(st.env() + "_FILE")
	}
	switch {
	case envOK && fileOK:
		return "", 0, fmt.Errorf("both %s and %s_FILE are set: set only one", st.env(), st.env())
	case fileOK:
		b, err := os.ReadFile(file)
		if err != nil {
			// The path is not secret; the error says whether it is missing or unreadable.
			return "", 0, fmt.Errorf("%s_FILE=%s cannot be read: %v", st.env(), file, errors.Unwrap(err))
		}
		return strings.TrimRight(string(b), "\r\n"), fromFile, nil
	case envOK:
		return env, fromEnv, nil
	}
	return "", fromDefault, nil
}

func flagName(st *setting) string {
	if st.secret {
		return ""
	}
	return "--" + st.name
}

func sourceName(st *setting, src sourceKind) string {
	switch src {
	case fromFlag:
		return "--" + st.name
	case fromFile:
		return st.env() + "_FILE"
	}
	return st.env()
}

// Problem is one invalid setting.
type Problem struct {
	Flag    string // "--poll-interval", or "" for a secret (no flag)
	Env     string // "VIDLIB_POLL_INTERVAL"
	Message string // what is wrong
}

func (p Problem) String() string {
	switch {
	case p.Flag == "" && p.Env == "":
		return p.Message
	case p.Flag == "":
		return fmt.Sprintf("%s (or %s_FILE): %s", p.Env, p.Env, p.Message)
	}
	return fmt.Sprintf("%s (%s): %s", p.Flag, p.Env, p.Message)
}

// ValidationError lists every problem of a Config. It wraps ErrInvalid.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }
