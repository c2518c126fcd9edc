package silences

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alertd/alertd/store"
)

// openStore opens a store in dir and closes it when the test ends.
func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// cmpSilences compares silences by their fields and matchers' text.
var cmpSilences = cmp.Comparer(func(a, b *Silence) bool {
	return a.ID == b.ID && a.Matchers.String() == b.Matchers.String() &&
		a.StartsAt.Equal(b.StartsAt) && a.EndsAt.Equal(b.EndsAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.CreatedBy == b.CreatedBy && a.Comment == b.Comment
})

// TestPersistence checks that a new Silences on the same directory has
// every silence as it was: created, updated in place, replaced, expired.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	st := openStore(t, dir)
	s, err := New(Options{Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	active := mustSet(t, s, &Silence{Matchers: matchers(t, `alertname="Down"`, `job=~"api|web"`), EndsAt: t0.Add(2 * time.Hour), CreatedBy: "ann", Comment: "deploy"})
	pending := mustSet(t, s, &Silence{Matchers: matchers(t, `severity=~"warn.*"`, `a=""`), StartsAt: t0.Add(time.Hour), EndsAt: t0.Add(3 * time.Hour), CreatedBy: "bob"})
	toExpire := mustSet(t, s, &Silence{Matchers: matchers(t, `instance=~"host-.*"`), EndsAt: t0.Add(time.Hour), Comment: "ünïcödé \"quoted\"\n"})
	replaced := mustSet(t, s, &Silence{Matchers: matchers(t, `x="1"`), EndsAt: t0.Add(3 * time.Hour)})
	c.Add(time.Minute + 123*time.Nanosecond)

	upd := mustGet(t, s, active)
	upd.Comment = "deploy, extended"
	upd.EndsAt = upd.EndsAt.Add(time.Hour)
	if id := mustSet(t, s, upd); id != active {
		t.Fatalf("update in place changed the ID")
	}
	rep := mustGet(t, s, replaced)
	rep.Matchers = matchers(t, `x="2"`)
	replacement := mustSet(t, s, rep)
	if err := s.Expire(toExpire); err != nil {
		t.Fatal(err)
	}
	want := s.List()
	if len(want) != 5 {
		t.Fatalf("%d silences, want 5", len(want))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := New(Options{Store: openStore(t, dir), Now: c.Now})
	if err != nil {
		t.Fatalf("New on the same directory: %v", err)
	}
	if diff := cmp.Diff(want, s2.List(), cmpSilences); diff != "" {
		t.Errorf("silences after reopening (-before +after):\n%s", diff)
	}
	// Matching works on what was loaded.
	c.Add(time.Hour)
	for _, tc := range []struct {
		lset []string
		want []string
	}{
		{lset: []string{"alertname", "Down", "job", "web"}, want: []string{active}},
		{lset: []string{"severity", "warning"}, want: []string{pending}},
		{lset: []string{"x", "2"}, want: []string{replacement}},
		{lset: []string{"x", "1", "instance", "host-1", "severity", "critical"}},
	} {
		if diff := cmp.Diff(tc.want, s2.Mutes(labelsOf(tc.lset...))); diff != "" {
			t.Errorf("Mutes(%v) after reopening (-want +got):\n%s", tc.lset, diff)
		}
	}
}

// TestPersistedBeforeReturn checks that a failed write leaves memory
// unchanged: Set and Expire report the error and change nothing.
func TestPersistedBeforeReturn(t *testing.T) {
	c := newClock()
	st := openStore(t, t.TempDir())
	s, err := New(Options{Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	id := mustSet(t, s, &Silence{Matchers: matchers(t, `a="b"`), EndsAt: t0.Add(time.Hour)})
	want := s.List()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(&Silence{Matchers: matchers(t, `a="c"`), EndsAt: t0.Add(time.Hour)}); err == nil {
		t.Error("Set on a closed store succeeded")
	}
	upd := mustGet(t, s, id)
	upd.Matchers = matchers(t, `a="d"`)
	if _, err := s.Set(upd); err == nil {
		t.Error("replacing Set on a closed store succeeded")
	}
	if err := s.Expire(id); err == nil {
		t.Error("Expire on a closed store succeeded")
	}
	c.Add(200 * time.Hour)
	if _, err := s.GC(); err == nil {
		t.Error("GC on a closed store succeeded")
	}
	if diff := cmp.Diff(want, s.List(), cmpSilences); diff != "" {
		t.Errorf("silences changed by failed writes (-want +got):\n%s", diff)
	}
}

// TestGC checks retention: a silence is deleted from memory and store
// once EndsAt plus the retention is not after now.
func TestGC(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	st := openStore(t, dir)
	s, err := New(Options{Store: st, Now: c.Now, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	short := mustSet(t, s, &Silence{Matchers: matchers(t, `a="b"`), EndsAt: t0.Add(time.Hour)})
	long := mustSet(t, s, &Silence{Matchers: matchers(t, `a="c"`), EndsAt: t0.Add(3 * time.Hour)})

	c.Set(t0.Add(2*time.Hour - time.Nanosecond))
	if n, err := s.GC(); n != 0 || err != nil {
		t.Fatalf("GC just before retention: %d, %v; want 0", n, err)
	}
	c.Set(t0.Add(2 * time.Hour))
	if n, err := s.GC(); n != 1 || err != nil {
		t.Fatalf("GC at retention: %d, %v; want 1", n, err)
	}
	if _, err := s.Get(short); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a collected silence: %v, want ErrNotFound", err)
	}
	if err := s.Expire(short); !errors.Is(err, ErrNotFound) {
		t.Errorf("Expire of a collected silence: %v, want ErrNotFound", err)
	}
	if v, err := st.Get(Bucket, short); v != nil || err != nil {
		t.Errorf("collected silence still in the store: %s, %v", v, err)
	}
	if v, err := st.Get(Bucket, long); v == nil || err != nil {
		t.Errorf("kept silence missing from the store: %v", err)
	}
}

// TestLoadSkipsPastRetention checks that New drops, and deletes from the
// store, silences that are past retention when it starts.
func TestLoadSkipsPastRetention(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	st := openStore(t, dir)
	s, err := New(Options{Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	old := mustSet(t, s, &Silence{Matchers: matchers(t, `a="b"`), EndsAt: t0.Add(time.Hour)})
	kept := mustSet(t, s, &Silence{Matchers: matchers(t, `a="c"`), EndsAt: t0.Add(10 * time.Hour)})

	c.Set(t0.Add(time.Hour + DefaultRetention))
	s2, err := New(Options{Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sil := range s2.List() {
		got = append(got, sil.ID)
	}
	if diff := cmp.Diff([]string{kept}, got); diff != "" {
		t.Errorf("loaded silences (-want +got):\n%s", diff)
	}
	if v, err := st.Get(Bucket, old); v != nil || err != nil {
		t.Errorf("silence past retention still in the store: %s, %v", v, err)
	}
}

// TestLoadCorrupt checks that a record New cannot read is an error naming
// its key.
func TestLoadCorrupt(t *testing.T) {
	good := `{"version":1,"id":"K","matchers":[{"type":"=","name":"a","value":"b"}],` +
		`"starts_at":"2026-03-01T12:00:00Z","ends_at":"2026-03-01T13:00:00Z","updated_at":"2026-03-01T12:00:00Z"}`
	tests := []struct {
		name, value, wantErr string
	}{
		{name: "valid", value: good},
		{name: "not json", value: "{", wantErr: "unexpected end of JSON input"},
		{name: "unknown version", value: strings.Replace(good, `"version":1`, `"version":2`, 1), wantErr: "unknown format version 2"},
		{name: "no version", value: strings.Replace(good, `"version":1,`, ``, 1), wantErr: "unknown format version 0"},
		{name: "other id", value: strings.Replace(good, `"id":"K"`, `"id":"L"`, 1), wantErr: `record holds silence "L"`},
		{name: "unknown matcher type", value: strings.Replace(good, `"type":"="`, `"type":"=="`, 1), wantErr: `unknown matcher type "=="`},
		{name: "regexp matcher", value: strings.Replace(good, `"type":"="`, `"type":"=~"`, 1)},
		{name: "bad regexp", value: strings.Replace(strings.Replace(good, `"type":"="`, `"type":"=~"`, 1), `"value":"b"`, `"value":"("`, 1), wantErr: "invalid regular expression"},
		{name: "no matchers", value: strings.Replace(good, `{"type":"=","name":"a","value":"b"}`, ``, 1), wantErr: "at least one matcher set required"},
		{name: "zero end", value: strings.Replace(good, `"ends_at":"2026-03-01T13:00:00Z"`, `"ends_at":"0001-01-01T00:00:00Z"`, 1), wantErr: "invalid zero end timestamp"},
		{name: "zero updated", value: strings.Replace(good, `,"updated_at":"2026-03-01T12:00:00Z"`, ``, 1), wantErr: "invalid zero update timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, t.TempDir())
			if err := st.Put(Bucket, "K", []byte(tc.value)); err != nil {
				t.Fatal(err)
			}
			_, err := New(Options{Store: st, Now: newClock().Now})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), `load silence "K": `) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New: %v, want an error naming key \"K\" and containing %q", err, tc.wantErr)
			}
		})
	}
}
