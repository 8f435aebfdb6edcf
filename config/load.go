package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// DefaultFile is the config file Load reads when Source.File is empty and
// the file exists in the current directory.
const DefaultFile = "actord.yaml"

// EnvPrefix starts the name of every environment variable Load reads.
const EnvPrefix = "ACTORD_"

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

// KeyError is one problem with one configuration key. Load and Validate
// return every problem they find joined with errors.Join; each one is a
// *KeyError, reachable with errors.As on the individual errors.
type KeyError struct {
	// Source is where the offending value came from: the config file's
	// path, "env ACTORD_..." for an environment variable, "command line"
	// for a flag, or empty for a value that was not set (a default or a
	// missing key).
	Source string
	// Key is the dotted key with list indexes, e.g. consumers[1].ordering.
	Key string
	// Err says what is wrong. It never holds a secret.
	Err error
}

// Error formats the problem as "source: key: problem".
func (e *KeyError) Error() string {
	if e.Source == "" {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Source + ": " + e.Key + ": " + e.Err.Error()
}

// Unwrap returns the underlying problem.
func (e *KeyError) Unwrap() error { return e.Err }

// sourceCommandLine labels problems with values from Source.Flags.
const sourceCommandLine = "command line"

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
	l := loader{
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

// readFile reads the config file into viper, reporting unknown keys and
// misshapen sections and dropping them before viper merges the layers.
func (l *loader) readFile(name string) error {
	if name == "" {
		st, err := os.Stat(DefaultFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return fmt.Errorf("config file %s: %w", DefaultFile, unwrapPath(err))
		case st.IsDir():
			return fmt.Errorf("config file %s: is a directory", DefaultFile)
		}
		name = DefaultFile
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config file %s: %w", name, fs.ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("config file %s: %w", name, unwrapPath(err))
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
	checkMap(reflect.TypeFor[Config](), l.fileMap, "", func(key string, err error) {
		l.add(name, key, err)
	})
	l.endPhase()
	return l.v.MergeConfigMap(l.fileMap)
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
	}
	return nil
}

// report adds the validation problems, attributing each to its source.
func (l *loader) report(problems []*KeyError) {
	for _, p := range problems {
		l.add(l.sourceOf(p.Key), p.Key, p.Err)
	}
	l.endPhase()
}

func (l *loader) add(source, key string, err error) {
	for _, k := range l.phase {
		if l.merged && related(k, key) {
			return
		}
	}
	l.errs = append(l.errs, &KeyError{Source: source, Key: key, Err: err})
	l.cur = append(l.cur, key)
}

func (l *loader) endPhase() {
	l.phase = append(l.phase, l.cur...)
	l.cur = nil
}

// joined returns the problems in the order of their keys in the file
// layout (struct order, list items by index), one a line.
func (l *loader) joined() error {
	slices.SortStableFunc(l.errs, func(a, b *KeyError) int {
		return slices.Compare(keyOrder(a.Key), keyOrder(b.Key))
	})
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

func (l *loader) leafKeys() []string {
	keys := make([]string, len(l.leaves))
	for i, lf := range l.leaves {
		keys[i] = lf.key
	}
	return keys
}

// sourceOf names where the value of key came from: the highest layer that
// set it, or a key above or below it.
func (l *loader) sourceOf(key string) string {
	for k := range l.flags {
		if related(k, key) {
			return sourceCommandLine
		}
	}
	if name, ok := l.env[key]; ok {
		return "env " + name
	}
	for _, k := range slices.Sorted(maps.Keys(l.env)) {
		if related(k, key) {
			return "env " + l.env[k]
		}
	}
	if l.file != "" && inFile(l.fileMap, key) {
		return l.file
	}
	return ""
}

// related reports whether a and b are the same key or one holds the other.
func related(a, b string) bool {
	return a == b || under(a, b) || under(b, a)
}

// under reports whether key lies inside section (a key or a list item).
func under(key, section string) bool {
	return strings.HasPrefix(key, section) && len(key) > len(section) &&
		(key[len(section)] == '.' || key[len(section)] == '[')
}

// inFile reports whether the file set key, its section (a problem about a
// missing key lies with the section that lacks it), or the list item
// holding it (list items come from the file as a whole).
func inFile(m map[string]any, key string) bool {
	var cur any = m
	inItem := false
	toks := splitKey(key)
	for i, tok := range toks {
		last := i == len(toks)-1
		switch c := cur.(type) {
		case []any:
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n >= len(c) {
				return inItem
			}
			cur, inItem = c[n], true
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return inItem || last
			}
			cur = v
		default:
			return inItem
		}
	}
	return true
}

// keyOrder maps a key to its position: a field's index in its struct, a
// list item's index; names the struct lacks (unknown keys) sort after the
// known ones of their section.
func keyOrder(key string) []int {
	t := reflect.TypeFor[Config]()
	var out []int
	for _, tok := range splitKey(key) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			pos := t.NumField()
			for i := range t.NumField() {
				if tagName(t.Field(i)) == tok {
					pos = i
					break
				}
			}
			out = append(out, pos)
			if pos == t.NumField() {
				return out
			}
			t = t.Field(pos).Type
		case reflect.Slice:
			n, _ := strconv.Atoi(tok)
			out = append(out, n)
			t = t.Elem()
		default:
			return out
		}
	}
	return out
}

// splitKey splits "consumers[1].handler.http.url" into its steps:
// consumers, 1, handler, http, url. A bracketed step may hold dots
// (topics[0].config[retention.ms]).
func splitKey(key string) []string {
	var toks []string
	for key != "" {
		switch key[0] {
		case '.':
			key = key[1:]
		case '[':
			end := strings.IndexByte(key, ']')
			if end < 0 {
				return append(toks, key[1:])
			}
			toks, key = append(toks, key[1:end]), key[end+1:]
		default:
			end := strings.IndexAny(key, ".[")
			if end < 0 {
				end = len(key)
			}
			toks, key = append(toks, key[:end]), key[end:]
		}
	}
	return toks
}

// hasPath reports whether the nested maps of v hold the path.
func hasPath(v any, path ...string) bool {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[p]; !ok {
			return false
		}
	}
	return true
}

// decodeErrors flattens mapstructure's (wrapped, joined) errors into key
// problems.
func decodeErrors(err error) []*KeyError {
	switch e := err.(type) {
	case nil:
		return nil
	case *mapstructure.DecodeError:
		key := e.Name()
		if key == "" {
			key = "(top level)"
		}
		return []*KeyError{{Key: key, Err: e.Unwrap()}}
	case interface{ Unwrap() []error }:
		var out []*KeyError
		for _, e := range e.Unwrap() {
			out = append(out, decodeErrors(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil {
			return decodeErrors(inner)
		}
	}
	return []*KeyError{{Key: "(top level)", Err: err}}
}

var yamlLine = regexp.MustCompile(`cannot unmarshal !!(\w+).* into map\[string\]interface \{\}`)

// yamlProblem turns viper's YAML error into "line N: what", without the
// decoder's Go type names.
func yamlProblem(err error) string {
	var pe viper.ConfigParseError
	if errors.As(err, &pe) {
		err = pe.Unwrap()
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	lines := strings.Split(msg, "\n")
	for i, s := range lines {
		s = strings.TrimSpace(s)
		if m := yamlLine.FindStringSubmatch(s); m != nil {
			s = s[:strings.Index(s, "cannot")] + "the file must be a mapping of keys, not " + yamlKind(m[1])
		}
		lines[i] = s
	}
	return strings.Join(lines, "; ")
}

func yamlKind(tag string) string {
	switch tag {
	case "seq":
		return "a list"
	case "str":
		return "a string"
	case "int", "float":
		return "a number"
	case "bool":
		return "a boolean"
	}
	return "!!" + tag
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// EnvName is the environment variable that sets a dotted key:
// EnvName("kafka.bootstrap_servers") is "ACTORD_KAFKA_BOOTSTRAP_SERVERS".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists every key that holds a single value outside the lists, in
// the order of the Config struct: the keys the environment and flags can
// set.
func Keys() []string {
	lvs := leaves()
	keys := make([]string, len(lvs))
	for i, lf := range lvs {
		keys[i] = lf.key
	}
	return keys
}

// leaf is one key outside the lists that holds a single value.
type leaf struct {
	key   string
	typ   reflect.Type
	index []int
}

func (lf leaf) get(c Config) any {
	return reflect.ValueOf(c).FieldByIndex(lf.index).Interface()
}

var durationType = reflect.TypeFor[time.Duration]()

// leaves walks Config for the keys the environment and flags can set.
func leaves() []leaf {
	var out []leaf
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := tagName(f)
			if name == "" {
				continue
			}
			idx := append(slices.Clone(index), i)
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != durationType:
				walk(f.Type, prefix+name+".", idx)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				// topics and consumers: the file's alone.
			default:
				out = append(out, leaf{key: prefix + name, typ: f.Type, index: idx})
			}
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return out
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// checkMap reports (and deletes) every key of m that t does not declare,
// and every section or list whose value has the wrong shape, so that the
// layers merge cleanly and each problem is reported once. An explicit null
// for an optional section (handler: {log: }) means the section with its
// defaults.
func checkMap(t reflect.Type, m map[string]any, path string, report func(key string, err error)) {
	fields := map[string]reflect.StructField{}
	names := []string{}
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "" {
			fields[name] = t.Field(i)
			names = append(names, name)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := joinKey(path, k)
		f, ok := fields[k]
		if !ok {
			report(key, unknownKey(k, names))
			delete(m, k)
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
			if m[k] == nil {
				m[k] = map[string]any{}
			}
		}
		switch {
		case m[k] == nil:
		case ft.Kind() == reflect.Struct && ft != durationType:
			sub, ok := m[k].(map[string]any)
			if !ok {
				report(key, fmt.Errorf("expected a mapping of keys, got %s", describe(m[k])))
				delete(m, k)
				continue
			}
			checkMap(ft, sub, key, report)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			list, ok := m[k].([]any)
			if !ok {
				report(key, fmt.Errorf("expected a list, got %s", describe(m[k])))
				delete(m, k)
				continue
			}
			for i, item := range list {
				itemKey := fmt.Sprintf("%s[%d]", key, i)
				sub, ok := item.(map[string]any)
				if !ok {
					// Kept so that later items keep their index; the
					// decoder's error on it is dropped as a consequence.
					report(itemKey, fmt.Errorf("expected a mapping of keys, got %s", describe(item)))
					continue
				}
				checkMap(ft.Elem(), sub, itemKey, report)
			}
		}
	}
}

func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// unknownKey says that k is not a key, suggesting the nearest known one.
func unknownKey(k string, known []string) error {
	base := k[strings.LastIndex(k, ".")+1:]
	best, bestDist := "", 3
	for _, cand := range known {
		cb := cand[strings.LastIndex(cand, ".")+1:]
		d := editDistance(base, cb)
		if strings.Contains(k, ".") && strings.Contains(cand, ".") {
			d = editDistance(k, cand)
		}
		if d < bestDist {
			best, bestDist = cand, d
		}
	}
	if best != "" {
		return fmt.Errorf("unknown key (did you mean %s?)", best)
	}
	return errors.New("unknown key")
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseScalar parses an environment or flag string as a value of t.
func parseScalar(s string, t reflect.Type) (any, error) {
	switch {
	case t == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, durationProblem(s)
		}
		return d, nil
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case isInt(t.Kind()):
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer in range", s)
		}
		return n, nil
	case t.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	}
	return s, nil
}

func durationProblem(v any) error {
	return fmt.Errorf("%s is not a duration: write it with a unit, like 100ms or 10s", describe(v))
}

// strictHook converts and checks every value before mapstructure sets it,
// so that a wrong type is a problem naming the key rather than a silent
// conversion: durations need a unit (a bare 100 could mean nanoseconds or
// milliseconds), numbers must fit, and a section must be a mapping.
// Numbers and booleans are accepted where a string is expected (topic
// configs such as retention.ms: 86400000).
func strictHook(from, to reflect.Type, data any) (any, error) {
	if data == nil {
		return nil, nil
	}
	switch {
	case to == durationType:
		switch v := data.(type) {
		case time.Duration:
			return v, nil
		case string:
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, durationProblem(v)
			}
			return d, nil
		}
		if n, ok := toInt64(data); ok && n == 0 {
			return time.Duration(0), nil
		}
		return nil, durationProblem(data)
	case isInt(to.Kind()):
		n, ok := toInt64(data)
		if !ok {
			return nil, fmt.Errorf("expected an integer, got %s", describe(data))
		}
		if reflect.New(to).Elem().OverflowInt(n) {
			return nil, fmt.Errorf("%d is out of range", n)
		}
		return n, nil
	case to.Kind() == reflect.Float64:
		f, ok := toFloat64(data)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("expected a number, got %s", describe(data))
		}
		return f, nil
	case to.Kind() == reflect.Bool:
		if _, ok := data.(bool); !ok {
			return nil, fmt.Errorf("expected true or false, got %s", describe(data))
		}
	case to.Kind() == reflect.String:
		switch v := data.(type) {
		case string:
		case bool:
			return strconv.FormatBool(v), nil
		default:
			if n, ok := toInt64(data); ok {
				return strconv.FormatInt(n, 10), nil
			}
			if f, ok := toFloat64(data); ok {
				return strconv.FormatFloat(f, 'f', -1, 64), nil
			}
			return nil, fmt.Errorf("expected a string, got %s", describe(data))
		}
	case to.Kind() == reflect.Slice:
		if from.Kind() != reflect.Slice {
			return nil, fmt.Errorf("expected a list, got %s", describe(data))
		}
	case to.Kind() == reflect.Map || to.Kind() == reflect.Struct:
		if from.Kind() != reflect.Map && from != to {
			return nil, fmt.Errorf("expected a mapping of keys, got %s", describe(data))
		}
	}
	return data, nil
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// toInt64 converts any integer, or a float holding an integer, to int64.
func toInt64(data any) (int64, bool) {
	v := reflect.ValueOf(data)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v.Uint() > math.MaxInt64 {
			return 0, false
		}
		return int64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

func toFloat64(data any) (float64, bool) {
	v := reflect.ValueOf(data)
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	if n, ok := toInt64(data); ok {
		return float64(n), true
	}
	return 0, false
}

// describe shows a value in a problem message. Strings are quoted; lists
// and mappings are named, not printed.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return fmt.Sprint(v)
	case time.Duration:
		return v.String()
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return fmt.Sprintf("a %T", v)
}
