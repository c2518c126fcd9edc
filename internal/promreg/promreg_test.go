package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterReusesTheRegisteredCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "alertd_test_total", Help: "A test counter."}
	first, err := Register(reg, prometheus.NewCounter(opts))
	if err != nil {
		t.Fatal(err)
	}
	first.Inc()
	second, err := Register(reg, prometheus.NewCounter(opts))
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Error("a second registration did not return the registered counter")
	}
	if _, err := Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "alertd_test_total", Help: "Another type."})); err == nil {
		t.Error("a clashing collector of another type was accepted")
	}
	if c, err := Register[prometheus.Counter](nil, first); err != nil || c != first {
		t.Errorf("nil registerer: %v %v", c, err)
	}
}
