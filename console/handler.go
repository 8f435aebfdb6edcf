package console

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// Handler serves the page at / (and its assets under /assets/) and the
// JSON API under /api/. Unknown paths are 404. POST routes are refused
// with 403 unless the console has an admin token, with 401 without that
// token, and with 403 when they come from another origin (net/http's
// CrossOriginProtection: Sec-Fetch-Site, else Origin against Host).
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /api/status", c.api(func(r *http.Request) (any, error) { return c.snapshot(), nil }))
	mux.HandleFunc("GET /api/history", c.api(func(r *http.Request) (any, error) { return c.seriesList(), nil }))
	mux.HandleFunc("GET /api/topics", c.api(c.topics))
	mux.HandleFunc("GET /api/deadletters", c.api(c.deadLetterTopics))
	mux.HandleFunc("GET /api/deadletters/{topic}", c.api(c.deadLetters))
	mux.HandleFunc("GET /api/admin", c.api(func(r *http.Request) (any, error) {
		if err := c.authorize(r); err != nil {
			return nil, err
		}
		return map[string]bool{"admin": true}, nil
	}))
	cop := http.NewCrossOriginProtection()
	post := func(pattern string, f func(*http.Request) (any, error)) {
		mux.Handle("POST "+pattern, cop.Handler(c.api(func(r *http.Request) (any, error) {
			if err := c.authorize(r); err != nil {
				return nil, err
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				return nil, &apiError{http.StatusUnsupportedMediaType, "Content-Type must be application/json"}
			}
			r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
			return f(r)
		})))
	}
	post("/api/deadletters/{topic}/replay", c.replay)
	post("/api/consumers/pause", c.pause(true))
	post("/api/consumers/resume", c.pause(false))
	return mux
}

// apiError is an error with the HTTP status it answers with.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(msg string) error { return &apiError{http.StatusBadRequest, msg} }

// api adapts f to a handler answering JSON: f's value, or {"error": ...}
// with the apiError's status (500 for other errors).
func (c *Console) api(f func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.watch()
		v, err := f(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			status := http.StatusInternalServerError
			if ae, ok := err.(*apiError); ok {
				status = ae.status
			}
			w.WriteHeader(status)
			v = map[string]string{"error": err.Error()}
		}
		json.NewEncoder(w).Encode(v)
	}
}

// authorize checks the admin token of r: actions off is 403, a missing or
// wrong token 401.
func (c *Console) authorize(r *http.Request) error {
	if c.token == "" {
		return &apiError{http.StatusForbidden, "admin actions are off (http.admin: false; a service turns them on with actors.ConsoleAdmin)"}
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(c.token)) != 1 {
		return &apiError{http.StatusUnauthorized, "admin token missing or wrong: send Authorization: Bearer <the token of http.admin_token_file>"}
	}
	return nil
}

// decode reads r's JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return badRequest("request body: " + err.Error())
	}
	return nil
}

// pause handles POST /api/consumers/pause and /resume: {"group", "topic"}.
func (c *Console) pause(pause bool) func(*http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		var req struct {
			Group string `json:"group"`
			Topic string `json:"topic"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		var err error
		verb := "resumed"
		if pause {
			verb = "paused"
			err = c.src.PauseConsumer(req.Group, req.Topic)
		} else {
			err = c.src.ResumeConsumer(req.Group, req.Topic)
		}
		if err != nil {
			return nil, badRequest(err.Error())
		}
		c.log.Info("console: consumer "+verb, "group", req.Group, "topic", req.Topic, "from", r.RemoteAddr)
		if c.started.Load() {
			c.sample()
		}
		return map[string]any{"group": req.Group, "topic": req.Topic, verb: true}, nil
	}
}
