package api

import (
	"errors"
	"net/http"

	oaerrors "github.com/go-openapi/errors"
)

// Request body limits. Alertmanager sets none; these are far above what
// its clients send, so nothing that works against Alertmanager is refused,
// while a runaway or hostile client cannot make alertd buffer an unbounded
// body. A body over its limit is answered 413 with go-openapi's
// {"code","message"} body, and nothing of it is stored.
const (
	// MaxAlertsBodyBytes bounds a POST /api/v2/alerts body: 32 MiB. A
	// batch of 1,000 alerts with a dozen labels and annotations each is
	// about 1 MiB; Prometheus sends at most 256 alerts a request by
	// default.
	MaxAlertsBodyBytes = 32 << 20
	// MaxSilenceBodyBytes bounds a POST /api/v2/silences body (one
	// silence): 1 MiB.
	MaxSilenceBodyBytes = 1 << 20
)

// limitBody bounds r's body to limit bytes. A body whose declared length
// is already over it is answered 413 at once and limitBody returns false;
// otherwise reading past the limit fails with *http.MaxBytesError, which
// decodeBody answers 413.
func limitBody(w http.ResponseWriter, r *http.Request, limit int64) bool {
	if r.ContentLength > limit {
		serveTooLarge(w, r, limit)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return true
}

// tooLarge answers 413 and returns true if err is a body read past its
// limit.
func tooLarge(w http.ResponseWriter, r *http.Request, err error) bool {
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		return false
	}
	serveTooLarge(w, r, mbe.Limit)
	return true
}

func serveTooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	oaerrors.ServeError(w, r, oaerrors.New(http.StatusRequestEntityTooLarge,
		"request body too large: the limit of %s %s is %d bytes", r.Method, r.URL.Path, limit))
}

// errReader is a reader that fails with err: what is left of a body whose
// read failed, so that a second decoding sees the same error.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
