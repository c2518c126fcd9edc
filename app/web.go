package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"
)

// The HTTP server is secured as Prometheus's and Alertmanager's are: by a
// web configuration file (Options.WebConfigFile, --web.config.file) read
// by Prometheus's exporter-toolkit, which gives TLS (tls_server_config),
// basic authentication with bcrypt-hashed passwords (basic_auth_users),
// extra response headers (http_server_config) and a rate limit
// (rate_limit). With basic_auth_users set, every path needs a user and
// password, /-/healthy, /-/ready and /metrics included, as in Prometheus.
//
// The file is validated before alertd listens. Afterwards exporter-toolkit
// reads it again for each request (users, headers) and each TLS handshake
// (certificates, keys, client CAs, TLS versions), so rotated certificates
// and changed users apply without a reload or restart; whether TLS is on
// at all, HTTP/2 and the rate limit are fixed when alertd starts. A file
// made invalid while alertd runs makes every request fail with 500 (and
// every TLS handshake fail) until it is fixed; SIGHUP and /-/reload do not
// read it. alertd never logs the file's contents.

// ValidateWebConfig checks a web configuration file as exporter-toolkit
// reads it (YAML, bcrypt hashes, certificates and keys). An empty name is
// valid: plain HTTP without authentication. The error names the file.
func ValidateWebConfig(file string) error {
	if file == "" {
		return nil
	}
	if err := web.Validate(file); err != nil {
		// bcrypt's error quotes the first character of what is not a
		// hash, which may be a password written in clear.
		if errors.As(err, new(bcrypt.InvalidHashPrefixError)) || errors.Is(err, bcrypt.ErrHashTooShort) {
			err = errors.New("basic_auth_users: a password is not a bcrypt hash (it must start with '$')")
		}
		return fmt.Errorf("web config file %q: %w", file, err)
	}
	return nil
}

// listen validates the web configuration file and opens the listener.
func (a *App) listen() (net.Listener, error) {
	if err := ValidateWebConfig(a.o.WebConfigFile); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a.o.ListenAddress)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// serve serves srv on ln, as the web configuration file says, until srv
// is shut down; it returns http.ErrServerClosed then.
func (a *App) serve(srv *http.Server, ln net.Listener) error {
	logger := a.o.Logger.With("component", "web")
	// The server's own errors (TLS handshakes that fail, for one) go to
	// alertd's log rather than to the standard logger.
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	file := a.o.WebConfigFile
	return web.Serve(ln, srv, &web.FlagConfig{WebConfigFile: &file}, logger)
}
