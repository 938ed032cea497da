package auth

// CachedTokens is how many verifications v holds in its cache.
func CachedTokens(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}
