package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReplaceSection(t *testing.T) {
	const section = "## Side by side (make bench-peers)\n\nHow to run it.\n\n"
	for _, tc := range []struct {
		name, doc, body, want, wantErr string
	}{
		{
			name: "replaces what is between the markers, keeps the rest",
			doc:  "# Benchmarks\n\n" + section + beginMarker + "\nold\nfigures\n" + endMarker + "\n\nAfter.\n",
			body: "new figures",
			want: "# Benchmarks\n\n" + section + beginMarker + "\nnew figures\n" + endMarker + "\n\nAfter.\n",
		},
		{
			name: "empty between the markers",
			doc:  "x\n" + beginMarker + "\n" + endMarker + "\n",
			body: "a\n\n\n",
			want: "x\n" + beginMarker + "\na\n" + endMarker + "\n",
		},
		{
			name: "no markers: a new section at the end",
			doc:  "# Benchmarks\n\nText.\n\n\n",
			body: "figures",
			want: "# Benchmarks\n\nText.\n\n" + sectionHeading + "\n\n" + beginMarker + "\nfigures\n" + endMarker + "\n",
		},
		{
			name: "empty file",
			body: "figures",
			want: sectionHeading + "\n\n" + beginMarker + "\nfigures\n" + endMarker + "\n",
		},
		{
			name:    "end before begin",
			doc:     "a\n" + endMarker + "\nb\n" + beginMarker + "\n",
			wantErr: "at line 2 comes before " + beginMarker + " at line 4",
		},
		{
			name:    "begin alone",
			doc:     "a\n" + beginMarker + "\n",
			wantErr: "1 " + beginMarker + " and 0 " + endMarker,
		},
		{
			name:    "repeated",
			doc:     beginMarker + "\n" + endMarker + "\n" + beginMarker + "\n" + endMarker + "\n",
			wantErr: "2 " + beginMarker + " and 2 " + endMarker,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := replaceSection(tc.doc, tc.body)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			again, err := replaceSection(got, tc.body)
			if err != nil || again != got {
				t.Errorf("replacing again changed the document: %v\n%s", err, again)
			}
		})
	}
}

func TestWriteSection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "benchmarks.md")
	if err := writeSection(path, "first"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(mustRead(t, path), "\nAfter.\n"...), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, "second"); err != nil {
		t.Fatal(err)
	}
	want := sectionHeading + "\n\n" + beginMarker + "\nsecond\n" + endMarker + "\n\nAfter.\n"
	if diff := cmp.Diff(want, string(mustRead(t, path))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v; want 0640 kept", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1: a temporary file was left", len(entries))
	}

	if err := os.WriteFile(path, []byte(endMarker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := writeSection(path, "third")
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one naming %s", err, path)
	}
	if got := string(mustRead(t, path)); got != endMarker+"\n" {
		t.Errorf("a failed write changed the file: %q", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
