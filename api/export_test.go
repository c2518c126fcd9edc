package api

import "slices"

// Patterns returns the patterns a registered, in order.
func Patterns(a *API) []string { return slices.Clone(a.patterns) }
