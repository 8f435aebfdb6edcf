package broker

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The limits of the embedded broker. kfake serves whatever it is asked:
// a topic of a billion partitions, or a request frame announcing 4 GiB,
// is memory it allocates until the process dies of it. The embedded broker
// refuses such requests instead, with the Kafka error code for each, and
// keeps running.
const (
	// MaxPartitionsPerTopic bounds a topic's partition count, in
	// CreateTopics and CreatePartitions: more is INVALID_PARTITIONS.
	MaxPartitionsPerTopic = 10_000
	// MaxPartitionsPerRequest bounds the partitions one CreateTopics
	// request creates over all its topics: more is POLICY_VIOLATION for
	// every topic of the request.
	MaxPartitionsPerRequest = 10_000
	// NumBrokers is the embedded cluster's size: a replication factor
	// above it is INVALID_REPLICATION_FACTOR, as Kafka answers.
	NumBrokers = 1
	// MaxRequestBytes bounds one request frame, as Kafka's
	// socket.request.max.bytes (the same default): a client announcing a
	// larger one has its connection closed before the frame is read,
	// which is what Kafka does.
	MaxRequestBytes = 100 << 20
)

// limitRequests makes c refuse the CreateTopics and CreatePartitions
// requests beyond the limits above. A request within them goes on to kfake
// unchanged. Without SASL (sasl false), a SASLHandshake is answered
// ILLEGAL_SASL_STATE, as a Kafka listener without SASL answers it (kfake
// would begin an exchange): a client can ask whether SASL is required.
func limitRequests(c *kfake.Cluster, sasl bool) {
	if !sasl {
		c.ControlKey(kmsg.SASLHandshake.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			resp := kr.ResponseKind().(*kmsg.SASLHandshakeResponse)
			resp.ErrorCode = kerr.IllegalSaslState.Code
			return resp, nil, true
		})
	}
	c.ControlKey(kmsg.CreateTopics.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		resp, refused := refuseCreateTopics(kr.(*kmsg.CreateTopicsRequest))
		if !refused {
			return nil, nil, false
		}
		c.KeepControl()
		return resp, nil, true
	})
	c.ControlKey(kmsg.CreatePartitions.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		resp, refused := refuseCreatePartitions(kr.(*kmsg.CreatePartitionsRequest))
		if !refused {
			return nil, nil, false
		}
		c.KeepControl()
		return resp, nil, true
	})
}

// createTopicRefusal is why the embedded broker cannot create rt, or nil.
// It also returns the partitions rt asks for (0 for the default count,
// which is within the limits).
func createTopicRefusal(rt *kmsg.CreateTopicsRequestTopic) (int, *kerr.Error, string) {
	if n := len(rt.ReplicaAssignment); n > 0 {
		if n > MaxPartitionsPerTopic {
			return n, kerr.InvalidPartitions, fmt.Sprintf("the embedded broker allows at most %d partitions per topic; the replica assignment has %d", MaxPartitionsPerTopic, n)
		}
		for _, ra := range rt.ReplicaAssignment {
			if len(ra.Replicas) > NumBrokers {
				return n, kerr.InvalidReplicationFactor, fmt.Sprintf("replication factor %d is larger than the %d broker of the embedded cluster", len(ra.Replicas), NumBrokers)
			}
		}
		return n, nil, ""
	}
	if rt.ReplicationFactor > NumBrokers {
		return 0, kerr.InvalidReplicationFactor, fmt.Sprintf("replication factor %d is larger than the %d broker of the embedded cluster", rt.ReplicationFactor, NumBrokers)
	}
	if rt.NumPartitions > MaxPartitionsPerTopic {
		return int(rt.NumPartitions), kerr.InvalidPartitions, fmt.Sprintf("the embedded broker allows at most %d partitions per topic; asked for %d", MaxPartitionsPerTopic, rt.NumPartitions)
	}
	return max(int(rt.NumPartitions), 0), nil, ""
}

// refuseCreateTopics answers req when one of its topics is beyond the
// limits: those topics with their error, the others (when the request as a
// whole is within MaxPartitionsPerRequest) with POLICY_VIOLATION naming the
// refused one, since the request is not carried out in part.
func refuseCreateTopics(req *kmsg.CreateTopicsRequest) (kmsg.Response, bool) {
	type answer struct {
		err *kerr.Error
		msg string
	}
	answers := make([]answer, len(req.Topics))
	var refused string
	total := 0
	for i := range req.Topics {
		n, err, msg := createTopicRefusal(&req.Topics[i])
		total += n
		answers[i] = answer{err, msg}
		if err != nil && refused == "" {
			refused = req.Topics[i].Topic
		}
	}
	if refused == "" && total <= MaxPartitionsPerRequest {
		return nil, false
	}
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for i, rt := range req.Topics {
		a := answers[i]
		if a.err == nil {
			a.err = kerr.PolicyViolation
			if refused != "" {
				a.msg = fmt.Sprintf("not created: topic %q of the same request was refused", refused)
			} else {
				a.msg = fmt.Sprintf("the embedded broker creates at most %d partitions per request; this one asks for %d", MaxPartitionsPerRequest, total)
			}
		}
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		st.ErrorCode = a.err.Code
		st.ErrorMessage = kmsg.StringPtr(a.msg)
		st.NumPartitions = -1
		st.ReplicationFactor = -1
		resp.Topics = append(resp.Topics, st)
	}
	return resp, true
}

// refuseCreatePartitions answers req when one of its topics would grow
// beyond MaxPartitionsPerTopic or be assigned more replicas than brokers;
// the other topics are answered POLICY_VIOLATION.
func refuseCreatePartitions(req *kmsg.CreatePartitionsRequest) (kmsg.Response, bool) {
	type answer struct {
		err *kerr.Error
		msg string
	}
	answers := make([]answer, len(req.Topics))
	var refused string
	for i, rt := range req.Topics {
		switch {
		case rt.Count > MaxPartitionsPerTopic:
			answers[i] = answer{kerr.InvalidPartitions, fmt.Sprintf("the embedded broker allows at most %d partitions per topic; asked for %d", MaxPartitionsPerTopic, rt.Count)}
		case len(rt.Assignment) > MaxPartitionsPerTopic:
			answers[i] = answer{kerr.InvalidReplicaAssignment, fmt.Sprintf("the embedded broker allows at most %d partitions per topic; the assignment has %d", MaxPartitionsPerTopic, len(rt.Assignment))}
		default:
			for _, a := range rt.Assignment {
				if len(a.Replicas) > NumBrokers {
					answers[i] = answer{kerr.InvalidReplicaAssignment, fmt.Sprintf("%d replicas assigned; the embedded cluster has %d broker", len(a.Replicas), NumBrokers)}
					break
				}
			}
		}
		if answers[i].err != nil && refused == "" {
			refused = rt.Topic
		}
	}
	if refused == "" {
		return nil, false
	}
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for i, rt := range req.Topics {
		a := answers[i]
		if a.err == nil {
			a = answer{kerr.PolicyViolation, fmt.Sprintf("not changed: topic %q of the same request was refused", refused)}
		}
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		st.ErrorCode = a.err.Code
		st.ErrorMessage = kmsg.StringPtr(a.msg)
		resp.Topics = append(resp.Topics, st)
	}
	return resp, true
}

// sizeLimitListener hands out connections that close when a request frame
// announces more than max bytes, before kfake allocates the frame.
type sizeLimitListener struct {
	net.Listener
	max uint32
}

func (l *sizeLimitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sizeLimitConn{Conn: c, max: l.max}, nil
}

// sizeLimitConn follows the request frames it reads (a 4-byte size, then
// that many bytes) and fails the read that would deliver a size above max.
type sizeLimitConn struct {
	net.Conn
	max uint32

	mu   sync.Mutex
	head [4]byte // the size being read
	have int     // bytes of head read
	left uint32  // bytes of the current frame still to read
}

// errRequestTooLarge is the read error of a frame above the limit; kfake
// closes the connection on it.
type errRequestTooLarge struct{ size, max uint32 }

func (e errRequestTooLarge) Error() string {
	return fmt.Sprintf("request of %d bytes is larger than the embedded broker's limit of %d", e.size, e.max)
}

func (c *sizeLimitConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Read at most up to the end of the next size field, so that an
	// oversized frame is refused before a byte of it is handed on.
	// A read never crosses a frame's end, so that a size is seen as
	// soon as it arrives.
	if c.left == 0 && len(p) > 4-c.have {
		p = p[:4-c.have]
	} else if c.left > 0 && uint32(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	for b := p[:n]; len(b) > 0; {
		if c.left > 0 {
			k := min(uint32(len(b)), c.left)
			c.left -= k
			b = b[k:]
			continue
		}
		k := copy(c.head[c.have:], b)
		c.have += k
		b = b[k:]
		if c.have < 4 {
			continue
		}
		c.have = 0
		size := binary.BigEndian.Uint32(c.head[:])
		if size > c.max {
			c.Conn.Close()
			return 0, errRequestTooLarge{size, c.max}
		}
		c.left = size
	}
	return n, err
}
