//go:build race

package actors_test

// raceEnabled: the test binary is built with -race, so builds the tests
// run themselves use it too and share its cached packages.
func init() { raceEnabled = true }
