// Package topics declares Kafka topics and keeps a cluster in line with the
// declarations: it validates names and settings before any network call,
// creates what is missing, grows partition counts that are too small, and
// reports the drift it must not fix (fewer partitions declared than exist,
// a replication factor or a config value that differs) instead of hiding
// it. It also lists, describes, creates and deletes single topics.
//
// The package stands alone: it needs a franz-go client (or the options to
// build one) and nothing else of actord, so a service or a tool can use it
// without the runtime. Every call that talks to the cluster is bounded by
// the context it is given; pass one with a deadline.
package topics
