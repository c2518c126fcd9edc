package web_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/alertd/alertd/web"
)

func serve(t *testing.T, h http.Handler, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandler(t *testing.T) {
	h := web.Handler()
	for _, tc := range []struct {
		path, contentType string
	}{
		{"/", "text/html; charset=utf-8"},
		{"/static/js/main.js", "text/javascript; charset=utf-8"},
		{"/static/style.css", "text/css; charset=utf-8"},
		{"/static/favicon.svg", "image/svg+xml"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := serve(t, h, tc.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			hdr := rec.Header()
			if got := hdr.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			csp := hdr.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if hdr.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			etag := hdr.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			again := serve(t, h, tc.path, http.Header{"If-None-Match": {etag}})
			if again.Code != http.StatusNotModified {
				t.Errorf("with If-None-Match: %d, want 304", again.Code)
			}
		})
	}
	for _, p := range []string{"/nope", "/static/", "/static/nope.js", "/static/index.html", "/static/../web.go"} {
		if rec := serve(t, h, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
}

// TestAssetsAreSelfContained reads the assets as the browser would: every
// file index.html and the modules refer to is embedded (relative paths, so
// that a path prefix works), nothing comes from another origin, and no
// script inserts HTML, so that labels and annotations are always text.
func TestAssetsAreSelfContained(t *testing.T) {
	root := os.DirFS("static")
	files := map[string]string{}
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h := web.Handler()
	for p := range files {
		if p == "index.html" {
			continue
		}
		if rec := serve(t, h, "/static/"+p, nil); rec.Code != http.StatusOK {
			t.Errorf("static/%s is not served: %d", p, rec.Code)
		}
	}

	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`)
	for _, m := range refs.FindAllStringSubmatch(files["index.html"], -1) {
		ref := m[1]
		if strings.HasPrefix(ref, "/") || strings.Contains(ref, "//") {
			t.Errorf("index.html refers to %q: only relative paths under static/ work behind a prefix", ref)
			continue
		}
		if _, ok := files[strings.TrimPrefix(ref, "static/")]; !ok {
			t.Errorf("index.html refers to %q, which is not embedded", ref)
		}
	}
	imports := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*from\s+'([^']+)'`)
	forbidden := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function`)
	for p, src := range files {
		if (strings.Contains(src, "http://") && p != "favicon.svg") || strings.Contains(src, "https://") {
			t.Errorf("%s refers to another origin", p)
		}
		if !strings.HasSuffix(p, ".js") {
			continue
		}
		for _, m := range imports.FindAllStringSubmatch(src, -1) {
			dep := path.Join(path.Dir(p), m[1])
			if !strings.HasPrefix(m[1], "./") {
				t.Errorf("%s imports %q: only relative modules", p, m[1])
			} else if _, ok := files[dep]; !ok {
				t.Errorf("%s imports %q, which is not embedded", p, m[1])
			}
		}
		if loc := forbidden.FindString(src); loc != "" {
			t.Errorf("%s uses %s: insert API values as text", p, loc)
		}
	}
}
