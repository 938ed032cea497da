package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
)

// The read API presents a user's token on every request: these benchmarks
// measure that hot path, serially and from parallel goroutines.
//
//	go test -run '^$' -bench . -benchmem ./auth/

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		opts auth.VerifierOptions
	}{
		{"cached", auth.VerifierOptions{}},
		{"uncached", auth.VerifierOptions{CacheTTL: -1}},
	} {
		clk := newClock()
		is := startIssuer(b, clk, nil)
		v := cognitoVerifier(b, clk, is, &bc.opts)
		tok := is.IDToken(ana)
		_, err := v.Verify(ctx, tok)
		require.NoError(b, err)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := v.Verify(ctx, tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkAuthenticate is the whole of auth's work per request: verify,
// then the principal (cached per token).
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(b, clk, nil)
	v := cognitoVerifier(b, clk, is, nil)
	svc, err := auth.New(v, newFakeUsers(), &fakeAuditor{}, &auth.Options{Now: clk.Now})
	require.NoError(b, err)
	tok := is.IDToken(ana)
	_, err = svc.Authenticate(ctx, tok)
	require.NoError(b, err)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Authenticate(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
