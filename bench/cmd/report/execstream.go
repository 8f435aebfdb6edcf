package main

import (
	"context"
	"os"

	"github.com/actord/actord/bench"
)

// execRounds is how many rounds scenario 6 runs; each side's median is
// reported.
const execRounds = 3

// execScenario is scenario 6: per-record exec against stream mode's
// trivial scripts, in Python and in the shell.
func execScenario(ctx context.Context, e *bench.Env, p params) (bench.Table, error) {
	done := step("6. exec handlers")
	dir, err := os.MkdirTemp("", "actord-bench-exec")
	if err != nil {
		return bench.Table{}, err
	}
	defer os.RemoveAll(dir)
	sides, err := bench.ExecSides(dir, p.execN, p.execStreamN)
	if err != nil {
		return bench.Table{}, err
	}
	rs, err := e.CompareExec(ctx, sides, execRounds)
	if err != nil {
		return bench.Table{}, err
	}
	alone, err := bench.ScriptsAlone(ctx, sides, execRounds)
	if err != nil {
		return bench.Table{}, err
	}
	done()
	return bench.ExecTable(rs, alone, execRounds), nil
}
