package library

import (
	"encoding/json"
	"testing"
	"time"
)

// appendJSONString escapes exactly as encoding/json does.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "\x00\x1f\x7f\t\n\r\b\f", "<>&", "\u2028\u2029", "\xff", "\xe2\x82", "日本 🎬"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, json.Marshal = %s", s, got, want)
		}
	})
}

func TestAppendJSONTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 21, 13, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120_000_000, time.FixedZone("x", -5*3600-30*60)),
		time.Date(1999, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("y", 14*3600)),
	} {
		want, err := json.Marshal(tm)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONTime(nil, "", tm); string(got) != string(want) {
			t.Fatalf("appendJSONTime(%v) = %s, json.Marshal = %s", tm, got, want)
		}
	}
	if got := appendJSONTime([]byte("x"), `,"k":`, time.Time{}); string(got) != "x" {
		t.Fatalf("the zero time is omitted, got %s", got)
	}
}
