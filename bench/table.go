package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Table is one scenario's figures, printed as text and as Markdown.
type Table struct {
	Title   string
	Method  string // how it was measured, one paragraph
	Header  []string
	Rows    [][]string
	Targets []Target
}

// Target is a goal of issue 9 and whether this run met it.
type Target struct {
	What string
	Got  string
	Met  bool
}

// Text writes t as aligned plain text.
func (t Table) Text(w io.Writer) {
	fmt.Fprintf(w, "\n== %s\n", t.Title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(t.Header, "\t")+"\t")
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
	for _, g := range t.Targets {
		fmt.Fprintf(w, "target %s: %s (%s)\n", g.What, verdict(g.Met), g.Got)
	}
}

// Markdown writes t as a Markdown section.
func (t Table) Markdown(w io.Writer) {
	fmt.Fprintf(w, "### %s\n\n", t.Title)
	if t.Method != "" {
		fmt.Fprintf(w, "%s\n\n", t.Method)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(t.Header, " | "))
	seps := make([]string, len(t.Header))
	for i := range seps {
		seps[i] = "---:"
	}
	seps[0] = "---"
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	for _, r := range t.Rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
	for _, g := range t.Targets {
		fmt.Fprintf(w, "- Target %s: **%s** (%s)\n", g.What, verdict(g.Met), g.Got)
	}
	if len(t.Targets) > 0 {
		fmt.Fprintln(w)
	}
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

// Rate formats records per second.
func Rate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// Ratio formats a ratio.
func Ratio(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.1fx", x)
	}
	return fmt.Sprintf("%.2fx", x)
}

// Millis formats a duration in milliseconds.
func Millis(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// MiB formats bytes in MiB.
func MiB(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
