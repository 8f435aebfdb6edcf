// Package dlq is actord's dead-letter format and the tools that work on
// it: building a dead letter ([Record]), reading what one says ([Parse],
// [Letter]), reading a dead-letter topic ([Read], [Scan]) and sending dead
// letters back ([Replay], [ReplayTopic]).
//
// A dead letter is the original record's key, value and headers followed
// by the actord.dlq.* headers ([HeaderTopic] ... [HeaderFailedAt], then
// [HeaderHandler] for an event handler). The runtime (package actors)
// writes them and `actord dlq` reads and replays them through this
// package, so the format has one definition.
//
// The package depends on franz-go only. Reading and replaying take a
// plain *kgo.Client (one that does not consume): its requests list
// offsets and group commits, and its options seed the short-lived
// consumers and producers this package creates for the duration of a
// call. Every wait is bounded by the context and by [Timeout] (default
// [DefaultTimeout]), so a topic that cannot be read is an error, never a
// hang.
package dlq
