package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/actord/actord/schema"
)

// DefaultRegistryTimeout is schema_registry.timeout: the bound of each
// request to the registry.
const DefaultRegistryTimeout = schema.DefaultRegistryTimeout

// SchemaRegistry is where Avro schemas are registered and looked up by id
// (a Confluent-compatible Schema Registry): the schema_registry section.
type SchemaRegistry struct {
	// URL is the registry's base URL, http:// or https://; several may be
	// given comma-separated, tried in turn. Empty: no registry, and every
	// other key of the section is refused.
	URL string `mapstructure:"url"`
	// Auth is HTTP basic authentication.
	Auth RegistryAuth `mapstructure:"auth"`
	// TLS holds the CA file of an https:// registry.
	TLS RegistryTLS `mapstructure:"tls"`
	// Timeout bounds each request. Default DefaultRegistryTimeout.
	Timeout time.Duration `mapstructure:"timeout"`
	// SubjectStrategy names producers' subjects: topic (the default),
	// record or topic_record.
	SubjectStrategy string `mapstructure:"subject_strategy"`
	// AutoRegister lets producers register their schema (true, the
	// default); false uses the subject's latest version, which must be
	// the producer's schema.
	AutoRegister bool `mapstructure:"auto_register"`
}

// RegistryAuth is schema_registry.auth: HTTP basic auth.
type RegistryAuth struct {
	// Username is the basic-auth user; empty sends no credentials. (The
	// embedded registry asks for none and ignores them.)
	Username string `mapstructure:"username"`
	// Password is the basic-auth password; Config.Redacted hides it.
	// Prefer PasswordFile or the environment (ACTORD_SCHEMA_REGISTRY_AUTH_PASSWORD).
	Password string `mapstructure:"password"`
	// PasswordFile is a file holding the password (a trailing newline is
	// dropped); it may not be set with Password.
	PasswordFile string `mapstructure:"password_file"`
}

// RegistryTLS is schema_registry.tls.
type RegistryTLS struct {
	// CAFile is a PEM file of the CAs that sign the registry's
	// certificate; empty trusts the system's. Needs an https:// URL.
	CAFile string `mapstructure:"ca_file"`
}

// BrokerRegistry is broker.schema_registry: the embedded registry served
// beside the embedded broker.
type BrokerRegistry struct {
	// Listen is the registry's host:port; empty serves none.
	Listen string `mapstructure:"listen"`
}

// URLs returns the comma-separated URLs of url.
func (r SchemaRegistry) URLs() []string {
	var out []string
	for _, u := range strings.Split(r.URL, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// On reports whether a registry is configured.
func (r SchemaRegistry) On() bool { return len(r.URLs()) > 0 }

// check validates the section; embedded says the embedded registry
// stands for an empty url (kafka.enabled false and
// broker.schema_registry.listen set), so the other keys apply to it.
func (r SchemaRegistry) check(ck *checker, embedded bool) {
	if !r.On() && !embedded {
		for key, set := range map[string]bool{
			"schema_registry.auth.username":      r.Auth.Username != "",
			"schema_registry.auth.password":      r.Auth.Password != "",
			"schema_registry.auth.password_file": r.Auth.PasswordFile != "",
			"schema_registry.tls.ca_file":        r.TLS.CAFile != "",
			"schema_registry.subject_strategy":   r.SubjectStrategy != "" && r.SubjectStrategy != "topic",
			"schema_registry.auto_register":      !r.AutoRegister,
			"schema_registry.timeout":            r.Timeout != DefaultRegistryTimeout,
		} {
			if set {
				ck.add(key, "set while schema_registry.url is empty: it would be ignored (set schema_registry.url, or remove it)")
			}
		}
		return
	}
	https := false
	if !r.On() {
		r.URL = "http://embedded" // the embedded registry: plain http
	}
	for _, raw := range r.URLs() {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " ") {
			ck.add("schema_registry.url", "%s is not an http:// or https:// URL with a host, such as http://localhost:8081", clipQuoted(redactURL(raw)))
			continue
		}
		if u.User != nil {
			ck.add("schema_registry.url", "%s carries credentials: set schema_registry.auth.username and password (or password_file) instead", clipQuoted(u.Redacted()))
		}
		https = https || u.Scheme == "https"
	}
	a := r.Auth
	if a.Password != "" && a.PasswordFile != "" {
		ck.add("schema_registry.auth.password_file", "set together with schema_registry.auth.password: give one")
	}
	if a.Username == "" && (a.Password != "" || a.PasswordFile != "") {
		ck.add("schema_registry.auth.username", "required when schema_registry.auth.password or password_file is set")
	}
	if a.Username != "" && a.Password == "" && a.PasswordFile == "" {
		ck.add("schema_registry.auth.password", "required with schema_registry.auth.username (or set schema_registry.auth.password_file)")
	}
	if r.TLS.CAFile != "" && !https {
		ck.add("schema_registry.tls.ca_file", "set while no schema_registry.url is https://: it would be ignored")
	}
	if r.Timeout <= 0 || r.Timeout > 5*time.Minute {
		ck.add("schema_registry.timeout", "must be between 1ns and 5m, got %s", r.Timeout)
	}
	if _, err := schema.ParseSubjectStrategy(r.SubjectStrategy); err != nil {
		ck.add("schema_registry.subject_strategy", "%s is not one of topic, record, topic_record", clipQuoted(r.SubjectStrategy))
	}
}

// redactURL hides a password in a URL that may not parse.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		return "***" + raw[i:]
	}
	return raw
}

// ConsumerSchema is consumers[].schema: how `actord start` decodes the
// consumer's Avro records, so that its log, exec and http handlers get
// each record's value as JSON, and a forward handler re-encodes it with
// File.
type ConsumerSchema struct {
	// File is a reader schema (.avsc): records are resolved into it, so
	// handlers see its fields whichever compatible version wrote them.
	// Single-object records need no registry when written with it.
	File string `mapstructure:"file"`
	// Registry decodes Confluent-framed records by the id they carry,
	// looked up in schema_registry.url (once per id). Without File,
	// handlers see the fields the writer's schema has.
	Registry bool `mapstructure:"registry"`
}

// check validates consumers[i].schema (key) of cs; registry says whether
// a registry is configured.
func (s *ConsumerSchema) check(ck *checker, key string, cs Consumer, registry bool) {
	if s == nil {
		return
	}
	if s.File == "" && !s.Registry {
		ck.add(key, "set without file or registry: true: it would decode nothing")
	}
	if s.Registry && !registry {
		ck.add(key+".registry", "true needs a registry: set schema_registry.url (or broker.schema_registry.listen with kafka.enabled false)")
	}
	if s.File != "" {
		if _, err := schema.Load(s.File); err != nil {
			ck.add(key+".file", "%v", err)
		}
	}
	if cs.Handler.Forward != nil && s.File == "" {
		ck.add(key+".file", "required with a forward handler: the schema records are re-encoded with (without schema, forward copies records as they are)")
	}
}
