package alertload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alertd/alertd/bench/internal/proc"
)

// Sink is the webhook receiver of both systems: it counts the alerts
// each path receives.
type Sink struct {
	mu       sync.Mutex
	counters map[string]*counter
}

// NewSink returns a Sink that counts nothing yet.
func NewSink() *Sink { return &Sink{counters: map[string]*counter{}} }

// expect starts counting the alerts sent to /path; the counter's wait
// returns once want distinct alerts have arrived.
func (s *Sink) expect(path string, want int) *counter {
	c := &counter{want: want, seen: make(map[string]struct{}, want), done: make(chan struct{})}
	s.mu.Lock()
	s.counters[path] = c
	s.mu.Unlock()
	return c
}

// ServeHTTP counts the alerts of a webhook message sent to a path being
// counted.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if status, msg := s.receive(now, r.URL.Path, buf.Bytes()); status != http.StatusOK {
		http.Error(w, msg, status)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// receive counts the alerts of body, a webhook message received at now
// for path, and returns the answer's status and text.
func (s *Sink) receive(now time.Time, path string, body []byte) (int, string) {
	s.mu.Lock()
	c := s.counters[strings.TrimPrefix(path, "/")]
	s.mu.Unlock()
	if c == nil {
		return http.StatusNotFound, "404 page not found"
	}
	instances, err := alertInstances(body)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	c.add(now, instances)
	return http.StatusOK, ""
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// alertInstances returns the instance label of each alert of a webhook
// message. The sink runs on the same two cores as the system measured, so
// it scans the bytes rather than decoding the JSON: both systems write the
// alerts array before groupLabels and the label as "instance":"<value>"
// (the values are i<n>). A message of another shape, or with an escape
// before groupLabels, is decoded in full.
func alertInstances(b []byte) ([]string, error) {
	const key = `"instance":"`
	end := bytes.Index(b, []byte(`"groupLabels":`))
	if end < 0 || bytes.IndexByte(b[:end], '\\') >= 0 {
		var m struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		out := make([]string, len(m.Alerts))
		for i, a := range m.Alerts {
			out[i] = a.Labels["instance"]
		}
		return out, nil
	}
	var out []string
	for rest := b[:end]; ; {
		i := bytes.Index(rest, []byte(key))
		if i < 0 {
			return out, nil
		}
		rest = rest[i+len(key):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			return nil, errors.New("unterminated instance label")
		}
		out = append(out, string(rest[:j]))
		rest = rest[j:]
	}
}

// counter counts the alerts of one system.
type counter struct {
	want int
	done chan struct{} // closed when want distinct alerts have arrived

	mu       sync.Mutex
	n        int
	requests int
	seen     map[string]struct{}
	last     time.Time
}

func (c *counter) add(now time.Time, instances []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if len(instances) == 0 {
		return
	}
	before := len(c.seen)
	c.n += len(instances)
	for _, in := range instances {
		c.seen[in] = struct{}{}
	}
	if now.After(c.last) {
		c.last = now
	}
	if before < c.want && len(c.seen) >= c.want {
		close(c.done)
	}
}

func (c *counter) state() (n, distinct, requests int, last time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, len(c.seen), c.requests, c.last
}

// wait returns when every alert has arrived or deadline has passed (nil
// both), or with an error when ctx ends or process pid is gone.
func (c *counter) wait(ctx context.Context, deadline time.Time, pid int) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil // reported as incomplete
			}
			return ctx.Err()
		case <-tick.C:
			if !proc.Running(pid) {
				n, distinct, _, _ := c.state()
				return fmt.Errorf("process %d exited after %d alerts (%d distinct) were delivered", pid, n, distinct)
			}
		}
	}
}
