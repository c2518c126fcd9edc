package app

import "net/url"

// The web UI (package web) reads the APIs, plus two endpoints of alertd's
// own that the app feeds: the notification history (a.history, a
// notify.HistoryLog that outlives reloads, persisted in the store) and the
// datasource's URL for the links to its graph page.

// datasourceURL is the running configuration's datasource URL as the UI
// may show it, "" if there is none.
func (a *App) datasourceURL() string {
	cfg := a.cfg.Load()
	if cfg == nil {
		return ""
	}
	return publicURL(cfg.Datasource.URL)
}

// publicURL returns an http(s) URL without what may hold a secret: the
// userinfo (user:password@), the query (?token=...) and the fragment.
// Credentials of datasource.http_config never appear in a URL. Anything
// else gives "".
func publicURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.User = nil
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
