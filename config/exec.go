package config

import "reflect"

// Exec handler modes (consumers[].handler.exec.mode).
const (
	// ExecPerRecord runs the command once per record: the value on stdin,
	// the outcome in the exit code. The default.
	ExecPerRecord = "per_record"
	// ExecStream keeps one long-running command per handler actor that
	// reads one JSON record a line on stdin and answers one line a record
	// on stdout (handler/exec_stream.go).
	ExecStream = "stream"
	// MaxExecPipeline is the largest handler.exec.pipeline.
	MaxExecPipeline = 64
)

// ExecHandler runs a command for the records: once per record, or, in
// stream mode, as one long-running child per handler actor. In the file
// it is written either as the command list, exec: ["./handle.sh", "arg"]
// (per-record mode), or as a mapping, exec: {command: [...], mode: stream}.
type ExecHandler struct {
	// Command is the program and its arguments. Required.
	Command []string `mapstructure:"command"`
	// Mode is ExecPerRecord (empty means it) or ExecStream.
	Mode string `mapstructure:"mode"`
	// Pipeline, in stream mode, lets up to Pipeline handler actors of a
	// partition share one child, each with its record in flight: up to
	// Pipeline records written ahead, answered by offset. 0 or 1: one
	// child per handler actor, one record at a time.
	Pipeline int `mapstructure:"pipeline"`
	// Batch, when set, runs the command once per batch of records, JSON
	// lines on its stdin (actors.ConsumeBatch); per-record mode only.
	Batch *Batch `mapstructure:"batch"`
}

// Stream reports whether e runs in stream mode.
func (e *ExecHandler) Stream() bool { return e != nil && e.Mode == ExecStream }

var execHandlerType = reflect.TypeFor[ExecHandler]()

// execListForm turns the list form of handler.exec into its mapping form
// before it is decoded, so that both spellings decode into ExecHandler.
// Anything else is returned as it is, for checkValue to report.
func execListForm(data any) any {
	if list, ok := data.([]any); ok {
		return map[string]any{"command": list}
	}
	if list, ok := data.([]string); ok {
		return map[string]any{"command": list}
	}
	return data
}

func (e *ExecHandler) check(ck *checker, key string) {
	switch {
	case e.Pipeline != 0 && !e.Stream():
		ck.add(key+".pipeline", "needs mode: stream (a pipeline is of records written ahead to a stream child)")
	case e.Pipeline != 0:
		ck.between(key+".pipeline", int64(e.Pipeline), 1, MaxExecPipeline)
	}
	if e.Mode != "" {
		// Only the mapping form has a mode: name its command key.
		ck.oneOf(key+".mode", e.Mode, ExecPerRecord, ExecStream)
		key += ".command"
	}
	if len(e.Command) == 0 || e.Command[0] == "" {
		ck.add(key, "must name a command: exec: [\"./handle.sh\"] or exec: {command: [\"./handle.sh\"], mode: stream}")
	}
}

// checkExecStream refuses what stream mode cannot honour: schema decoding
// hands the per-record handler a JSON value, which the stream child's line
// does not carry, so the key would be ignored.
func (cs Consumer) checkExecStream(ck *checker, key string) {
	if cs.Handler.Exec.Stream() && cs.Schema != nil {
		ck.add(key+".schema", "set with handler.exec mode stream, whose child gets each value as it is: it would be ignored (remove it, or run exec per record)")
	}
}
