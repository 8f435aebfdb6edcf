package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
	"github.com/actord/actord/topics"
)

const (
	// DefaultLetterLimit is how many of a dead-letter topic's latest
	// records GET /api/deadletters/{topic} returns without ?limit.
	DefaultLetterLimit = 50
	// MaxLetterLimit is the largest ?limit.
	MaxLetterLimit = 500
	// previewBytes is how much of a key, value or header a letter shows.
	previewBytes = 512
	// readTimeout bounds reading a dead-letter topic's latest records and
	// listing topics.
	readTimeout = 5 * time.Second
	// replayWait is package dlq's Timeout for a replay: how long a read, a
	// group join (Kafka delays a new group's first rebalance by 3 s) or a
	// produce may take, as `actord dlq replay`'s request timeout does.
	replayWait = 15 * time.Second
	// replayTimeout bounds a replay started from the page.
	replayTimeout = time.Minute
)

// DeadLetterTopic is one entry of GET /api/deadletters: a dead-letter
// topic of this process's consumers.
type DeadLetterTopic struct {
	Topic string `json:"topic"`
	// Consumers are the "group/topic" consumers that dead-letter here.
	Consumers []string `json:"consumers"`
	// Exists is false until the first record was dead-lettered (the topic
	// is created then).
	Exists bool `json:"exists"`
	// Records is the topic's record count (end minus start offsets).
	Records int64 `json:"records"`
	// Replayed is how many of them the resumable replay (`actord dlq
	// replay`, or the page's "replay all") has committed.
	Replayed int64 `json:"replayed"`
}

// Letter is one dead letter as GET /api/deadletters/{topic} shows it.
type Letter struct {
	// Partition and Offset are where the dead letter sits.
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
	// Source is the original record's "topic/partition@offset".
	Source     string    `json:"source"`
	Group      string    `json:"group"`
	Handler    string    `json:"handler,omitempty"`
	Error      string    `json:"error"`
	Attempts   int       `json:"attempts"`
	FailedAt   time.Time `json:"failed_at"`
	Key        Preview   `json:"key"`
	Value      Preview   `json:"value"`
	Headers    []Header  `json:"headers"`
	DLQHeaders []Header  `json:"dlq_headers"`
	// Stub is why the dead letter holds no record (see dlq.Stub); empty
	// for a full one.
	Stub string `json:"stub,omitempty"`
	// Invalid is why the record is not a well-formed dead letter; empty
	// for one.
	Invalid string `json:"invalid,omitempty"`
	// Replayed says whether the letter was replayed: "committed" when the
	// resumable replay's group has passed it, "selected" when this
	// process replayed it alone, empty when not.
	Replayed string `json:"replayed,omitempty"`
}

// Preview is a key, value or header value cut to 512 bytes: as text when
// it is UTF-8, else as hexadecimal.
type Preview struct {
	Text string `json:"text"`
	// Decoded is the value decoded with the schema of a consumer of the
	// original topic, as JSON; empty when none applies.
	Decoded   string `json:"decoded,omitempty"`
	Hex       bool   `json:"hex,omitempty"`
	Bytes     int    `json:"bytes"`
	Truncated bool   `json:"truncated,omitempty"`
	Null      bool   `json:"null,omitempty"`
}

// Header is a header as a letter shows it.
type Header struct {
	Key   string  `json:"key"`
	Value Preview `json:"value"`
}

// Letters is the document of GET /api/deadletters/{topic}.
type Letters struct {
	Topic   string `json:"topic"`
	Exists  bool   `json:"exists"`
	Records int64  `json:"records"`
	// Letters are the latest ones, newest first: at most limit per
	// partition read, then limit in all.
	Letters []Letter `json:"letters"`
}

func preview(b []byte) Preview {
	if b == nil {
		return Preview{Null: true}
	}
	p := Preview{Bytes: len(b)}
	cut := b
	if len(cut) > previewBytes {
		cut, p.Truncated = cut[:previewBytes], true
	}
	if utf8.Valid(b) || p.Truncated && utf8.Valid(cut[:max(0, len(cut)-utf8.UTFMax)]) {
		for len(cut) > 0 && !utf8.Valid(cut) {
			cut = cut[:len(cut)-1]
		}
		p.Text = string(cut)
		return p
	}
	p.Hex = true
	p.Text = fmt.Sprintf("% x", cut)
	return p
}

// deadLetterTopicsOf is every dead-letter topic of the snapshot's
// consumers, with the consumers that write to it.
func deadLetterTopicsOf(st Status) map[string][]string {
	out := map[string][]string{}
	for _, g := range st.Groups {
		for _, cs := range g.Consumers {
			if cs.DeadLetterTopic != "" {
				out[cs.DeadLetterTopic] = append(out[cs.DeadLetterTopic], cs.Group+"/"+cs.Topic)
			}
			for _, t := range cs.EventDeadLetterTopics {
				if who := cs.Group + "/" + cs.Topic + " (event handlers)"; !slices.Contains(out[t], who) {
					out[t] = append(out[t], who)
				}
			}
		}
	}
	return out
}

// knownDeadLetterTopic refuses a topic that is not one of this process's
// dead-letter topics: the console shows and replays those only.
func (c *Console) knownDeadLetterTopic(topic string) error {
	if _, ok := deadLetterTopicsOf(c.snapshot())[topic]; !ok {
		return &apiError{http.StatusNotFound, fmt.Sprintf("%q is not a dead-letter topic of this process's consumers", topic)}
	}
	return nil
}

// deadLetterTopics handles GET /api/deadletters.
func (c *Console) deadLetterTopics(r *http.Request) (any, error) {
	byTopic := deadLetterTopicsOf(c.snapshot())
	names := make([]string, 0, len(byTopic))
	for t := range byTopic {
		names = append(names, t)
	}
	sort.Strings(names)
	out := []DeadLetterTopic{}
	if len(names) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	adm := kadm.NewClient(c.src.Client())
	start, err := adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("listing dead-letter topics' offsets: %w", err)
	}
	end, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("listing dead-letter topics' offsets: %w", err)
	}
	for _, t := range names {
		d := DeadLetterTopic{Topic: t, Consumers: byTopic[t]}
		committed := replayCommitted(ctx, adm, t)
		end.Each(func(o kadm.ListedOffset) {
			if o.Topic != t || o.Err != nil {
				return
			}
			d.Exists = true
			s, ok := start.Lookup(t, o.Partition)
			if ok && s.Err == nil {
				d.Records += o.Offset - s.Offset
				if at, ok := committed[o.Partition]; ok {
					d.Replayed += min(o.Offset, at) - min(s.Offset, at)
				}
			}
		})
		out = append(out, d)
	}
	return out, nil
}

// replayCommitted is the resumable replay's committed offset per
// partition of topic (dlq.ReplayTopic's default group); empty when it has
// none or they cannot be read.
func replayCommitted(ctx context.Context, adm *kadm.Client, topic string) map[int32]int64 {
	out := map[int32]int64{}
	os, err := adm.FetchOffsets(ctx, dlq.DefaultGroupPrefix+topic)
	if err != nil {
		return out
	}
	for p, o := range os[topic] {
		if o.Err == nil && o.At >= 0 {
			out[p] = o.At
		}
	}
	return out
}

// deadLetters handles GET /api/deadletters/{topic}?limit=N.
func (c *Console) deadLetters(r *http.Request) (any, error) {
	topic := r.PathValue("topic")
	if err := c.knownDeadLetterTopic(topic); err != nil {
		return nil, err
	}
	limit := DefaultLetterLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLetterLimit {
			return nil, badRequest(fmt.Sprintf("limit=%q: want a number from 1 to %d", s, MaxLetterLimit))
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	return c.latest(ctx, topic, limit)
}

// latest reads the last limit records of each partition of topic with a
// direct consumer (no group, nothing committed) and returns the newest
// limit of them as letters.
func (c *Console) latest(ctx context.Context, topic string, limit int) (Letters, error) {
	out := Letters{Topic: topic, Letters: []Letter{}}
	cl := c.src.Client()
	adm := kadm.NewClient(cl)
	start, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return out, fmt.Errorf("listing %s's offsets: %w", topic, err)
	}
	end, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return out, fmt.Errorf("listing %s's offsets: %w", topic, err)
	}
	from := map[int32]kgo.Offset{}
	last := map[int32]int64{}
	end.Each(func(o kadm.ListedOffset) {
		s, ok := start.Lookup(topic, o.Partition)
		if o.Err != nil || !ok || s.Err != nil {
			return
		}
		out.Exists = true
		out.Records += o.Offset - s.Offset
		if o.Offset > s.Offset {
			from[o.Partition] = kgo.NewOffset().At(max(s.Offset, o.Offset-int64(limit)))
			last[o.Partition] = o.Offset - 1
		}
	})
	if len(from) == 0 {
		return out, nil
	}
	rcl, err := kgo.NewClient(append(slices.Clip(cl.Opts()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchMaxWait(200*time.Millisecond))...)
	if err != nil {
		return out, fmt.Errorf("reader for %s: %w", topic, err)
	}
	defer rcl.Close()
	var recs []*kgo.Record
	for len(last) > 0 {
		fs := rcl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("reading %s: %d partitions gave nothing in %v", topic, len(last), readTimeout)
		}
		fs.EachRecord(func(r *kgo.Record) {
			recs = append(recs, r)
			if r.Offset >= last[r.Partition] {
				delete(last, r.Partition)
			}
		})
	}
	committed := replayCommitted(ctx, adm, topic)
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if !a.Timestamp.Equal(b.Timestamp) {
			return a.Timestamp.After(b.Timestamp)
		}
		return a.Partition < b.Partition || a.Partition == b.Partition && a.Offset > b.Offset
	})
	for _, r := range recs[:min(limit, len(recs))] {
		out.Letters = append(out.Letters, c.letter(ctx, r, committed))
	}
	return out, nil
}

// letter is r as the page shows it.
func (c *Console) letter(ctx context.Context, r *kgo.Record, committed map[int32]int64) Letter {
	l, err := dlq.Parse(r)
	out := Letter{Partition: r.Partition, Offset: r.Offset,
		Source: fmt.Sprintf("%s/%d@%d", l.Topic, l.Partition, l.Offset),
		Group:  l.Group, Handler: l.Handler, Error: l.Error, Attempts: l.Attempts, FailedAt: l.FailedAt,
		Key: preview(l.Key), Value: preview(l.Value), Headers: []Header{}, DLQHeaders: []Header{}}
	if err != nil {
		out.Invalid = err.Error()
		out.Key, out.Value = preview(r.Key), preview(r.Value)
	} else if dec, ok := c.src.(ValueDecoder); ok && l.Value != nil {
		if text, ok := dec.DecodeValue(ctx, l.Topic, l.Value); ok {
			out.Value.Decoded = preview([]byte(text)).Text
		}
	}
	for _, h := range l.Headers {
		out.Headers = append(out.Headers, Header{h.Key, preview(h.Value)})
	}
	for _, h := range r.Headers {
		if strings.HasPrefix(h.Key, "actord.dlq.") {
			out.DLQHeaders = append(out.DLQHeaders, Header{h.Key, preview(h.Value)})
		}
	}
	if why, ok := l.Raw(dlq.HeaderStub); ok {
		out.Stub = why
	}
	c.mu.Lock()
	selected := c.replayed[letterKey{r.Topic, r.Partition, r.Offset}]
	c.mu.Unlock()
	switch {
	case committed[r.Partition] > r.Offset:
		out.Replayed = "committed"
	case !selected.IsZero():
		out.Replayed = "selected"
	}
	return out
}

// letterKey names a dead letter.
type letterKey struct {
	topic     string
	partition int32
	offset    int64
}

// ReplayRequest is the body of POST /api/deadletters/{topic}/replay.
type ReplayRequest struct {
	// To replays every letter to this topic instead of its original one.
	To string `json:"to,omitempty"`
	// Offsets selects letters by where they sit in the dead-letter topic;
	// empty replays the topic resumably (dlq.ReplayTopic, the engine of
	// `actord dlq replay`, with its default group).
	Offsets []Position `json:"offsets,omitempty"`
	// Again replays selected letters this process replayed already;
	// without it they are refused (409), so that a second click does not
	// publish them twice.
	Again bool `json:"again,omitempty"`
}

// Position is a dead letter's partition and offset.
type Position struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

// ReplayResult is the answer of a replay: the copies acknowledged by
// destination topic, and their total.
type ReplayResult struct {
	Replayed map[string]int64 `json:"replayed"`
	Total    int64            `json:"total"`
}

// replay handles POST /api/deadletters/{topic}/replay.
func (c *Console) replay(r *http.Request) (any, error) {
	topic := r.PathValue("topic")
	if err := c.knownDeadLetterTopic(topic); err != nil {
		return nil, err
	}
	var req ReplayRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.To != "" {
		if err := topics.ValidateName(req.To); err != nil {
			return nil, badRequest("to: " + err.Error())
		}
		if req.To == topic {
			return nil, badRequest(fmt.Sprintf("to: %q is the dead-letter topic itself", req.To))
		}
	}
	if !c.replayMu.TryLock() {
		return nil, &apiError{http.StatusConflict, "a replay is running; try again when it has finished"}
	}
	defer c.replayMu.Unlock()
	// A replay runs to its end when the page goes away: ReplayTopic
	// commits as it goes and Replay waits for what it sent.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), replayTimeout)
	defer cancel()
	var opts []dlq.ReplayOption
	if req.To != "" {
		opts = append(opts, dlq.To(req.To))
	}
	// As `actord dlq replay`: a destination that does not exist is
	// created where the cluster allows it, and names are checked first.
	opts = append(opts, dlq.Timeout(replayWait), dlq.CreateTopics(), dlq.CheckTopic(topics.ValidateName))
	var rep dlq.ReplayReport
	var err error
	if len(req.Offsets) == 0 {
		topicOpts := make([]dlq.TopicReplayOption, len(opts))
		for i, o := range opts {
			topicOpts[i] = o
		}
		rep, err = dlq.ReplayTopic(ctx, c.src.Client(), topic, topicOpts...)
	} else {
		rep, err = c.replaySelected(ctx, topic, req, opts)
	}
	res := ReplayResult{Replayed: rep.Replayed, Total: rep.Total()}
	if res.Replayed == nil {
		res.Replayed = map[string]int64{}
	}
	c.log.Info("console: dead letters replayed", "topic", topic, "to", req.To, "selected", len(req.Offsets), "replayed", res.Total, "error", err, "from", r.RemoteAddr)
	var de *dlq.DestinationError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, new(*apiError)):
		return nil, err
	case errors.Is(err, dlq.ErrUnknownTopic):
		return nil, &apiError{http.StatusNotFound, err.Error()}
	case errors.As(err, &de):
		// A letter without a destination (or a stub): the request, not
		// the server, is what cannot be done; the letters before it
		// were replayed.
		return nil, &apiError{http.StatusUnprocessableEntity, fmt.Sprintf("replay of %s stopped after %d: %v", topic, res.Total, err)}
	}
	return nil, fmt.Errorf("replay of %s stopped after %d: %w", topic, res.Total, err)
}

// replaySelected replays the letters of topic at req.Offsets with
// dlq.Replay, and remembers them so that a second request does not
// publish them again unless it says Again.
func (c *Console) replaySelected(ctx context.Context, topic string, req ReplayRequest, opts []dlq.ReplayOption) (dlq.ReplayReport, error) {
	want := map[Position]bool{}
	var parts []int32
	for _, p := range req.Offsets {
		if p.Partition < 0 || p.Offset < 0 {
			return dlq.ReplayReport{}, badRequest(fmt.Sprintf("offsets: partition %d offset %d: must not be negative", p.Partition, p.Offset))
		}
		if !slices.Contains(parts, p.Partition) {
			parts = append(parts, p.Partition)
		}
		want[p] = true
	}
	if !req.Again {
		c.mu.Lock()
		for p := range want {
			if at := c.replayed[letterKey{topic, p.Partition, p.Offset}]; !at.IsZero() {
				c.mu.Unlock()
				return dlq.ReplayReport{}, &apiError{http.StatusConflict, fmt.Sprintf("the dead letter at partition %d offset %d was replayed at %s; send \"again\": true to replay it once more", p.Partition, p.Offset, at.Format(time.RFC3339))}
			}
		}
		c.mu.Unlock()
	}
	letters, err := dlq.Read(ctx, c.src.Client(), topic, dlq.Timeout(replayWait), dlq.Partitions(parts...),
		dlq.Where(func(l dlq.Letter) bool { return want[Position{l.At.Partition, l.At.Offset}] }))
	if err != nil {
		return dlq.ReplayReport{}, err
	}
	for _, l := range letters {
		delete(want, Position{l.At.Partition, l.At.Offset})
	}
	for p := range want {
		return dlq.ReplayReport{}, &apiError{http.StatusNotFound, fmt.Sprintf("%s has no record at partition %d offset %d", topic, p.Partition, p.Offset)}
	}
	rep, err := dlq.Replay(ctx, c.src.Client(), letters, opts...)
	// Every letter sent is remembered, also when some failed: which of
	// them were acknowledged before a failure is not known here, and a
	// second copy must be asked for (Again), not made by a retry.
	c.mu.Lock()
	now := time.Now()
	for _, l := range letters {
		c.replayed[letterKey{topic, l.At.Partition, l.At.Offset}] = now
	}
	c.mu.Unlock()
	return rep, err
}
