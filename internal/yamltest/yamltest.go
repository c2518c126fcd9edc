// Package yamltest helps tests write fuzzed strings into YAML documents.
// It is imported by _test.go files only.
package yamltest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidUTF8 replaces invalid bytes, which a YAML file cannot hold.
func ValidUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// Quote returns s as a double-quoted YAML scalar, escaping every rune but
// printable ASCII.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == utf8.RuneError:
			b.WriteString(`\uFFFD`)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
