package app_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/alertd/alertd/app"
	"github.com/alertd/alertd/internal/testenv"
)

// minimalConfig is an alertd.yml with no rules and one receiver.
const minimalConfig = "route: {receiver: r}\nreceivers: [{name: r}]\n"

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost,
// and its key, as cert.pem and key.pem in dir, and returns the
// certificate.
func selfSigned(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	cert, certPEM, keyPEM := testenv.SelfSigned(t)
	writeFile(t, filepath.Join(dir, "cert.pem"), certPEM)
	writeFile(t, filepath.Join(dir, "key.pem"), keyPEM)
	return cert.Leaf
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func bcryptHash(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// webApp starts alertd with the web configuration file webConfig in dir,
// logging into logs. It returns the address alertd listens on.
func webApp(t *testing.T, dir, webConfig string, logs io.Writer) string {
	t.Helper()
	cfg := filepath.Join(dir, "alertd.yml")
	writeFile(t, cfg, []byte(minimalConfig))
	a, err := app.New(app.Options{
		ConfigFile:    cfg,
		StoragePath:   filepath.Join(dir, "data"),
		ListenAddress: "127.0.0.1:0",
		ExternalURL:   "https://alertd.test:9095",
		WatchInterval: -1,
		WebConfigFile: webConfig,
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	app.RunForTest(t, a)
	return a.Addr()
}

// client returns an HTTP client that trusts only roots (nil: the system's).
func client(t *testing.T, roots *x509.CertPool) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// call sends a request with basic auth (if user is not empty) and returns
// the response, its body read.
func call(t *testing.T, c *http.Client, method, url, user, password string, body []byte) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// TestWebConfig serves alertd with TLS and basic auth from a web
// configuration file, as Prometheus and Alertmanager read it: requests
// without credentials, with a wrong password or an unknown user are 401
// on every path, /-/healthy included; the right ones are answered; the
// server presents the configured certificate; plain HTTP gets no answer
// from the API; a changed password applies to the next request without a
// restart; and the log never holds the file's contents.
func TestWebConfig(t *testing.T) {
	dir := t.TempDir()
	cert := selfSigned(t, dir)
	hash := bcryptHash(t, "right horse")
	webFile := filepath.Join(dir, "web.yml")
	writeFile(t, webFile, []byte(`tls_server_config:
  cert_file: cert.pem
  key_file: key.pem
basic_auth_users:
  alice: `+hash+`
`))
	var logs testenv.SyncBuffer
	addr := webApp(t, dir, webFile, &logs)
	base := "https://" + addr
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	c := client(t, roots)

	tests := []struct {
		name, method, path, user, password string
		body                               []byte
		code                               int
	}{
		{name: "no credentials", method: "GET", path: "/api/v2/status", code: 401},
		{name: "no credentials healthy", method: "GET", path: "/-/healthy", code: 401},
		{name: "no credentials metrics", method: "GET", path: "/metrics", code: 401},
		{name: "no credentials post alerts", method: "POST", path: "/api/v2/alerts", body: []byte(`[{"labels":{"alertname":"Anonymous"}}]`), code: 401},
		{name: "wrong password", method: "GET", path: "/api/v2/status", user: "alice", password: "wrong horse", code: 401},
		{name: "wrong password reload", method: "POST", path: "/-/reload", user: "alice", password: "wrong horse", code: 401},
		{name: "unknown user", method: "GET", path: "/api/v2/status", user: "bob", password: "right horse", code: 401},
		{name: "right password status", method: "GET", path: "/api/v2/status", user: "alice", password: "right horse", code: 200},
		{name: "right password healthy", method: "GET", path: "/-/healthy", user: "alice", password: "right horse", code: 200},
		{name: "right password ready", method: "GET", path: "/-/ready", user: "alice", password: "right horse", code: 200},
		{name: "right password post alerts", method: "POST", path: "/api/v2/alerts", user: "alice", password: "right horse", body: []byte(`[{"labels":{"alertname":"Authenticated"}}]`), code: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, err := call(t, c, tc.method, base+tc.path, tc.user, tc.password, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code {
				t.Fatalf("%s %s: %d, want %d: %s", tc.method, tc.path, resp.StatusCode, tc.code, body)
			}
			if tc.code == 401 && resp.Header.Get("WWW-Authenticate") != "Basic" {
				t.Errorf("WWW-Authenticate %q, want Basic", resp.Header.Get("WWW-Authenticate"))
			}
			if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 || !resp.TLS.PeerCertificates[0].Equal(cert) {
				t.Errorf("not served over TLS with the configured certificate: %+v", resp.TLS)
			}
		})
	}

	t.Run("only authenticated alerts stored", func(t *testing.T) {
		_, body, err := call(t, c, "GET", base+"/api/v2/alerts", "alice", "right horse", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, "Authenticated") || strings.Contains(body, "Anonymous") {
			t.Errorf("alerts: %s", body)
		}
	})

	t.Run("plain HTTP", func(t *testing.T) {
		resp, body, err := call(t, client(t, nil), "GET", "http://"+addr+"/api/v2/status", "alice", "right horse", nil)
		if err == nil && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: %d %s, want an error or 400", resp.StatusCode, body)
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		_, _, err := call(t, client(t, x509.NewCertPool()), "GET", base+"/-/healthy", "alice", "right horse", nil)
		if _, ok := errors.AsType[*tls.CertificateVerificationError](err); !ok {
			t.Errorf("a client that does not trust the certificate: %v, want a certificate verification error", err)
		}
	})

	t.Run("password changed without restart", func(t *testing.T) {
		writeFile(t, webFile, []byte(`tls_server_config:
  cert_file: cert.pem
  key_file: key.pem
basic_auth_users:
  alice: `+bcryptHash(t, "new horse")+`
`))
		for password, want := range map[string]int{"right horse": 401, "new horse": 200} {
			resp, body, err := call(t, c, "GET", base+"/api/v2/status", "alice", password, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want {
				t.Errorf("password %q after the change: %d, want %d: %s", password, resp.StatusCode, want, body)
			}
		}
	})

	t.Run("log", func(t *testing.T) {
		got := logs.String()
		if !strings.Contains(got, "TLS is enabled") {
			t.Errorf("the log does not say TLS is enabled:\n%s", got)
		}
		for _, secret := range []string{hash, "right horse", "wrong horse", "new horse", "$2a$"} {
			if strings.Contains(got, secret) {
				t.Errorf("the log holds %q:\n%s", secret, got)
			}
		}
	})
}

// TestWebConfigBasicAuthOnly serves plain HTTP with basic auth: a web
// configuration file without tls_server_config.
func TestWebConfigBasicAuthOnly(t *testing.T) {
	dir := t.TempDir()
	webFile := filepath.Join(dir, "web.yml")
	writeFile(t, webFile, []byte("basic_auth_users:\n  alice: "+bcryptHash(t, "pw")+"\n"))
	base := "http://" + webApp(t, dir, webFile, io.Discard)
	c := client(t, nil)
	for _, tc := range []struct {
		user, password string
		code           int
	}{{"", "", 401}, {"alice", "nope", 401}, {"alice", "pw", 200}} {
		resp, body, err := call(t, c, "GET", base+"/api/v2/status", tc.user, tc.password, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.code {
			t.Errorf("user %q password %q: %d, want %d: %s", tc.user, tc.password, resp.StatusCode, tc.code, body)
		}
	}
}

// TestBadWebConfig checks that a bad web configuration file stops alertd
// before it listens, with an error naming the file, and that a password
// written in clear instead of its bcrypt hash is not quoted.
func TestBadWebConfig(t *testing.T) {
	tests := []struct {
		name    string
		content string // "": the file does not exist
		want    string
	}{
		{name: "missing file", want: "no such file"},
		{name: "unknown key", content: "basic_auth_user:\n  alice: x\n", want: "basic_auth_user"},
		{name: "not YAML", content: "tls_server_config: [\n", want: "yaml"},
		{name: "clear password", content: "basic_auth_users:\n  alice: hunter2\n", want: "not a bcrypt hash"},
		{name: "long clear password", content: "basic_auth_users:\n  alice: hunter2" + strings.Repeat("x", 60) + "\n", want: "not a bcrypt hash"},
		{name: "missing certificate", content: "tls_server_config:\n  cert_file: nope.pem\n  key_file: nope-key.pem\n", want: "nope.pem"},
		{name: "key without certificate", content: "tls_server_config:\n  key_file: key.pem\n", want: "cert"},
		{name: "bad client auth", content: "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: Sometimes\n", want: "ClientAuth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			selfSigned(t, dir)
			webFile := filepath.Join(dir, "web.yml")
			if tc.content != "" {
				writeFile(t, webFile, []byte(tc.content))
			}
			cfg := filepath.Join(dir, "alertd.yml")
			writeFile(t, cfg, []byte(minimalConfig))
			a, err := app.New(app.Options{
				ConfigFile:    cfg,
				StoragePath:   filepath.Join(dir, "data"),
				ListenAddress: "127.0.0.1:0",
				WatchInterval: -1,
				WebConfigFile: webFile,
			})
			if err != nil {
				t.Fatal(err)
			}
			runErr := a.Run(t.Context())
			for name, err := range map[string]error{"Run": runErr, "ValidateWebConfig": app.ValidateWebConfig(webFile)} {
				if err == nil {
					t.Fatalf("%s: no error", name)
				}
				for _, w := range []string{webFile, tc.want} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q does not contain %q", name, err, w)
					}
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "'h'") {
					t.Errorf("%s: error %q quotes the password", name, err)
				}
			}
			select {
			case <-a.Started():
				t.Error("alertd started with a bad web config file")
			default:
			}
		})
	}
}
