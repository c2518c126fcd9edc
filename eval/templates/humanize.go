package templates

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
)

// The functions in this file append exactly what Prometheus's template
// functions of the same name return (fmt's "%.4g" is strconv's 'g' with
// precision 4; fmt adds nothing without flags or width), without
// allocating.

// appendG4 is fmt.Sprintf("%.4g", v).
func appendG4(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, v, 'g', 4, 64)
}

// appendHumanize is Prometheus's humanize.
func appendHumanize(dst []byte, v float64) []byte {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return appendG4(dst, v)
	}
	if math.Abs(v) >= 1 {
		prefix := ""
		for _, p := range [...]string{"k", "M", "G", "T", "P", "E", "Z", "Y"} {
			if math.Abs(v) < 1000 {
				break
			}
			prefix = p
			v /= 1000
		}
		return append(appendG4(dst, v), prefix...)
	}
	prefix := ""
	for _, p := range [...]string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix = p
		v *= 1000
	}
	return append(appendG4(dst, v), prefix...)
}

// appendHumanize1024 is Prometheus's humanize1024.
func appendHumanize1024(dst []byte, v float64) []byte {
	if math.Abs(v) <= 1 || math.IsNaN(v) || math.IsInf(v, 0) {
		return appendG4(dst, v)
	}
	prefix := ""
	for _, p := range [...]string{"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"} {
		if math.Abs(v) < 1024 {
			break
		}
		prefix = p
		v /= 1024
	}
	return append(appendG4(dst, v), prefix...)
}

// appendHumanizePercentage is Prometheus's humanizePercentage.
func appendHumanizePercentage(dst []byte, v float64) []byte {
	return append(appendG4(dst, v*100), '%')
}

// appendHumanizeDuration is prometheus/common's HumanizeDuration.
func appendHumanizeDuration(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return appendG4(dst, v)
	}
	if v == 0 {
		return append(appendG4(dst, v), 's')
	}
	if math.Abs(v) >= 1 {
		if v < 0 {
			dst = append(dst, '-')
			v = -v
		}
		duration := int64(v)
		seconds := duration % 60
		minutes := (duration / 60) % 60
		hours := (duration / 60 / 60) % 24
		days := duration / 60 / 60 / 24
		// For days to minutes, seconds are an integer.
		switch {
		case days != 0:
			dst = append(strconv.AppendInt(dst, days, 10), "d "...)
			fallthrough
		case hours != 0:
			dst = append(strconv.AppendInt(dst, hours, 10), "h "...)
			fallthrough
		case minutes != 0:
			dst = append(strconv.AppendInt(dst, minutes, 10), "m "...)
			return append(strconv.AppendInt(dst, seconds, 10), 's')
		}
		// For seconds, 4 significant digits.
		return append(appendG4(dst, v), 's')
	}
	prefix := ""
	for _, p := range [...]string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix = p
		v *= 1000
	}
	return append(append(appendG4(dst, v), prefix...), 's')
}

// appendHumanizeTimestamp is prometheus/common's HumanizeTimestamp. It
// fails where that returns an error.
func appendHumanizeTimestamp(dst []byte, v float64) ([]byte, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return appendG4(dst, v), true
	}
	timestamp := v * 1e9
	if timestamp > math.MaxInt64 || timestamp < math.MinInt64 {
		return dst, false
	}
	t := model.TimeFromUnixNano(int64(timestamp)).Time().UTC()
	// fmt.Sprint(*time.Time) is t.String(), which has no monotonic part
	// here.
	return t.AppendFormat(dst, "2006-01-02 15:04:05.999999999 -0700 MST"), true
}

// appendToUpper is strings.ToUpper.
func appendToUpper(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToUpper(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendToLower is strings.ToLower.
func appendToLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
