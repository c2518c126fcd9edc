package api

import (
	"unicode/utf8"

	"github.com/go-openapi/strfmt"

	"github.com/prometheus/prometheus/model/labels"
)

// scanAlerts decodes a POST /api/v2/alerts body without reflection or
// maps, straight into label sets. It is deliberately narrow: only arrays of
// objects with the keys labels, annotations, startsAt, endsAt and
// generatorURL, string values without escapes, each key at most once.
// Anything else makes it give up (ok false) and the caller decodes the
// body with the generated models, so every input keeps their result.
func scanAlerts(b []byte) (out []postedAlert, ok bool) {
	s := scanner{b: b}
	if !s.consume('[') {
		return nil, false
	}
	if s.consume(']') {
		return []postedAlert{}, s.end()
	}
	var sb labels.ScratchBuilder
	for {
		var pa postedAlert
		var seen uint8
		if !s.consume('{') {
			return nil, false
		}
		if !s.consume('}') {
			for {
				key, kok := s.str()
				if !kok || !s.consume(':') {
					return nil, false
				}
				var bit uint8
				switch key {
				case "labels":
					bit = 1
					pa.lbls, ok = s.labelSet(&sb, true)
				case "annotations":
					bit = 2
					pa.anns, ok = s.labelSet(&sb, false)
				case "startsAt":
					bit = 4
					var v string
					if v, ok = s.str(); ok {
						pa.startsAt, ok = fastTime(v)
					}
				case "endsAt":
					bit = 8
					var v string
					if v, ok = s.str(); ok {
						pa.endsAt, ok = fastTime(v)
					}
				case "generatorURL":
					bit = 16
					// The schema's uri format, as the general way checks it.
					if pa.GeneratorURL, ok = s.str(); ok && pa.GeneratorURL != "" {
						ok = strfmt.Default.Validates("uri", pa.GeneratorURL)
					}
				default:
					return nil, false
				}
				if !ok || seen&bit != 0 {
					return nil, false
				}
				seen |= bit
				if s.consume('}') {
					break
				}
				if !s.consume(',') {
					return nil, false
				}
			}
		}
		if seen&1 == 0 { // labels are required
			return nil, false
		}
		out = append(out, pa)
		if s.consume(']') {
			return out, s.end()
		}
		if !s.consume(',') {
			return nil, false
		}
	}
}

type scanner struct {
	b   []byte
	pos int
}

func (s *scanner) ws() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// consume skips white space and c, if c comes next.
func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.pos < len(s.b) && s.b[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) end() bool {
	s.ws()
	return s.pos == len(s.b)
}

// str reads a string without escapes or control characters, valid UTF-8.
func (s *scanner) str() (string, bool) {
	if !s.consume('"') {
		return "", false
	}
	start := s.pos
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			v := s.b[start:s.pos]
			s.pos++
			if !utf8.Valid(v) {
				return "", false
			}
			return string(v), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		s.pos++
	}
	return "", false
}

// labelSet reads an object of strings into sorted labels, dropping empty
// values if dropEmpty; a repeated name gives up (the general way keeps the
// last value).
func (s *scanner) labelSet(sb *labels.ScratchBuilder, dropEmpty bool) (labels.Labels, bool) {
	if !s.consume('{') {
		return labels.EmptyLabels(), false
	}
	sb.Reset()
	empty := false
	if !s.consume('}') {
		for {
			k, ok := s.str()
			if !ok || !s.consume(':') {
				return labels.EmptyLabels(), false
			}
			v, ok := s.str()
			if !ok {
				return labels.EmptyLabels(), false
			}
			empty = empty || v == ""
			sb.Add(k, v)
			if s.consume('}') {
				break
			}
			if !s.consume(',') {
				return labels.EmptyLabels(), false
			}
		}
	}
	sb.Sort()
	ls := sb.Labels()
	if _, dup := ls.HasDuplicateLabelNames(); dup {
		return labels.EmptyLabels(), false
	}
	if dropEmpty && empty {
		kept := labels.NewScratchBuilder(ls.Len())
		ls.Range(func(l labels.Label) {
			if l.Value != "" {
				kept.Add(l.Name, l.Value)
			}
		})
		ls = kept.Labels()
	}
	return ls, true
}
