package fromconfig

import (
	"fmt"
	"os"
	"strings"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
)

// ConsoleToken reads the status console's admin token from
// http.admin_token_file: the file's content with its trailing newline
// trimmed, at least actors.MinConsoleTokenLength characters. Errors name
// the key and the file, never the token.
func ConsoleToken(h config.HTTP) (string, error) {
	b, err := os.ReadFile(h.AdminTokenFile)
	if err != nil {
		return "", fmt.Errorf("http.admin_token_file: %w", err)
	}
	token := strings.TrimRight(string(b), "\r\n")
	switch {
	case token == "":
		return "", fmt.Errorf("http.admin_token_file: %s is empty", h.AdminTokenFile)
	case len(token) < actors.MinConsoleTokenLength:
		return "", fmt.Errorf("http.admin_token_file: the token in %s has %d characters, want at least %d", h.AdminTokenFile, len(token), actors.MinConsoleTokenLength)
	case strings.ContainsAny(token, " \t\r\n"):
		return "", fmt.Errorf("http.admin_token_file: the token in %s contains white space or more than one line", h.AdminTokenFile)
	}
	return token, nil
}
