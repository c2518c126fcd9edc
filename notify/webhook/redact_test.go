package webhook_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/alertd/alertd/notify"
	"github.com/alertd/alertd/notify/webhook"
)

// The secret parts of the test URLs.
var secrets = []string{"S3CR3T", "T0K3N", "pa55"}

func checkNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s shows the secret %q: %s", what, s, text)
		}
	}
}

// TestURLNeverShown: however a webhook fails, neither the error Notify
// returns nor the logs show the URL's path, query or password.
func TestURLNeverShown(t *testing.T) {
	echo := func(code int) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			// A receiver that echoes the request in its error.
			http.Error(w, "no such hook: "+r.URL.String(), code)
		}
	}
	hang := func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	closedPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		return addr
	}
	const secretPath = "/hooks/S3CR3T?token=T0K3N"
	for _, tc := range []struct {
		name    string
		respond func(w http.ResponseWriter, r *http.Request)
		// url builds the webhook URL from the receiver's host:port;
		// urlFile puts it in a url_file instead.
		url      func(t *testing.T, hostport string) string
		urlFile  bool
		timeout  time.Duration
		deadline time.Duration
		wantErr  string // a part of the error that must be there
	}{
		{name: "5xx echoing the URL", respond: echo(http.StatusBadGateway), deadline: time.Second, wantErr: "unexpected status code 502: no such hook: <redacted>"},
		{name: "4xx echoing the URL", respond: echo(http.StatusNotFound), deadline: time.Second, wantErr: "unexpected status code 404"},
		{name: "userinfo", respond: echo(http.StatusForbidden), deadline: time.Second,
			url: func(_ *testing.T, hp string) string { return "http://user:pa55@" + hp + secretPath }, wantErr: "unexpected status code 403"},
		{name: "connection refused", deadline: time.Second,
			url:     func(t *testing.T, _ string) string { return "http://" + closedPort(t) + secretPath },
			wantErr: "/<redacted>"},
		{name: "request timeout", respond: hang, timeout: 100 * time.Millisecond, deadline: time.Second, wantErr: "configured webhook timeout reached"},
		{name: "flush deadline", respond: hang, deadline: 300 * time.Millisecond, wantErr: "context deadline exceeded"},
		{name: "url_file", respond: echo(http.StatusInternalServerError), urlFile: true, deadline: time.Second, wantErr: "unexpected status code 500"},
		{name: "url_file with a bad scheme", urlFile: true, deadline: time.Second,
			url: func(_ *testing.T, hp string) string { return "ftp://" + hp + secretPath }, wantErr: "url_file: url: scheme must be http or https"},
		{name: "url_file that does not parse", urlFile: true, deadline: time.Second,
			url: func(_ *testing.T, _ string) string { return "http://user:pa55/S3CR3T@host/" }, wantErr: "url_file: url: invalid"},
	} {
		for _, cl := range clients {
			t.Run(tc.name+"/"+cl.name, func(t *testing.T) {
				rc := newReceiver(t, tc.respond)
				hostport := strings.TrimPrefix(rc.srv.URL, "http://")
				u := "http://" + hostport + secretPath
				if tc.url != nil {
					u = tc.url(t, hostport)
				}
				c := webhook.Config{URL: u, SendResolved: true, Timeout: tc.timeout, HTTPConfig: cl.config}
				if tc.urlFile {
					c.URLFile = filepath.Join(t.TempDir(), "url")
					if err := os.WriteFile(c.URLFile, []byte(u+"\n"), 0o600); err != nil {
						t.Fatal(err)
					}
					c.URL = ""
				}
				var logs lockedBuffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				err := send(t, c, logger, tc.deadline, goldenNotification())
				if err == nil {
					t.Fatal("Notify succeeded")
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q, want it to contain %q", err, tc.wantErr)
				}
				checkNoSecret(t, "the error", err.Error())
				checkNoSecret(t, "the log output", logs.String())
			})
		}
	}
}

func TestBuildErrorsNeverShowTheURL(t *testing.T) {
	for _, tc := range []struct {
		name, url, wantErr string
	}{
		{"bad scheme", "ftp://host/S3CR3T", "scheme must be http or https"},
		{"no host", "http:///S3CR3T", "no host"},
		{"does not parse", "http://user:pa55/S3CR3T@host:x/", "url: invalid"},
		{"template", "http://host/{{ .S3CR3T }}", "templates in the url are not supported yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.New(0, webhook.Config{URL: tc.url}, webhook.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			checkNoSecret(t, "the error", err.Error())
		})
	}
}

func TestBuilder(t *testing.T) {
	cfg, err := amconfig.Load(`
global:
  http_config:
    follow_redirects: false
route: {receiver: team-x}
receivers:
  - name: team-x
    webhook_configs:
      - url: http://127.0.0.1:1/hooks/S3CR3T
      - url_file: /run/secrets/hook
        send_resolved: false
        max_alerts: 5
        timeout: 10s
  - name: broken
    webhook_configs:
      - url: http://127.0.0.1:1/hooks/S3CR3T
        payload: {text: hi}
`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = notify.BuildReceivers(cfg, notify.BuildOptions{Webhook: webhook.Builder(webhook.Options{})})
	if want := `receiver "broken": webhook_configs[0]: payload is not supported yet`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	cfg.Receivers = cfg.Receivers[:1]
	rcvs, err := notify.BuildReceivers(cfg, notify.BuildOptions{Webhook: webhook.Builder(webhook.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ig := range rcvs["team-x"] {
		got = append(got, fmt.Sprintf("%s[%d] send_resolved=%v", ig.Name(), ig.Index(), ig.SendResolved()))
	}
	want := "webhook[0] send_resolved=true webhook[1] send_resolved=false"
	if strings.Join(got, " ") != want {
		t.Errorf("integrations %v, want %s", got, want)
	}
}
