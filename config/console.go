package config

// checkAdmin checks the status console's keys: actions need the listener
// that serves the console and a token file, and a token file without
// http.admin would be ignored. The file itself is read (and its token
// checked) when the daemon builds its runtime (internal/fromconfig).
func (h HTTP) checkAdmin(ck *checker) {
	switch {
	case h.Admin && h.Listen == "":
		ck.add("http.admin", "true needs http.listen: the console is served on that listener")
	case h.Admin && h.AdminTokenFile == "":
		ck.add("http.admin_token_file", "required with http.admin: true (a file holding the token that the console's actions need)")
	case !h.Admin && h.AdminTokenFile != "":
		ck.add("http.admin_token_file", "set without http.admin: true (it would be ignored); set http.admin: true to turn the console's actions on")
	}
}
