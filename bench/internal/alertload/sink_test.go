package alertload

import (
	"slices"
	"testing"
)

func TestAlertInstances(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want []string
	}{
		{"webhook message", `{"receiver":"sink","status":"firing","alerts":[` +
			`{"status":"firing","labels":{"alertname":"Load","group":"g1","instance":"i1"},"annotations":{}},` +
			`{"status":"firing","labels":{"alertname":"Load","group":"g1","instance":"i10001"},"annotations":{}}],` +
			`"groupLabels":{"group":"g1"},"commonLabels":{"alertname":"Load","group":"g1","instance":"i1"},"version":"4","groupKey":"{}:{group=\"g1\"}"}`,
			[]string{"i1", "i10001"}},
		{"no alerts", `{"alerts":[],"groupLabels":{},"commonLabels":{"instance":"i1"}}`, nil},
		{"escapes: decoded", `{"alerts":[{"labels":{"instance":"a\"b"}}],"groupLabels":{}}`, []string{`a"b`}},
		{"other shape: decoded", `{"alerts":[{"labels":{"instance":"i2"}}]}`, []string{"i2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := alertInstances([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := alertInstances([]byte(`{"alerts":[`)); err == nil {
		t.Error("a truncated body: no error")
	}
}
