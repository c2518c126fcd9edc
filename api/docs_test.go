package api_test

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertd/alertd/api"
)

const apiDoc = "../docs/api.md"

var docRoute = regexp.MustCompile("^\\| (GET|POST|PUT|DELETE|any) \\| `(/[^`]*)` \\|")

// TestAPIDocListsEveryRoute checks the route table of docs/api.md against
// the patterns the API registers with every part switched on: every route
// is documented with its method, and every documented route exists.
func TestAPIDocListsEveryRoute(t *testing.T) {
	h := api.New(api.Options{
		Gatherer:     prometheus.NewRegistry(),
		Alertmanager: &api.AlertmanagerOptions{},
		UI:           http.NotFoundHandler(),
	})
	var registered []string
	for _, p := range api.Patterns(h) {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = "any", p
		}
		// "/{$}" is the root path alone.
		registered = append(registered, method+" "+strings.TrimSuffix(path, "{$}"))
	}
	if len(registered) < 20 {
		t.Fatalf("only %d routes registered: %v", len(registered), registered)
	}

	b, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if m := docRoute.FindStringSubmatch(line); m != nil {
			documented = append(documented, m[1]+" "+m[2])
		}
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("%s: route %q is not in the route table", apiDoc, r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("%s: the route table lists %q, which the API does not register", apiDoc, d)
		}
	}
}
