// Package web is alertd's web UI: a small single-page application of plain
// HTML, CSS and JavaScript modules, embedded in the binary (no CDN, no
// build step), that reads alertd's own JSON APIs from the browser. It
// shows the rule groups and rules, the alerts, the aggregation groups per
// receiver, the silences (with a form that previews the alerts a silence
// would mute) and the notification history.
//
// The pages are routed in the URL's fragment (#/alerts, #/silences/new,
// ...) and the assets and API paths are relative, so the UI works behind
// a reverse proxy that serves alertd under a path prefix. Every response
// carries a Content-Security-Policy that allows only alertd's own scripts,
// styles and API: labels and annotations are untrusted text, which the
// scripts insert as text, never as HTML.
//
// It imports nothing of alertd's own; package api mounts Handler.
package web
