// This file holds Load and its loader: the layers it reads in rising
// precedence (defaults, the config file, the environment, flags), each a
// phase, and the merge that decodes them onto a Config. Key names live in
// keys.go, decoding and file checks in decode.go, scalar conversions in
// scalar.go, unknown-key suggestions in suggest.go and problem reporting
// in problems.go.

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// DefaultFile is the config file Load reads when Source.File is empty and
// the file exists in the current directory.
const DefaultFile = "actord.yaml"

// Source names where Load reads from, besides the built-in defaults.
type Source struct {
	// File is the --config path. Empty means ./actord.yaml when present,
	// else no file. A named file that does not exist is an error.
	File string
	// Flags holds the config keys (dotted, e.g. "kafka.bootstrap_servers")
	// set on the command line; they win over everything else. A value is
	// either of the key's Go type (bool, int, string, time.Duration) or a
	// string parsed as the environment's values are.
	Flags map[string]any
	// Env is the environment, as os.Environ returns it; nil means
	// os.Environ(). Keys are ACTORD_ plus the dotted key upper-cased with
	// dots as underscores: ACTORD_KAFKA_BOOTSTRAP_SERVERS. Empty values are
	// ignored. The lists (topics, consumers) are read from the file only.
	Env []string
}

// Load builds the configuration from defaults, the file, the environment
// and flags, in rising precedence, fills in the derived and per-consumer
// defaults (see WithDefaults), then validates it. Every problem found is
// returned at once, joined, each a *KeyError naming its key and where the
// value came from, for example:
//
//	actord.yaml: consumers[1].ordering: "random" is not one of partition, key, unordered
//
// A file that cannot be read or parsed is reported alone, naming the file
// (and the line for a syntax error). On error the returned Config is the
// zero value.
func Load(src Source) (Config, error) {
	l := newLoader()
	if err := l.readFile(src.File); err != nil {
		return Config{}, err
	}
	l.readEnv(src.Env)
	l.readFlags(src.Flags)

	cfg := Default()
	if err := l.decode(&cfg); err != nil {
		return Config{}, err
	}
	cfg.File = l.file
	cfg = cfg.WithDefaults()
	l.report(cfg.problems())

	if len(l.errs) > 0 {
		return Config{}, l.joined()
	}
	return cfg, nil
}

// loader carries one Load: the viper instance holding the layers, where
// each key was set (to name it in errors) and the problems found so far.
type loader struct {
	v      *viper.Viper
	leaves []leaf
	byKey  map[string]leaf

	file    string         // the file read, "" for none
	fileMap map[string]any // its settings, less what checkMap reported
	env     map[string]string
	flags   map[string]bool

	errs []*KeyError
	// phase holds the keys reported by earlier phases. Once the layers
	// are merged (merged is true), a problem on one of them, or on a key
	// above or below one, is a consequence (a mistyped key leaves its
	// section unset) and is not reported again.
	phase  []string
	cur    []string
	merged bool
}

// newLoader returns a loader whose viper holds the defaults of every key.
func newLoader() *loader {
	l := &loader{
		v:      viper.New(),
		env:    map[string]string{},
		flags:  map[string]bool{},
		byKey:  map[string]leaf{},
		leaves: leaves(),
	}
	for _, lf := range l.leaves {
		l.byKey[lf.key] = lf
	}
	for _, lf := range l.leaves {
		l.v.SetDefault(lf.key, lf.get(Default()))
	}
	return l
}

// readFile reads the config file into viper, reporting unknown keys and
// misshapen sections and dropping them before viper merges the layers.
func (l *loader) readFile(name string) error {
	name, data, err := readConfigFile(name)
	if err != nil || name == "" {
		return err
	}
	// A viper of its own reads the file so that its settings can be
	// checked as written, before they are merged with the other layers.
	fv := viper.New()
	fv.SetConfigType("yaml")
	if err := fv.ReadConfig(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("%s: %s", name, yamlProblem(err))
	}
	l.file = name
	l.fileMap = fv.AllSettings()
	// viper lower-cases every key it reads; the keys as written are
	// checked on a parse of their own, so that Kafka: is not taken for
	// kafka:.
	var raw map[string]any
	if yaml.Unmarshal(data, &raw) == nil {
		checkCase(reflect.TypeFor[Config](), raw, l.fileMap, "", func(key string, err error) {
			l.add(name, key, err)
		})
	}
	checkMap(reflect.TypeFor[Config](), l.fileMap, "", func(key string, err error) {
		l.add(name, key, err)
	})
	l.endPhase()
	return l.v.MergeConfigMap(l.fileMap)
}

// MaxFileSize is the largest config file Load reads: 1 MiB, far more
// than any configuration needs, so that a wrong --config (a log, an
// image) fails at once instead of filling memory.
const MaxFileSize = 1 << 20

// readConfigFile returns the name and contents of the config file to
// read: name, or DefaultFile when name is empty and it exists. It returns
// an empty name and no error when there is no file to read. Only a
// regular file (or a link to one) of at most MaxFileSize bytes is read: a
// directory, a named pipe (which would block until a writer comes), a
// device (/dev/zero has no end) or a socket is refused before it is
// opened, in one line naming the path.
func readConfigFile(name string) (string, []byte, error) {
	explicit := name != ""
	if !explicit {
		name = DefaultFile
	}
	st, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return "", nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", nil, fmt.Errorf("config file %s: %w", name, fs.ErrNotExist)
	case err != nil:
		return "", nil, fmt.Errorf("config file %s: %w", name, unwrapPath(err))
	}
	if err := checkRegular(st); err != nil {
		return "", nil, fmt.Errorf("config file %s: %w", name, err)
	}
	f, err := os.Open(name)
	if err != nil {
		return "", nil, fmt.Errorf("config file %s: %w", name, unwrapPath(err))
	}
	defer f.Close()
	// The name may have been replaced between the Stat and the Open.
	if st, err = f.Stat(); err != nil {
		return "", nil, fmt.Errorf("config file %s: %w", name, unwrapPath(err))
	}
	if err := checkRegular(st); err != nil {
		return "", nil, fmt.Errorf("config file %s: %w", name, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("config file %s: %w", name, unwrapPath(err))
	}
	if len(data) > MaxFileSize {
		return "", nil, fmt.Errorf("config file %s: more than the %d bytes (1 MiB) a config file may hold", name, MaxFileSize)
	}
	return name, data, nil
}

// checkRegular refuses a config file that is not a regular file or is
// larger than MaxFileSize.
func checkRegular(st fs.FileInfo) error {
	mode := st.Mode()
	var what string
	switch {
	case mode.IsRegular():
		if st.Size() > MaxFileSize {
			return fmt.Errorf("%d bytes, more than the %d (1 MiB) a config file may hold", st.Size(), MaxFileSize)
		}
		return nil
	case mode.IsDir():
		return errors.New("is a directory")
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeDevice != 0:
		what = "a device"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	default:
		what = "of mode " + mode.Type().String()
	}
	return fmt.Errorf("not a regular file (%s)", what)
}

// unwrapPath returns the cause of a *fs.PathError without the path, which
// the caller names itself.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readEnv sets every known key found in env (os.Environ when nil).
func (l *loader) readEnv(env []string) {
	if env == nil {
		env = os.Environ()
	}
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = v
		}
	}
	for _, lf := range l.leaves {
		name := EnvName(lf.key)
		s := vars[name]
		if s == "" {
			continue
		}
		v, err := parseScalar(s, lf.typ)
		if err != nil {
			l.add("env "+name, lf.key, err)
			continue
		}
		l.v.Set(lf.key, v)
		l.env[lf.key] = name
	}
	l.endPhase()
}

// readFlags sets the command line's keys, last so that they win.
func (l *loader) readFlags(flags map[string]any) {
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := flags[k]
		lf, ok := l.byKey[strings.ToLower(k)]
		if !ok {
			l.add(sourceCommandLine, k, unknownKey(k, l.leafKeys()))
			continue
		}
		if val == nil {
			continue
		}
		if s, ok := val.(string); ok && lf.typ.Kind() != reflect.String {
			v, err := parseScalar(s, lf.typ)
			if err != nil {
				l.add(sourceCommandLine, lf.key, err)
				continue
			}
			val = v
		}
		l.v.Set(lf.key, val)
		l.flags[lf.key] = true
	}
	l.endPhase()
}

// decode merges the layers and decodes them onto cfg (the defaults), so
// that a key that fails to decode keeps its default and causes no second
// problem downstream.
func (l *loader) decode(cfg *Config) error {
	l.merged = true
	settings := l.v.AllSettings()
	d, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook: mapstructure.DecodeHookFuncType(strictHook),
		Result:     cfg,
		TagName:    "mapstructure",
	})
	if err != nil {
		return fmt.Errorf("config: decoder: %w", err)
	}
	for _, e := range decodeErrors(d.Decode(settings)) {
		l.add(l.sourceOf(e.Key), e.Key, e.Err)
	}
	l.endPhase()

	// jitter is the one consumer setting whose zero is meaningful (no
	// jitter), so its default is filled here, where an absent key can be
	// told from an explicit 0.
	items, _ := settings["consumers"].([]any)
	for i := range cfg.Consumers {
		if i < len(items) && !hasPath(items[i], "backoff", "jitter") {
			cfg.Consumers[i].Backoff.Jitter = DefaultJitter
		}
		// An absent (or null) http timeout means the default, which
		// WithDefaults fills in for a zero; an explicit 0 is a value the
		// reference refuses (greater than 0), so it is reported here,
		// where it can be told from an absent one.
		if h := cfg.Consumers[i].Handler.HTTP; h != nil && h.Timeout == 0 && i < len(items) &&
			pathValue(items[i], "handler", "http", "timeout") != nil {
			key := fmt.Sprintf("consumers[%d].handler.http.timeout", i)
			l.add(l.sourceOf(key), key, fmt.Errorf("must be greater than 0, got %s", h.Timeout))
		}
	}
	return nil
}
