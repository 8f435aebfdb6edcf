package topics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Report is what Reconcile did and what it found but must not change.
type Report struct {
	// Created names the topics that were missing and were created.
	Created []string
	// Grown lists the topics whose partition count was raised.
	Grown []Growth
	// Drift describes, one line each naming topic and setting, every
	// difference between a declaration and the cluster that Reconcile
	// leaves alone: more partitions than declared (Kafka cannot remove
	// partitions), another replication factor, a config value that
	// differs. Fixing those takes a decision Reconcile will not make.
	Drift []string
}

// Growth is one topic whose partition count Reconcile raised.
type Growth struct {
	Topic    string
	From, To int32
}

// Changed reports whether Reconcile changed the cluster.
func (r Report) Changed() bool { return len(r.Created) > 0 || len(r.Grown) > 0 }

// String renders the report for people, one line per change or drift, or
// "topics: up to date" when there is nothing to say.
func (r Report) String() string {
	var b strings.Builder
	for _, name := range r.Created {
		fmt.Fprintf(&b, "created topic %q\n", name)
	}
	for _, g := range r.Grown {
		fmt.Fprintf(&b, "grew topic %q from %d to %d partitions\n", g.Topic, g.From, g.To)
	}
	for _, d := range r.Drift {
		fmt.Fprintf(&b, "drift: %s\n", d)
	}
	if b.Len() == 0 {
		return "topics: up to date"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Reconcile brings the cluster in line with the declared topics: it creates
// the missing ones (with their partitions, replication factor and configs)
// and raises partition counts that are lower than declared. What it cannot
// or must not fix is reported in Report.Drift, never hidden and never
// changed. Topics the cluster has but ts does not declare are left alone.
//
// The declarations are validated first (ValidateAll); an invalid set is
// refused before any network call. Reconcile is idempotent: a second run
// over an unchanged cluster creates and grows nothing. On a partial failure
// it returns what it did together with every error.
func (a *Admin) Reconcile(ctx context.Context, ts []Topic) (Report, error) {
	var rep Report
	if err := ValidateAll(ts); err != nil {
		return rep, err
	}
	if len(ts) == 0 {
		return rep, nil
	}
	decl := make([]Topic, 0, len(ts))
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		decl = append(decl, t.withDefaults())
		names = append(names, t.Name)
	}
	slices.SortFunc(decl, func(x, y Topic) int { return strings.Compare(x.Name, y.Name) })

	resp, err := a.metadata(ctx, names...)
	if err != nil {
		return rep, fmt.Errorf("reconcile topics: %w", err)
	}
	existing := make(map[string]int, len(resp.Topics))
	for i, t := range resp.Topics {
		if t.Topic != nil && !errors.Is(kerr.ErrorForCode(t.ErrorCode), kerr.UnknownTopicOrPartition) {
			existing[*t.Topic] = i
		}
	}

	var errs []error
	var checkConfigs []Topic
	for _, t := range decl {
		i, ok := existing[t.Name]
		if !ok {
			switch err := a.create(ctx, t); {
			case err == nil:
				rep.Created = append(rep.Created, t.Name)
			case errors.Is(err, ErrTopicExists):
				// Created by someone else since we looked: compare
				// it on the next run rather than guess now.
			default:
				errs = append(errs, err)
			}
			continue
		}
		mt := resp.Topics[i]
		if err := kerr.ErrorForCode(mt.ErrorCode); err != nil {
			errs = append(errs, fmt.Errorf("topic %q: %w", t.Name, err))
			continue
		}
		have := int32(len(mt.Partitions))
		switch {
		case have < t.Partitions:
			if err := a.grow(ctx, t.Name, t.Partitions); err != nil {
				errs = append(errs, err)
			} else {
				rep.Grown = append(rep.Grown, Growth{Topic: t.Name, From: have, To: t.Partitions})
			}
		case have > t.Partitions:
			rep.Drift = append(rep.Drift, fmt.Sprintf(
				"topic %q: partitions: declared %d, cluster has %d (Kafka cannot remove partitions; recreate the topic to shrink it)",
				t.Name, t.Partitions, have))
		}
		if rf := replicationFactor(mt); rf != t.ReplicationFactor {
			rep.Drift = append(rep.Drift, fmt.Sprintf(
				"topic %q: replication factor: declared %d, cluster has %d (change it with a partition reassignment)",
				t.Name, t.ReplicationFactor, rf))
		}
		if len(t.Config) > 0 {
			checkConfigs = append(checkConfigs, t)
		}
	}

	drift, err := a.configDrift(ctx, checkConfigs)
	rep.Drift = append(rep.Drift, drift...)
	if err != nil {
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}

// grow raises the partition count of topic to n.
func (a *Admin) grow(ctx context.Context, topic string, n int32) error {
	rs, err := a.adm.UpdatePartitions(ctx, int(n), topic)
	if err != nil {
		return fmt.Errorf("grow topic %q to %d partitions: %w", topic, n, err)
	}
	r, err := rs.On(topic, nil)
	if err == nil && r.Err != nil {
		err = brokerError(r.Err, r.ErrMessage)
	}
	if err != nil {
		return fmt.Errorf("grow topic %q to %d partitions: %w", topic, n, err)
	}
	return nil
}

// configDrift compares the declared configs of ts with the values in
// effect on the cluster (set on the topic or inherited).
func (a *Admin) configDrift(ctx context.Context, ts []Topic) ([]string, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	rcs, err := a.adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("reconcile topics: describe configs: %w", err)
	}
	var drift []string
	var errs []error
	for _, t := range ts {
		rc, err := rcs.On(t.Name, nil)
		if err == nil && rc.Err != nil {
			err = brokerError(rc.Err, rc.ErrMessage)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("topic %q: describe configs: %w", t.Name, err))
			continue
		}
		have := make(map[string]*string, len(rc.Configs))
		for _, c := range rc.Configs {
			have[c.Key] = c.Value
		}
		for _, k := range slices.Sorted(maps.Keys(t.Config)) {
			want := t.Config[k]
			v, ok := have[k]
			switch {
			case !ok:
				drift = append(drift, fmt.Sprintf("topic %q: config %s: declared %q, cluster does not report it", t.Name, k, want))
			case v == nil:
				// Sensitive: the cluster does not say; nothing to compare.
			case *v != want:
				drift = append(drift, fmt.Sprintf("topic %q: config %s: declared %q, cluster has %q", t.Name, k, want, *v))
			}
		}
	}
	return drift, errors.Join(errs...)
}
