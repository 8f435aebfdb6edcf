package main

import "testing"

// The demo runs end to end on a free port: every order finished, one dead
// letter, no lag.
func TestQuickstart(t *testing.T) {
	if err := run(300, "127.0.0.1:0", "127.0.0.1:0", true); err != nil {
		t.Fatal(err)
	}
}
