package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	beginMarker = "<!-- bench-peers:begin -->"
	endMarker   = "<!-- bench-peers:end -->"
	// sectionHeading opens the section a file without the markers gets.
	sectionHeading = "## Side by side (make bench-peers)"
)

// replaceSection returns doc with body between the markers, replacing
// what was there. A doc without the markers gets a new section at its
// end holding them. Markers that are repeated, alone or out of order are an
// error, naming the line.
func replaceSection(doc, body string) (string, error) {
	body = strings.TrimRight(body, "\n") + "\n"
	nb, ne := strings.Count(doc, beginMarker), strings.Count(doc, endMarker)
	if nb == 0 && ne == 0 {
		if doc != "" {
			doc = strings.TrimRight(doc, "\n") + "\n\n"
		}
		return doc + sectionHeading + "\n\n" + beginMarker + "\n" + body + endMarker + "\n", nil
	}
	b, e := strings.Index(doc, beginMarker), strings.Index(doc, endMarker)
	switch {
	case nb != 1 || ne != 1:
		return "", fmt.Errorf("%d %s and %d %s markers (first at line %d), want one of each", nb, beginMarker, ne, endMarker, line(doc, max(b, e)))
	case e < b:
		return "", fmt.Errorf("%s at line %d comes before %s at line %d", endMarker, line(doc, e), beginMarker, line(doc, b))
	}
	return doc[:b] + beginMarker + "\n" + body + doc[e:], nil
}

// line is the 1-based line number of byte offset i of s.
func line(s string, i int) int {
	if i < 0 {
		return 0
	}
	return strings.Count(s[:i], "\n") + 1
}

// writeSection puts body between the markers of the file at path (see
// replaceSection), creating the file if it does not exist. The file is
// replaced at once, so a failed run leaves it as it was.
func writeSection(path, body string) error {
	perm := fs.FileMode(0o644)
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if fi, err := os.Stat(path); err == nil {
			perm = fi.Mode().Perm()
		}
	}
	doc, err := replaceSection(string(old), body)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(doc); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}
