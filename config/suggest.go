// This file holds the unknown-key problem and its suggestion: the known
// key nearest by edit distance to a mistyped one.

package config

import (
	"errors"
	"fmt"
	"strings"
)

// unknownKey says that k is not a key, suggesting the nearest known one.
func unknownKey(k string, known []string) error {
	base := k[strings.LastIndex(k, ".")+1:]
	best, bestDist := "", 3
	for _, cand := range known {
		cb := cand[strings.LastIndex(cand, ".")+1:]
		d := editDistance(base, cb)
		if strings.Contains(k, ".") && strings.Contains(cand, ".") {
			d = editDistance(k, cand)
		}
		if d < bestDist {
			best, bestDist = cand, d
		}
	}
	if best != "" {
		return fmt.Errorf("unknown key (did you mean %s?)", best)
	}
	return errors.New("unknown key")
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
