package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/alertd/alertd/internal/testenv"
)

// TestRunWebConfigFile checks --web.config.file: a bad file stops alertd
// before it starts, with exit code 1 and an error naming the file; a good
// one with basic_auth_users makes every path ask for the password.
func TestRunWebConfigFile(t *testing.T) {
	t.Run("bad", func(t *testing.T) {
		cfgPath, _ := writeConfig(t, goodConfig, goodRules)
		webFile := filepath.Join(filepath.Dir(cfgPath), "web.yml")
		writeFile(t, webFile, "basic_auth_users:\n  alice: not-a-hash\n")
		var stdout, stderr testenv.SyncBuffer
		code := Main(t.Context(), append(runArgs(cfgPath, "127.0.0.1:0"), "--web.config.file="+webFile), &stdout, &stderr)
		if code != 1 {
			t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, stderr.String())
		}
		for _, w := range []string{"cannot start", webFile, "not a bcrypt hash"} {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("stderr does not contain %q:\n%s", w, stderr.String())
			}
		}
		if strings.Contains(stderr.String(), "not-a-hash") || strings.Contains(stderr.String(), "alertd started") {
			t.Errorf("stderr:\n%s", stderr.String())
		}
	})

	t.Run("basic auth", func(t *testing.T) {
		prom := emptyDatasource(t)
		cfgPath, _ := writeConfig(t, "datasource:\n  url: "+prom.URL+"\nrule_files: [rules.yml]\n", goodRules)
		hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		webFile := filepath.Join(filepath.Dir(cfgPath), "web.yml")
		writeFile(t, webFile, "basic_auth_users:\n  alice: "+string(hash)+"\n")
		addr := freeAddr(t)
		done, stderr, cancel := startMain(t, append(runArgs(cfgPath, addr), "--web.config.file="+webFile))
		client := &http.Client{Timeout: 2 * time.Second}
		get := func(user, password string) (int, error) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/-/ready", nil)
			if err != nil {
				t.Fatal(err)
			}
			if user != "" {
				req.SetBasicAuth(user, password)
			}
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			_ = resp.Body.Close()
			return resp.StatusCode, nil
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, err := get("alice", "pw")
			if err == nil && code == http.StatusOK {
				break
			}
			select {
			case code := <-done:
				t.Fatalf("alertd exited with %d\nstderr:\n%s", code, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("not ready within 10s (last %d, %v)\nstderr:\n%s", code, err, stderr.String())
			}
		}
		for _, c := range []struct{ user, password string }{{"", ""}, {"alice", "wrong"}} {
			if code, err := get(c.user, c.password); err != nil || code != http.StatusUnauthorized {
				t.Errorf("user %q password %q: %d %v, want 401", c.user, c.password, code, err)
			}
		}
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit code %d\nstderr:\n%s", code, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("alertd did not stop")
		}
		if strings.Contains(stderr.String(), string(hash)) {
			t.Errorf("the log holds the password hash:\n%s", stderr.String())
		}
	})
}
