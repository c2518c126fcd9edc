package notify

import (
	"errors"
	"net/url"
)

// CheckURL validates a URL that carries a secret (a webhook's, Slack's
// incoming webhook) without ever showing it: it must parse and be http or
// https with a host.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("invalid url (check that userinfo is percent-escaped)")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("scheme must be http or https")
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

// RedactedURL returns the form of a secret URL that errors and logs may
// show: scheme://host/<redacted>.
func RedactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "<redacted>"
	}
	return u.Scheme + "://" + u.Host + "/<redacted>"
}

// RedactURL returns err with every secret part of the URL s — the URL
// itself, its path, its query and its password — replaced, should anything
// (the HTTP client quoting the URL, a response body echoing the request)
// have put one in its text. See Redact.
func RedactURL(err error, s string) error {
	secrets := []string{s}
	if u, perr := url.Parse(s); perr == nil {
		secrets = append(secrets, u.RawQuery, u.EscapedPath(), u.Path)
		if pw, ok := u.User.Password(); ok {
			secrets = append(secrets, pw)
		}
	}
	return Redact(err, secrets...)
}
