package datasource

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
)

// vectorBody renders a vector reply of n series shaped like
// kube-state-metrics/node-exporter series: eight labels, as Prometheus
// formats them.
func vectorBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{"__name__":"container_memory_working_set_bytes","container":"app-%d","endpoint":"https-metrics",`+
			`"instance":"10.0.%d.%d:10250","job":"kubelet","namespace":"team-%d","node":"node-%d","pod":"app-%d-7c9f8d6b5-x2k4q"},`+
			`"value":[1700000000.123,"%d.5"]}`, i%7, i/256%256, i%256, i%40, i%300, i, 100000+i)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

// BenchmarkDecodeVector decodes a vector reply from memory, reporting the
// cost per series as well as per reply.
func BenchmarkDecodeVector(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			body := vectorBody(n)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				vec, err := decodeVector(bytes.NewReader(body))
				if err != nil || len(vec) != n {
					b.Fatalf("got %d series, %v", len(vec), err)
				}
			}
			runtime.ReadMemStats(&after)
			series := float64(b.N) * float64(n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/series, "ns/series")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/series, "allocs/series")
		})
	}
}
