package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TopicInfo is one entry of GET /api/topics: a topic of the cluster with
// its partitions' offsets.
type TopicInfo struct {
	Topic      string          `json:"topic"`
	Internal   bool            `json:"internal"`
	Partitions []PartitionInfo `json:"partitions"`
	// Records is the sum of the partitions' end minus start offsets.
	Records int64 `json:"records"`
	// Error is why the topic's metadata or offsets could not be read.
	Error string `json:"error,omitempty"`
}

// PartitionInfo is a partition's leader, replicas and offsets.
type PartitionInfo struct {
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"`
	Replicas  []int32 `json:"replicas"`
	Start     int64   `json:"start"`
	End       int64   `json:"end"`
}

// topics handles GET /api/topics: every topic the cluster lists
// (internal ones, __consumer_offsets, last), with start and end offsets.
func (c *Console) topics(r *http.Request) (any, error) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	adm := kadm.NewClient(c.src.Client())
	tds, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing topics: %w", err)
	}
	names := tds.Names()
	out := []TopicInfo{}
	if len(names) == 0 {
		return out, nil
	}
	start, err := adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("listing offsets: %w", err)
	}
	end, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("listing offsets: %w", err)
	}
	for _, td := range tds.Sorted() {
		ti := TopicInfo{Topic: td.Topic, Internal: td.IsInternal || strings.HasPrefix(td.Topic, "__"), Partitions: []PartitionInfo{}}
		if td.Err != nil {
			ti.Error = td.Err.Error()
		}
		for _, pd := range td.Partitions.Sorted() {
			pi := PartitionInfo{Partition: pd.Partition, Leader: pd.Leader, Replicas: pd.Replicas, Start: -1, End: -1}
			if s, ok := start.Lookup(td.Topic, pd.Partition); ok && s.Err == nil {
				pi.Start = s.Offset
			}
			if e, ok := end.Lookup(td.Topic, pd.Partition); ok && e.Err == nil {
				pi.End = e.Offset
			}
			if pi.Start >= 0 && pi.End >= pi.Start {
				ti.Records += pi.End - pi.Start
			}
			ti.Partitions = append(ti.Partitions, pi)
		}
		out = append(out, ti)
	}
	sort.SliceStable(out, func(i, j int) bool { return !out[i].Internal && out[j].Internal })
	return out, nil
}
