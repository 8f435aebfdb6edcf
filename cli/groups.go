package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/topics"
)

func (a *app) groupsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "list consumer groups; describe a group's members, offsets and lag",
		Long: `Inspect the cluster's consumer groups. Every command waits at most
kafka.request_timeout (default 10s) for the cluster.`,
		Args: cobra.ArbitraryArgs,
		// Without RunE cobra answers an unknown subcommand with the
		// help text and exit 0.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return fmt.Errorf("unknown command %q for %q (want list or describe)", args[0], cmd.CommandPath())
		},
	}
	cmd.AddCommand(a.groupsListCmd(), a.groupsDescribeCmd())
	return cmd
}

func (a *app) groupsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "list every group with its type, state and member count, sorted by name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			return a.withClient(cmd, func(ctx context.Context, cl *kgo.Client) error {
				list, err := listGroups(ctx, kadm.NewClient(cl))
				if err != nil {
					return err
				}
				if a.output == "json" {
					return writeTopicsJSON(a.stdout, list)
				}
				return printGroupList(a.stdout, list)
			})
		},
	}
}

func (a *app) groupsDescribeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUP",
		Short: "show a group's state, members and, per partition, committed offset, end offset, lag and lag in time",
		Long: `Describe one consumer group: its state, its members with the partitions
assigned to each, and for every partition the group is assigned or has
committed to: the committed offset, the end offset (the log end: the offset
the next record will get), the lag and the member that owns it.

Lag is the end offset minus the committed offset. Where nothing is committed
yet it is the end offset minus the log start offset: the records a member
starting from the earliest offset would still read. Lag time is the age of
the record at the committed offset (the oldest the group has not committed),
from its timestamp: read with a consumer of no group, for at most 5s, and
"-" without lag. Partitions are sorted by topic, then partition.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("%s: want one GROUP, got %d arguments (usage: %s)", cmd.CommandPath(), len(args), cmd.UseLine())
			}
			if args[0] == "" {
				return fmt.Errorf("%s: the group name is empty", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			return a.withClient(cmd, func(ctx context.Context, cl *kgo.Client) error {
				d, err := describeGroup(ctx, cl, args[0])
				if err != nil {
					return err
				}
				d.setLagTimes(ctx, cl, time.Now())
				if a.output == "json" {
					return writeTopicsJSON(a.stdout, d)
				}
				return printGroup(a.stdout, d)
			})
		},
	}
}

// listedGroup is one line of `groups list`.
type listedGroup struct {
	Group string `json:"group"`
	// Type is the group protocol generation: "classic" (JoinGroup and
	// SyncGroup; every client before KIP-848), "consumer" (KIP-848), or
	// what else the cluster reports ("share", "streams").
	Type  string `json:"type"`
	State string `json:"state"`
	// ProtocolType is "consumer" for consumer groups, "connect" for Kafka
	// Connect workers; empty for a group that only holds offsets.
	ProtocolType string `json:"protocol_type"`
	// Members is nil when it could not be learned (a group type this
	// command does not describe, or a describe error).
	Members *int   `json:"members"`
	Error   string `json:"error,omitempty"`
}

// listGroups lists every group of the cluster and counts the members of
// the consumer groups, classic and KIP-848.
func listGroups(ctx context.Context, adm *kadm.Client) ([]listedGroup, error) {
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	var classic, nextGen []string
	for _, g := range listed {
		switch groupType(g.GroupType) {
		case "classic":
			classic = append(classic, g.Group)
		case "consumer":
			nextGen = append(nextGen, g.Group)
		}
	}
	members := map[string]int{}
	errs := map[string]string{}
	if len(classic) > 0 {
		described, err := adm.DescribeGroups(ctx, classic...)
		if err != nil {
			return nil, fmt.Errorf("describe groups: %w", err)
		}
		for _, d := range described {
			if d.Err != nil {
				errs[d.Group] = groupErrString(d.Err, d.ErrMessage)
				continue
			}
			members[d.Group] = len(d.Members)
		}
	}
	if len(nextGen) > 0 {
		described, err := adm.DescribeConsumerGroups(ctx, nextGen...)
		if err != nil {
			return nil, fmt.Errorf("describe consumer groups: %w", err)
		}
		for _, d := range described {
			if d.Err != nil {
				errs[d.Group] = d.Err.Error()
				continue
			}
			members[d.Group] = len(d.Members)
		}
	}
	out := make([]listedGroup, 0, len(listed))
	for _, g := range listed.Sorted() {
		lg := listedGroup{
			Group:        g.Group,
			Type:         groupType(g.GroupType),
			State:        g.State,
			ProtocolType: g.ProtocolType,
			Error:        errs[g.Group],
		}
		if n, ok := members[g.Group]; ok {
			lg.Members = &n
		}
		out = append(out, lg)
	}
	return out, nil
}

// groupType names the type of a listed group; brokers before Kafka 3.8
// do not report one, and all their groups are classic.
func groupType(t string) string {
	if t == "" {
		return "classic"
	}
	return t
}

func printGroupList(w io.Writer, list []listedGroup) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tTYPE\tSTATE\tPROTOCOL TYPE\tMEMBERS")
	for _, g := range list {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", g.Group, g.Type, dashIfEmpty(g.State), dashIfEmpty(g.ProtocolType), groupNum(g.Members))
		if g.Error != "" {
			line += "\t" + g.Error
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// describedGroup is the answer of `groups describe`.
type describedGroup struct {
	Group string `json:"group"`
	// Type is "classic" or "consumer" (KIP-848), as in `groups list`.
	Type         string `json:"type"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	// Protocol is the partition assignor: the one the members agreed on
	// for a classic group (for example cooperative-sticky; empty while the
	// group is not stable), the broker's for a KIP-848 group.
	Protocol string        `json:"protocol"`
	Members  []groupMember `json:"members"`
	// Partitions holds every partition the group is assigned or has
	// committed to, sorted by topic then partition.
	Partitions []groupPartition `json:"partitions"`
	// TotalLag sums the lag of the partitions whose lag is known.
	TotalLag int64 `json:"total_lag"`
}

// groupMember is one member of a described group.
type groupMember struct {
	MemberID string `json:"member_id"`
	// InstanceID is the static membership ID (group.instance.id), if any.
	InstanceID string          `json:"instance_id,omitempty"`
	ClientID   string          `json:"client_id"`
	Host       string          `json:"host"`
	Assigned   []groupAssigned `json:"assigned"`
}

// groupAssigned is one topic's partitions assigned to a member.
type groupAssigned struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// groupPartition is the offsets and lag of one partition for the group.
type groupPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Committed is the group's committed offset (the next record it will
	// read), null when it has committed nothing on this partition.
	Committed *int64 `json:"committed"`
	// End is the log end offset, null when it could not be listed.
	End *int64 `json:"end"`
	// Lag is End minus Committed (End minus the log start offset when
	// nothing is committed), never negative; null when unknown.
	Lag *int64 `json:"lag"`
	// LagSeconds is the lag in time: the age of the record at the
	// committed offset (the oldest the group has not committed), from its
	// timestamp; null without lag or when it could not be read in time.
	LagSeconds *float64 `json:"lag_seconds"`
	// Member is the member ID that owns the partition, empty when no
	// member does (the group is empty or rebalancing).
	Member string `json:"member"`
	Error  string `json:"error,omitempty"`
}

// errGroupNotFound is the answer for a group the cluster does not know.
var errGroupNotFound = errors.New("not found")

// describeGroup describes group with its offsets and lag. A KIP-848
// consumer group is described as such; every other group, and every group
// on a broker that predates KIP-848, through the classic describe.
func describeGroup(ctx context.Context, cl *kgo.Client, group string) (describedGroup, error) {
	adm := kadm.NewClient(cl)
	d, ok, err := describeNextGenGroup(ctx, cl, adm, group)
	if err != nil || ok {
		return d, err
	}
	return describeClassicGroup(ctx, adm, group)
}

// describeClassicGroup describes a classic group and computes its lag with
// kadm's Lag (DescribeGroups, OffsetFetch, then the start and end offsets
// of every assigned or committed partition).
func describeClassicGroup(ctx context.Context, adm *kadm.Client, group string) (describedGroup, error) {
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return describedGroup{}, fmt.Errorf("group %q: %w", group, err)
	}
	l, ok := lags[group]
	if !ok {
		return describedGroup{}, fmt.Errorf("group %q: the cluster did not describe it", group)
	}
	if err := l.DescribeErr; err != nil {
		if errors.Is(err, kerr.GroupIDNotFound) {
			return describedGroup{}, groupNotFound(ctx, adm, group)
		}
		return describedGroup{}, fmt.Errorf("group %q: describe: %w", group, err)
	}
	if l.FetchErr != nil {
		return describedGroup{}, fmt.Errorf("group %q: fetch committed offsets: %w", group, l.FetchErr)
	}
	// Brokers that answer DescribeGroups below v6 report an unknown group
	// as Dead with no error: with no member and no offset it is unknown.
	if l.State == "Dead" && len(l.Members) == 0 && len(l.Lag.Sorted()) == 0 {
		return describedGroup{}, groupNotFound(ctx, adm, group)
	}

	d := describedGroup{
		Group:        l.Group,
		Type:         "classic",
		State:        l.State,
		ProtocolType: l.ProtocolType,
		Protocol:     l.Protocol,
		Members:      make([]groupMember, 0, len(l.Members)),
	}
	for _, m := range l.Members {
		gm := groupMember{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assigned: []groupAssigned{}}
		if m.InstanceID != nil {
			gm.InstanceID = *m.InstanceID
		}
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				ps := slices.Sorted(slices.Values(t.Partitions))
				gm.Assigned = append(gm.Assigned, groupAssigned{Topic: t.Topic, Partitions: ps})
			}
			slices.SortFunc(gm.Assigned, func(x, y groupAssigned) int { return strings.Compare(x.Topic, y.Topic) })
		}
		d.Members = append(d.Members, gm)
	}
	d.setPartitions(l.Lag, func(pl kadm.GroupMemberLag) string {
		if pl.Member == nil {
			return ""
		}
		return pl.Member.MemberID
	})
	return d, nil
}

// describeNextGenGroup describes group if it is a KIP-848 consumer group
// (ok true). It answers ok false, without error, for a group that is not
// one or a broker that does not know KIP-848, leaving the answer to the
// classic describe; only an unreachable cluster is an error here.
//
// The lag follows the same rules as for classic groups: the assigned
// partitions with no commit are given to kadm's lag calculation as
// "nothing committed", so that it counts them from the log start offset.
func describeNextGenGroup(ctx context.Context, cl *kgo.Client, adm *kadm.Client, group string) (describedGroup, bool, error) {
	// The request itself rather than kadm's DescribeConsumerGroups: kadm
	// keeps only the topic names of an assignment, and the embedded
	// broker (kfake) sends only the topic IDs.
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		if isUnreachable(err) {
			return describedGroup{}, false, err
		}
		return describedGroup{}, false, nil
	}
	if len(resp.Groups) != 1 || resp.Groups[0].ErrorCode != 0 {
		return describedGroup{}, false, nil
	}
	g := resp.Groups[0]
	names, err := assignedTopicNames(ctx, adm, g.Members)
	if err != nil {
		return describedGroup{}, false, fmt.Errorf("group %q: topic names: %w", group, err)
	}
	commits, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return describedGroup{}, false, fmt.Errorf("group %q: fetch committed offsets: %w", group, err)
	}
	d := describedGroup{
		Group:        g.Group,
		Type:         "consumer",
		State:        g.State,
		ProtocolType: "consumer",
		Protocol:     g.AssignorName,
		Members:      make([]groupMember, 0, len(g.Members)),
	}
	owner := map[string]map[int32]string{}
	slices.SortFunc(g.Members, func(x, y kmsg.ConsumerGroupDescribeResponseGroupMember) int {
		return strings.Compare(x.MemberID, y.MemberID)
	})
	for _, m := range g.Members {
		gm := groupMember{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assigned: []groupAssigned{}}
		if m.InstanceID != nil {
			gm.InstanceID = *m.InstanceID
		}
		assigned := make(kadm.TopicsSet)
		for _, tp := range m.Assignment.TopicPartitions {
			assigned.Add(names(tp), tp.Partitions...)
		}
		for _, tps := range assigned.Sorted() {
			gm.Assigned = append(gm.Assigned, groupAssigned{Topic: tps.Topic, Partitions: tps.Partitions})
			for _, p := range tps.Partitions {
				if owner[tps.Topic] == nil {
					owner[tps.Topic] = map[int32]string{}
				}
				owner[tps.Topic][p] = m.MemberID
				if _, ok := commits.Lookup(tps.Topic, p); !ok {
					commits.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: tps.Topic, Partition: p, At: -1}})
				}
			}
		}
		d.Members = append(d.Members, gm)
	}
	var starts, ends kadm.ListedOffsets
	if topics := commits.Partitions().Topics(); len(topics) > 0 {
		// As kadm's Lag: partitions missing from a partial answer show
		// up with an error of their own.
		var se *kadm.ShardErrors
		if starts, err = adm.ListStartOffsets(ctx, topics...); err != nil && !errors.As(err, &se) {
			return describedGroup{}, false, fmt.Errorf("group %q: list start offsets: %w", group, err)
		}
		if ends, err = adm.ListEndOffsets(ctx, topics...); err != nil && !errors.As(err, &se) {
			return describedGroup{}, false, fmt.Errorf("group %q: list end offsets: %w", group, err)
		}
	}
	lag := kadm.CalculateGroupLagWithStartOffsets(kadm.DescribedGroup{Group: group}, commits, starts, ends)
	d.setPartitions(lag, func(pl kadm.GroupMemberLag) string { return owner[pl.Topic][pl.Partition] })
	return d, true, nil
}

// assignedTopicNames returns the name of an assigned topic: the one the
// broker sent, else the one the cluster's metadata gives its ID (looked up
// only when some name is missing).
func assignedTopicNames(ctx context.Context, adm *kadm.Client, members []kmsg.ConsumerGroupDescribeResponseGroupMember) (func(kmsg.AssignmentTopicPartition) string, error) {
	missing := slices.ContainsFunc(members, func(m kmsg.ConsumerGroupDescribeResponseGroupMember) bool {
		return slices.ContainsFunc(m.Assignment.TopicPartitions, func(tp kmsg.AssignmentTopicPartition) bool { return tp.Topic == "" })
	})
	byID := map[[16]byte]string{}
	if missing {
		details, err := adm.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range details {
			byID[t.ID] = t.Topic
		}
	}
	return func(tp kmsg.AssignmentTopicPartition) string {
		if tp.Topic != "" {
			return tp.Topic
		}
		if name, ok := byID[tp.TopicID]; ok {
			return name
		}
		return kadm.TopicID(tp.TopicID).String()
	}, nil
}

// setPartitions fills Partitions and TotalLag from kadm's lag, sorted by
// topic then partition; owner names the member of a partition.
func (d *describedGroup) setPartitions(lag kadm.GroupLag, owner func(kadm.GroupMemberLag) string) {
	d.Partitions = []groupPartition{}
	for _, pl := range lag.Sorted() {
		p := groupPartition{Topic: pl.Topic, Partition: pl.Partition, Member: owner(pl)}
		if pl.Commit.At >= 0 {
			p.Committed = new(pl.Commit.At)
		}
		if pl.End.Err == nil {
			p.End = new(pl.End.Offset)
		}
		if pl.Err == nil && pl.Lag >= 0 {
			p.Lag = new(pl.Lag)
			d.TotalLag += pl.Lag
		}
		if pl.Err != nil {
			p.Error = pl.Err.Error()
		}
		d.Partitions = append(d.Partitions, p)
	}
}

// lagTimeRead bounds the read of the records at the committed offsets.
const lagTimeRead = 5 * time.Second

// setLagTimes fills the lag in time of the partitions with lag: the age at
// now of the record at the committed offset (at the log start where
// nothing is committed), read with a direct consumer.
func (d *describedGroup) setLagTimes(ctx context.Context, cl *kgo.Client, now time.Time) {
	want := map[string]map[int32]kgo.Offset{}
	for _, p := range d.Partitions {
		if p.Lag == nil || *p.Lag == 0 || p.End == nil {
			continue
		}
		if want[p.Topic] == nil {
			want[p.Topic] = map[int32]kgo.Offset{}
		}
		want[p.Topic][p.Partition] = kgo.NewOffset().At(*p.End - *p.Lag)
	}
	ts := topics.FirstTimestamps(ctx, cl, want, lagTimeRead)
	for i, p := range d.Partitions {
		if t, ok := ts[p.Topic][p.Partition]; ok {
			d.Partitions[i].LagSeconds = new(max(now.Sub(t), 0).Seconds())
		}
	}
}

// groupNotFound says why a group could not be described: unknown, or of a
// type (share, streams) that is not a consumer group.
func groupNotFound(ctx context.Context, adm *kadm.Client, group string) error {
	if listed, err := adm.ListGroups(ctx); err == nil {
		if g, ok := listed[group]; ok {
			return fmt.Errorf("group %q is a %s group; 'actord groups describe' shows consumer groups only", group, groupType(g.GroupType))
		}
	}
	return fmt.Errorf("group %q %w (see 'actord groups list')", group, errGroupNotFound)
}

func printGroup(w io.Writer, d describedGroup) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "GROUP:\t%s\n", d.Group)
	fmt.Fprintf(tw, "TYPE:\t%s\n", d.Type)
	fmt.Fprintf(tw, "STATE:\t%s\n", d.State)
	fmt.Fprintf(tw, "PROTOCOL:\t%s\n", dashIfEmpty(strings.Trim(d.ProtocolType+"/"+d.Protocol, "/")))
	fmt.Fprintf(tw, "MEMBERS:\t%d\n", len(d.Members))
	fmt.Fprintf(tw, "TOTAL LAG:\t%d\n", d.TotalLag)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.Members) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MEMBER\tCLIENT ID\tHOST\tASSIGNED")
		for _, m := range d.Members {
			id := m.MemberID
			if m.InstanceID != "" {
				id += " (instance " + m.InstanceID + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id, dashIfEmpty(m.ClientID), dashIfEmpty(m.Host), dashIfEmpty(assignedString(m.Assigned)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tEND\tLAG\tLAG TIME\tMEMBER")
	for _, p := range d.Partitions {
		lagTime := "-"
		if p.LagSeconds != nil {
			lagTime = (time.Duration(*p.LagSeconds) * time.Second).String()
		}
		line := fmt.Sprintf("%s\t%d\t%s\t%s\t%s\t%s\t%s", p.Topic, p.Partition,
			groupNum(p.Committed), groupNum(p.End), groupNum(p.Lag), lagTime, dashIfEmpty(p.Member))
		if p.Error != "" {
			line += "\t" + p.Error
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// assignedString reads "audit[0] orders[0,1,2]".
func assignedString(as []groupAssigned) string {
	parts := make([]string, len(as))
	for i, t := range as {
		ps := make([]string, len(t.Partitions))
		for j, p := range t.Partitions {
			ps[j] = fmt.Sprint(p)
		}
		parts[i] = t.Topic + "[" + strings.Join(ps, ",") + "]"
	}
	return strings.Join(parts, " ")
}

// groupErrString is a describe error with the broker's message, if any.
func groupErrString(err error, msg string) string {
	if msg != "" {
		return err.Error() + ": " + msg
	}
	return err.Error()
}

func groupNum[N int | int64](n *N) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
