package actors

// RecordPoolCounts is how many record slices group's client took from
// its RecordPool and how many came back.
func RecordPoolCounts(rt *Runtime, group string) (gets, puts int64) {
	rt.mu.Lock()
	g := rt.groups[group]
	rt.mu.Unlock()
	if g == nil {
		return 0, 0
	}
	return g.pool.Counts()
}
