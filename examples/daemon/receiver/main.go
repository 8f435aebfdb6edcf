// Command receiver is the endpoint of the http consumer in
// examples/daemon/actord.yaml: it prints every record actord POSTs to it,
// with the X-Actord-* headers that say where it came from, and answers
// 204 (done). A payment whose status is "flaky" is answered 503 on its
// first attempt, so actord retries it.
//
//	go run ./examples/daemon/receiver [-listen 127.0.0.1:8080]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
	fmt.Printf("receiving on http://%s/\n", ln.Addr())
	if err := http.Serve(ln, handler(os.Stdout)); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

func handler(out io.Writer) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST records here", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := r.Header
		where := fmt.Sprintf("%s %s/%s@%s key=%s attempt=%s", r.URL.Path,
			h.Get("X-Actord-Topic"), h.Get("X-Actord-Partition"), h.Get("X-Actord-Offset"),
			h.Get("X-Actord-Key"), h.Get("X-Actord-Attempt"))
		mu.Lock()
		defer mu.Unlock()
		if bytes.Contains(body, []byte(`"status":"flaky"`)) && h.Get("X-Actord-Attempt") == "1" {
			fmt.Fprintf(out, "unavailable %s: answering 503, actord retries\n", where)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(out, "received %s: %s\n", where, body)
		w.WriteHeader(http.StatusNoContent)
	})
}
