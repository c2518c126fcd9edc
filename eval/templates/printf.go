package templates

import (
	"fmt"
	"strconv"
)

// printfFormat is a constant printf format. When every verb is one whose
// output the fast path reproduces exactly for its argument's type (%s and
// %v of a string; %v, %e, %E, %f, %F, %g, %G of a float64, with an
// optional precision and no flags or width) and the verbs match the
// arguments one to one, pieces holds the parsed format; otherwise the
// format goes to fmt.Appendf, which is exact but allocates.
type printfFormat struct {
	format string
	pieces []printfPiece
}

// printfPiece is literal text (verb 0) or one verb.
type printfPiece struct {
	lit  string
	verb byte // strconv format byte, or 's' for a string
	prec int
}

func compilePrintf(format string, kinds []kind) *printfFormat {
	f := &printfFormat{format: format}
	var pieces []printfPiece
	arg := 0
	lit := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		if lit < i {
			pieces = append(pieces, printfPiece{lit: format[lit:i]})
		}
		i++
		if i < len(format) && format[i] == '%' {
			pieces = append(pieces, printfPiece{lit: "%"})
			lit = i + 1
			continue
		}
		prec, precPresent := -1, false
		if i < len(format) && format[i] == '.' {
			precPresent = true
			prec = 0
			i++
			for n := 0; i < len(format) && format[i] >= '0' && format[i] <= '9'; n++ {
				if n == 3 {
					return f
				}
				prec = prec*10 + int(format[i]-'0')
				i++
			}
		}
		if i == len(format) || arg == len(kinds) {
			return f
		}
		p, ok := printfVerb(format[i], kinds[arg], prec, precPresent)
		if !ok {
			return f
		}
		pieces = append(pieces, p)
		arg++
		lit = i + 1
	}
	if arg != len(kinds) {
		return f
	}
	if lit < len(format) {
		pieces = append(pieces, printfPiece{lit: format[lit:]})
	}
	f.pieces = pieces
	return f
}

// printfVerb returns the piece for verb applied to an argument of kind k,
// following fmt's pp.fmtFloat.
func printfVerb(verb byte, k kind, prec int, precPresent bool) (printfPiece, bool) {
	if k == kindString {
		if (verb == 's' || verb == 'v') && !precPresent {
			return printfPiece{verb: 's'}, true
		}
		return printfPiece{}, false
	}
	switch verb {
	case 'v':
		if precPresent {
			return printfPiece{}, false
		}
		return printfPiece{verb: 'g', prec: -1}, true
	case 'g', 'G':
		return printfPiece{verb: verb, prec: prec}, true
	case 'e', 'E', 'f', 'F':
		if !precPresent {
			prec = 6
		}
		if verb == 'F' {
			verb = 'f'
		}
		return printfPiece{verb: verb, prec: prec}, true
	}
	return printfPiece{}, false
}

// append is fmt.Appendf(dst, f.format, args...).
func (f *printfFormat) append(dst []byte, args []value) []byte {
	if f.pieces == nil {
		anys := make([]any, len(args))
		for i, a := range args {
			if a.isFloat {
				anys[i] = a.f
			} else {
				anys[i] = a.s
			}
		}
		return fmt.Appendf(dst, f.format, anys...)
	}
	arg := 0
	for _, p := range f.pieces {
		switch p.verb {
		case 0:
			dst = append(dst, p.lit...)
		case 's':
			dst = append(dst, args[arg].s...)
			arg++
		default:
			dst = strconv.AppendFloat(dst, args[arg].f, p.verb, p.prec, 64)
			arg++
		}
	}
	return dst
}
