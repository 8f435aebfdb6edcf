package bench

import "strings"

// benchName turns a table label into a benchmark name: "actord key mode
// c16" becomes "actord-key-mode-c16".
func benchName(label string) string {
	r := strings.NewReplacer(" ", "-", ",", "", "+", "", "[", "", "]", "", ".", "")
	return strings.ReplaceAll(r.Replace(label), "--", "-")
}
