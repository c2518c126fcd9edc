package datasource_test

import (
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/config"

	"github.com/alertd/alertd/eval/datasource"
)

// TestQueryThroughProxy checks that http_config.proxy_url is used: the
// query reaches the datasource through a forward proxy, with the proxy's
// own credentials on the way.
func TestQueryThroughProxy(t *testing.T) {
	backend := serve(t, success(`{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1,"1"]}]}`))
	var proxied atomic.Int64
	var proxyAuth atomic.Value
	proxy := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		proxied.Add(1)
		proxyAuth.Store(r.Header.Get("Proxy-Authorization"))
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		out.Header.Del("Proxy-Authorization")
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
	proxyURL, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxyURL.User = url.UserPassword("pu", "pp")
	hc := config.DefaultHTTPClientConfig
	hc.ProxyURL = config.URL{URL: proxyURL}
	c := newClient(t, datasource.Options{URL: backend.URL, Timeout: 5 * time.Second, HTTPConfig: hc})
	v, err := c.Query(t.Context(), "up", time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 1 || v[0].Metric.Get("job") != "a" {
		t.Errorf("got %v", v)
	}
	if proxied.Load() != 1 {
		t.Errorf("%d requests went through the proxy, want 1", proxied.Load())
	}
	if got, _ := proxyAuth.Load().(string); got == "" {
		t.Error("no Proxy-Authorization header reached the proxy")
	}
}
