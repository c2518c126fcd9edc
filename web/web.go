package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy allows the UI's own scripts, styles and API calls
// and nothing else: no inline script, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the types of the UI's files, fixed here rather than
// read from the system's MIME tables, which vary (a module script must be
// served as JavaScript or the browser refuses it).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// asset is one embedded file, read once.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// UI serves the web UI: index.html at "/" and the assets under
// "/static/". Other paths are 404.
type UI struct {
	assets map[string]asset // by path under static/
}

var _ http.Handler = (*UI)(nil)

// Handler returns the UI's handler. It reads the embedded files once.
func Handler() *UI {
	u := &UI{assets: map[string]asset{}}
	// The embedded tree is fixed at build time: a read error is a bug of
	// the build, not of the input, and leaves that file 404.
	_ = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(b)
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = http.DetectContentType(b)
		}
		u.assets[strings.TrimPrefix(p, "static/")] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return u
}

// ServeHTTP implements http.Handler.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := "index.html"
	if r.URL.Path != "/" {
		rest, ok := strings.CutPrefix(r.URL.Path, "/static/")
		if !ok || rest == "index.html" {
			http.NotFound(w, r)
			return
		}
		name = rest
	}
	a, ok := u.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	// Revalidated on every load (a 304 when unchanged): an upgraded
	// alertd never serves yesterday's script.
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
