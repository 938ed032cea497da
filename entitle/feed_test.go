package entitle_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
)

func TestRuleChangesApply(t *testing.T) {
	rule := func(id int64) entitle.Rule {
		return entitle.Rule{ID: id, Subject: entitle.Subject{Kind: entitle.Everyone},
			Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow}
	}
	rules := []entitle.Rule{rule(1), rule(3), rule(5)}
	tests := []struct {
		name    string
		changes entitle.RuleChanges
		want    []int64
		err     bool
	}{
		{"nothing", entitle.RuleChanges{}, []int64{1, 3, 5}, false},
		{"remove and add", entitle.RuleChanges{Added: []entitle.Rule{rule(6), rule(2)}, Removed: []int64{5, 1}}, []int64{2, 3, 6}, false},
		{"remove all", entitle.RuleChanges{Removed: []int64{1, 3, 5}}, []int64{}, false},
		{"remove unknown", entitle.RuleChanges{Removed: []int64{4}}, nil, true},
		{"add known", entitle.RuleChanges{Added: []entitle.Rule{rule(3)}}, nil, true},
		{"add twice", entitle.RuleChanges{Added: []entitle.Rule{rule(7), rule(7)}}, nil, true},
		{"remove and add the same", entitle.RuleChanges{Added: []entitle.Rule{rule(3)}, Removed: []int64{3}}, []int64{1, 3, 5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]entitle.Rule(nil), rules...)
			got, err := tt.changes.Apply(rules)
			require.Equal(t, before, rules, "rules not modified")
			if tt.err {
				require.ErrorIs(t, err, entitle.ErrInvalid)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			ids := []int64{}
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			require.Equal(t, tt.want, ids)
		})
	}
}
