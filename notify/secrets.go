package notify

import (
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// ReadSecretFile returns the content of the file of a *_file secret
// (url_file, routing_key_file, auth_password_file, …), trimmed of
// surrounding whitespace. Integrations read it at every notification, so
// that a secret can be rotated without a reload. Its error names field,
// never the content.
func ReadSecretFile(file, field string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", field, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// TruncateRunes is Alertmanager's notify.TruncateInRunes: s cut to n runes,
// the last one replaced by "…" when s is longer. It reports whether it cut.
func TruncateRunes(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	r := []rune(s)
	if n <= 3 {
		return string(r[:n]), true
	}
	return string(r[:n-1]) + "…", true
}
