package topics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Admin manages the topics of one cluster. It is safe for concurrent use.
// Every method is bounded by the context it is given and validates its
// input before any network call.
type Admin struct {
	cl    *kgo.Client
	adm   *kadm.Client
	owned bool
}

// NewAdmin returns an Admin that uses cl. Close leaves cl open: the caller
// owns it.
func NewAdmin(cl *kgo.Client) *Admin {
	return &Admin{cl: cl, adm: kadm.NewClient(cl)}
}

// NewAdminFromOpts builds a franz-go client from opts (seed brokers,
// timeouts, SASL, TLS) and returns an Admin that owns it. No connection is
// made until the first call. Close closes the client.
func NewAdminFromOpts(opts ...kgo.Opt) (*Admin, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("topics: kafka client: %w", err)
	}
	a := NewAdmin(cl)
	a.owned = true
	return a, nil
}

// Close releases the client when the Admin built it (NewAdminFromOpts).
func (a *Admin) Close() {
	if a.owned {
		a.cl.Close()
	}
}

// Info is what the cluster reports about one topic.
type Info struct {
	Name string `json:"name"`
	// ID is the topic ID (base64), empty when the cluster has none.
	ID         string `json:"id,omitempty"`
	Partitions int32  `json:"partitions"`
	// ReplicationFactor is the replica count of the topic's partitions.
	ReplicationFactor int16 `json:"replication_factor"`
	// Config holds the settings made on the topic itself, that is its
	// overrides of the broker defaults. Describe fills it; List does not.
	Config map[string]string `json:"config,omitempty"`
	// PartitionDetails lists every partition in order. Describe fills it;
	// List does not.
	PartitionDetails []Partition `json:"partition_details,omitempty"`
}

// Partition is one partition of a topic as the cluster reports it.
type Partition struct {
	ID int32 `json:"partition"`
	// Leader is the broker that leads the partition, -1 when none does.
	Leader   int32   `json:"leader"`
	Replicas []int32 `json:"replicas"`
	// ISR is the in-sync replicas.
	ISR []int32 `json:"isr"`
	// Error is the cluster's complaint about this partition, if any (for
	// example LEADER_NOT_AVAILABLE while it is being created).
	Error string `json:"error,omitempty"`
}

// List returns every topic of the cluster sorted by name, without the
// cluster's internal topics (__consumer_offsets, __transaction_state).
func (a *Admin) List(ctx context.Context) ([]Info, error) {
	resp, err := a.metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	infos := make([]Info, 0, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic == nil || isInternal(t) {
			continue
		}
		info := infoOf(t)
		info.PartitionDetails = nil
		infos = append(infos, info)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos, nil
}

// Describe returns one topic with its partitions (leader, replicas, ISR)
// and the configs set on it. A missing topic is an error matching
// ErrUnknownTopic; Describe never creates a topic, even on a broker that
// auto-creates topics.
func (a *Admin) Describe(ctx context.Context, name string) (Info, error) {
	if err := ValidateName(name); err != nil {
		return Info{}, err
	}
	t, err := a.topicMetadata(ctx, name)
	if err != nil {
		return Info{}, err
	}
	info := infoOf(t)
	rcs, err := a.adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return Info{}, fmt.Errorf("describe topic %q: configs: %w", name, err)
	}
	rc, err := rcs.On(name, nil)
	switch {
	case err == nil && rc.Err == nil:
		info.Config = overrides(rc.Configs)
	case err == nil && errors.Is(rc.Err, kerr.UnknownTopicOrPartition):
		return Info{}, unknownTopicError(name)
	case err == nil && errors.Is(rc.Err, kerr.TopicAuthorizationFailed):
		// Allowed to see the topic but not its configs: describe
		// what we may.
	case err == nil:
		return Info{}, fmt.Errorf("describe topic %q: configs: %w", name, brokerError(rc.Err, rc.ErrMessage))
	}
	return info, nil
}

// Create creates t (zero partitions or replication factor read as 1) with
// its configs. When the topic exists Create returns an error matching
// ErrTopicExists (`topic "orders" already exists`), or nil when ifNotExists
// is set; an existing topic is never changed.
func (a *Admin) Create(ctx context.Context, t Topic, ifNotExists bool) error {
	t = t.withDefaults()
	if err := t.Validate(); err != nil {
		return err
	}
	err := a.create(ctx, t)
	if ifNotExists && errors.Is(err, ErrTopicExists) {
		return nil
	}
	return err
}

func (a *Admin) create(ctx context.Context, t Topic) error {
	configs := make(map[string]*string, len(t.Config))
	for k, v := range t.Config {
		configs[k] = kadm.StringPtr(v)
	}
	resp, err := a.adm.CreateTopic(ctx, t.Partitions, t.ReplicationFactor, configs, t.Name)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return existsError(t.Name)
	}
	return fmt.Errorf("create topic %q: %w", t.Name, brokerError(err, resp.ErrMessage))
}

// Delete deletes the topic and its records. A missing topic is an error
// matching ErrUnknownTopic.
func (a *Admin) Delete(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	resp, err := a.adm.DeleteTopic(ctx, name)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return unknownTopicError(name)
	}
	return fmt.Errorf("delete topic %q: %w", name, brokerError(err, resp.ErrMessage))
}

// metadata asks the cluster for the named topics (all when none are
// named). It goes to the cluster every time instead of reading kadm's
// cached metadata, which may be seconds old: an admin tool must see its own
// creates and deletes. It never auto-creates a topic.
func (a *Admin) metadata(ctx context.Context, names ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	for _, n := range names {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(n)
		req.Topics = append(req.Topics, rt)
	}
	return req.RequestWith(ctx, a.cl)
}

// topicMetadata returns the metadata of one topic, or an error matching
// ErrUnknownTopic when the cluster does not have it.
func (a *Admin) topicMetadata(ctx context.Context, name string) (kmsg.MetadataResponseTopic, error) {
	resp, err := a.metadata(ctx, name)
	if err != nil {
		return kmsg.MetadataResponseTopic{}, fmt.Errorf("describe topic %q: %w", name, err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != name {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				return t, unknownTopicError(name)
			}
			return t, fmt.Errorf("describe topic %q: %w", name, err)
		}
		return t, nil
	}
	return kmsg.MetadataResponseTopic{}, unknownTopicError(name)
}

// isInternal reports the cluster's own topics, also on brokers that do not
// flag them.
func isInternal(t kmsg.MetadataResponseTopic) bool {
	if t.IsInternal {
		return true
	}
	switch *t.Topic {
	case "__consumer_offsets", "__transaction_state":
		return true
	}
	return false
}

func infoOf(t kmsg.MetadataResponseTopic) Info {
	info := Info{Name: *t.Topic, Partitions: int32(len(t.Partitions))}
	if t.TopicID != ([16]byte{}) {
		info.ID = kadm.TopicID(t.TopicID).String()
	}
	info.ReplicationFactor = replicationFactor(t)
	for _, p := range t.Partitions {
		part := Partition{
			ID:       p.Partition,
			Leader:   p.Leader,
			Replicas: slices.Clone(p.Replicas),
			ISR:      slices.Clone(p.ISR),
		}
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			part.Error = err.Error()
		}
		info.PartitionDetails = append(info.PartitionDetails, part)
	}
	sort.Slice(info.PartitionDetails, func(i, j int) bool {
		return info.PartitionDetails[i].ID < info.PartitionDetails[j].ID
	})
	return info
}

// replicationFactor is the largest replica count among the partitions:
// during a reassignment some partitions briefly hold more.
func replicationFactor(t kmsg.MetadataResponseTopic) int16 {
	var rf int
	for _, p := range t.Partitions {
		rf = max(rf, len(p.Replicas))
	}
	return int16(rf)
}

// overrides keeps the configs set on the topic itself.
func overrides(cs []kadm.Config) map[string]string {
	var out map[string]string
	for _, c := range cs {
		if c.Source != kmsg.ConfigSourceDynamicTopicConfig || c.Value == nil {
			continue
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[c.Key] = *c.Value
	}
	return out
}
