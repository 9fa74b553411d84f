package search

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a query, so that a hostile or accidental query cannot exhaust
// the parser or produce a statement no store can plan.
const (
	MaxQueryBytes  = 16 << 10 // query text
	MaxDepth       = 64       // nested parentheses, NOTs and field groups
	MaxClauses     = 1024     // leaf clauses (matches, wildcards, ranges, ...)
	MaxFieldLength = 256      // bytes in one field name
)

// ErrInvalidQuery is matched (errors.Is) by every error that is the query's
// fault rather than the store's: parse errors, and translation errors such as
// a non-numeric value for a numeric field. APIs answer it with 400.
var ErrInvalidQuery = errors.New("invalid query")

// ParseError says where a query is wrong and what was expected there.
type ParseError struct {
	Pos    int    // byte offset in the query
	Column int    // 1-based column, in characters
	Msg    string // e.g. `expected ")" to close "(" at column 1, found end of query`
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("query: column %d: %s", e.Column, e.Msg)
}

// Is makes errors.Is(err, ErrInvalidQuery) true.
func (e *ParseError) Is(target error) bool { return target == ErrInvalidQuery }

// Parse parses a query of the search language:
//
//	status:404                 field match (ECS dotted path)
//	url.path:"/a b"            phrase (exact, no wildcards)
//	timeout "gateway error"    free text: a word or a phrase anywhere in the event
//	url.path:/api/*  *admin*   wildcards (* = any characters); field:* = field exists
//	a AND b, a OR b, NOT a     case-insensitive; juxtaposition is AND; NOT > AND > OR
//	( ... )                    grouping
//	status >= 400  status < 500  status:>=400
//	status:[400 TO 499]        inclusive range; {..} exclusive, mixed [..} allowed, * = open
//	source.ip:10.0.0.0/8       IP or CIDR value (the store decides per field)
//	status:(403 OR 429)        a group of values for one field
//
// A backslash escapes the next character anywhere (`a\:b`, `\*`, `\ `); in a
// phrase only `\"` and `\\` are needed. The empty query matches everything
// (*MatchAll). Errors are *ParseError and match ErrInvalidQuery.
func Parse(query string) (Node, error) {
	p := &parser{src: query}
	if len(query) > MaxQueryBytes {
		return nil, p.errAt(MaxQueryBytes, fmt.Sprintf("query is longer than %d bytes", MaxQueryBytes))
	}
	if !utf8.ValidString(query) {
		i := 0
		for i < len(query) {
			r, size := utf8.DecodeRuneInString(query[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, p.errAt(i, "invalid UTF-8")
	}
	for i, r := range query {
		if unicode.IsControl(r) && !isSpace(r) {
			return nil, p.errAt(i, fmt.Sprintf("control character %U is not allowed", r))
		}
	}
	p.skipSpace()
	if p.eof() {
		return &MatchAll{}, nil
	}
	n, err := p.parseOr("")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		if p.src[p.pos] == ')' {
			return nil, p.errf(`unexpected ")" without a matching "("`)
		}
		return nil, p.errf("unexpected %s", p.found())
	}
	return n, nil
}

type parser struct {
	src     string
	pos     int
	depth   int
	clauses int
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) errAt(pos int, msg string) *ParseError {
	if pos > len(p.src) {
		pos = len(p.src)
	}
	col := 1
	if utf8.ValidString(p.src[:pos]) {
		col = utf8.RuneCountInString(p.src[:pos]) + 1
	} else {
		col = pos + 1
	}
	return &ParseError{Pos: pos, Column: col, Msg: msg}
}

func (p *parser) errf(format string, args ...any) *ParseError {
	return p.errAt(p.pos, fmt.Sprintf(format, args...))
}

// found describes what is at the current position, for error messages.
func (p *parser) found() string {
	if p.eof() {
		return "end of query"
	}
	if kw := p.keyword(); kw != "" {
		return `"` + p.src[p.pos:p.pos+len(kw)] + `"`
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return fmt.Sprintf("%q", string(r))
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if !isSpace(r) {
			return
		}
		p.pos += size
	}
}

// isDelim reports whether the byte at i ends a keyword.
func (p *parser) isDelim(i int) bool {
	if i >= len(p.src) {
		return true
	}
	switch p.src[i] {
	case '(', ')', '"':
		return true
	}
	r, _ := utf8.DecodeRuneInString(p.src[i:])
	return isSpace(r)
}

// keyword returns "AND", "OR" or "NOT" when one stands at the current
// position (any case, followed by a delimiter), else "".
func (p *parser) keyword() string {
	for _, kw := range [...]string{"AND", "OR", "NOT"} {
		end := p.pos + len(kw)
		if end <= len(p.src) && strings.EqualFold(p.src[p.pos:end], kw) && p.isDelim(end) {
			return kw
		}
	}
	return ""
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errf("query is nested more than %d levels deep", MaxDepth)
	}
	return nil
}

func (p *parser) leaf() error {
	p.clauses++
	if p.clauses > MaxClauses {
		return p.errf("query has more than %d clauses", MaxClauses)
	}
	return nil
}

// parseOr parses a sequence of AND-expressions separated by OR. field is the
// field of an enclosing field group (field:(a OR b)), "" at the top level.
func (p *parser) parseOr(field string) (Node, error) {
	first, err := p.parseAnd(field)
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	for {
		p.skipSpace()
		if p.keyword() != "OR" {
			break
		}
		p.pos += 2
		n, err := p.parseAnd(field)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return &Or{Nodes: flatten[*Or](nodes, func(o *Or) []Node { return o.Nodes })}, nil
}

func flatten[T Node](nodes []Node, children func(T) []Node) []Node {
	out := make([]Node, 0, len(nodes))
	for _, n := range nodes {
		if t, ok := n.(T); ok {
			out = append(out, children(t)...)
		} else {
			out = append(out, n)
		}
	}
	return out
}

// parseAnd parses NOT-expressions joined by AND or by juxtaposition.
func (p *parser) parseAnd(field string) (Node, error) {
	first, err := p.parseNot(field)
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	for {
		p.skipSpace()
		if p.eof() || p.src[p.pos] == ')' {
			break
		}
		switch p.keyword() {
		case "OR":
		case "AND":
			p.pos += 3
			fallthrough
		default:
			n, err := p.parseNot(field)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, n)
			continue
		}
		break
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return &And{Nodes: flatten[*And](nodes, func(a *And) []Node { return a.Nodes })}, nil
}

func (p *parser) parseNot(field string) (Node, error) {
	p.skipSpace()
	if p.keyword() != "NOT" {
		return p.parsePrimary(field)
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos += 3
	n, err := p.parseNot(field)
	if err != nil {
		return nil, err
	}
	p.depth--
	return &Not{Node: n}, nil
}

// expectedTerm is what may start an operand.
const expectedTerm = `a term, a phrase, a field expression, NOT or "("`

func (p *parser) parsePrimary(field string) (Node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errf("expected %s, found end of query", expectedTerm)
	}
	if kw := p.keyword(); kw == "AND" || kw == "OR" {
		return nil, p.errf("expected %s, found %s: %s needs an operand on each side", expectedTerm, p.found(), kw)
	}
	switch p.src[p.pos] {
	case '(':
		return p.parseGroup(field)
	case ')':
		return nil, p.errf(`expected %s, found ")"`, expectedTerm)
	case '"':
		v, err := p.readQuoted()
		if err != nil {
			return nil, err
		}
		if err := p.leaf(); err != nil {
			return nil, err
		}
		return &Match{Field: field, Value: v, Phrase: true}, nil
	}
	if field != "" {
		// Inside field:( ... ): every operand is a value of field.
		if strings.IndexByte("[{<>", p.src[p.pos]) >= 0 {
			return nil, p.errf("ranges are not allowed inside a field group; write %s:[a TO b] or %s >= a", field, field)
		}
		w, err := p.readWord(stopValue)
		if err != nil {
			return nil, err
		}
		return p.valueNode(field, w)
	}

	start := p.pos
	w, err := p.readWord(stopTerm)
	if err != nil {
		return nil, err
	}
	// A field name is followed (possibly after spaces) by ':' or a comparison.
	save := p.pos
	p.skipSpace()
	if !p.eof() {
		switch p.src[p.pos] {
		case ':':
			if w.empty() {
				return nil, p.errf(`expected a field name before ":"`)
			}
			return p.parseFieldExpr(start, w)
		case '<', '>':
			if w.empty() {
				return nil, p.errf("expected a field name before %s", p.found())
			}
			name, err := p.fieldName(start, w)
			if err != nil {
				return nil, err
			}
			return p.parseComparison(name)
		}
	}
	p.pos = save
	if w.empty() {
		// readWord stops at once only on a delimiter handled above.
		return nil, p.errf("expected %s, found %s", expectedTerm, p.found())
	}
	if err := p.leaf(); err != nil {
		return nil, err
	}
	if w.wild() {
		if w.matchAll() {
			return &MatchAll{}, nil
		}
		return &Wildcard{Parts: w.parts}, nil
	}
	return &Match{Value: w.parts[0]}, nil
}

func (p *parser) parseGroup(field string) (Node, error) {
	open := p.pos
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++
	p.skipSpace()
	if !p.eof() && p.src[p.pos] == ')' {
		return nil, p.errf(`expected %s, found ")": empty parentheses`, expectedTerm)
	}
	n, err := p.parseOr(field)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || p.src[p.pos] != ')' {
		return nil, p.errf(`expected ")" to close "(" at column %d, found %s`, p.errAt(open, "").Column, p.found())
	}
	p.pos++
	p.depth--
	return n, nil
}

// parseFieldExpr parses what follows `field:`.
func (p *parser) parseFieldExpr(start int, w word) (Node, error) {
	colon := p.pos
	p.pos++ // ':'
	if w.matchAll() {
		// *:* matches everything; *:x would need field wildcards.
		if p.pos < len(p.src) && p.src[p.pos] == '*' && p.isDelim(p.pos+1) {
			p.pos++
			if err := p.leaf(); err != nil {
				return nil, err
			}
			return &MatchAll{}, nil
		}
	}
	name, err := p.fieldName(start, w)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errf(`expected a value after "%s:", found end of query`, name)
	}
	switch c := p.src[p.pos]; c {
	case '(':
		return p.parseGroup(name)
	case ')':
		return nil, p.errf(`expected a value after "%s:", found ")"`, name)
	case '"':
		v, err := p.readQuoted()
		if err != nil {
			return nil, err
		}
		if err := p.leaf(); err != nil {
			return nil, err
		}
		return &Match{Field: name, Value: v, Phrase: true}, nil
	case '[', '{':
		return p.parseBrackets(name)
	case '<', '>':
		return p.parseComparison(name)
	}
	w, err = p.readWord(stopValue)
	if err != nil {
		return nil, err
	}
	if w.empty() {
		p.pos = colon + 1
		return nil, p.errf(`expected a value after "%s:", found %s`, name, p.found())
	}
	return p.valueNode(name, w)
}

func (p *parser) valueNode(field string, w word) (Node, error) {
	if err := p.leaf(); err != nil {
		return nil, err
	}
	if w.wild() {
		if w.matchAll() {
			return &Exists{Field: field}, nil
		}
		return &Wildcard{Field: field, Parts: w.parts}, nil
	}
	return &Match{Field: field, Value: w.parts[0]}, nil
}

// parseComparison parses `>= v`, `> v`, `<= v` or `< v` for field.
func (p *parser) parseComparison(field string) (Node, error) {
	op := p.src[p.pos : p.pos+1]
	p.pos++
	if p.pos < len(p.src) && p.src[p.pos] == '=' {
		op += "="
		p.pos++
	}
	p.skipSpace()
	v, unbounded, err := p.readBound(op)
	if err != nil {
		return nil, err
	}
	if unbounded {
		p.pos -= 1
		return nil, p.errf("expected a value after %q, found \"*\": a comparison needs a bound", op)
	}
	if err := p.leaf(); err != nil {
		return nil, err
	}
	b := &Bound{Value: v, Inclusive: len(op) == 2}
	if op[0] == '>' {
		return &Range{Field: field, Lower: b}, nil
	}
	return &Range{Field: field, Upper: b}, nil
}

// parseBrackets parses [a TO b], {a TO b} and mixes.
func (p *parser) parseBrackets(field string) (Node, error) {
	open := p.pos
	inclLower := p.src[p.pos] == '['
	p.pos++
	p.skipSpace()
	lo, loOpen, err := p.readBound("[")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !(p.pos+2 <= len(p.src) && strings.EqualFold(p.src[p.pos:p.pos+2], "to") && p.isRangeDelim(p.pos+2)) {
		return nil, p.errf(`expected "TO" in the range started at column %d, found %s`, p.errAt(open, "").Column, p.found())
	}
	p.pos += 2
	p.skipSpace()
	hi, hiOpen, err := p.readBound("TO")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || (p.src[p.pos] != ']' && p.src[p.pos] != '}') {
		return nil, p.errf(`expected "]" or "}" to close the range started at column %d, found %s`, p.errAt(open, "").Column, p.found())
	}
	inclUpper := p.src[p.pos] == ']'
	p.pos++
	if err := p.leaf(); err != nil {
		return nil, err
	}
	r := &Range{Field: field}
	if !loOpen {
		r.Lower = &Bound{Value: lo, Inclusive: inclLower}
	}
	if !hiOpen {
		r.Upper = &Bound{Value: hi, Inclusive: inclUpper}
	}
	if r.Lower == nil && r.Upper == nil {
		return &Exists{Field: field}, nil
	}
	return r, nil
}

func (p *parser) isRangeDelim(i int) bool {
	if i < len(p.src) && (p.src[i] == ']' || p.src[i] == '}') {
		return true
	}
	return p.isDelim(i)
}

// readBound reads a range bound: a phrase or a bare word; a bare `*` is an
// open bound (unbounded = true). after names what precedes, for errors.
func (p *parser) readBound(after string) (v string, unbounded bool, err error) {
	if p.eof() {
		return "", false, p.errf("expected a value after %q, found end of query", after)
	}
	if p.src[p.pos] == '"' {
		v, err := p.readQuoted()
		return v, false, err
	}
	start := p.pos
	w, err := p.readWord(stopBound)
	if err != nil {
		return "", false, err
	}
	if w.empty() {
		return "", false, p.errf("expected a value after %q, found %s", after, p.found())
	}
	if w.wild() {
		if w.matchAll() {
			return "", true, nil
		}
		p.pos = start
		return "", false, p.errf("wildcards are not allowed in a range bound; quote the value or escape * with \\")
	}
	return w.parts[0], false, nil
}

// fieldName validates w as a field name: an ECS dotted path of letters,
// digits, '_', '@' and '-' (e.g. http.response.status_code, @timestamp).
// The whitelist keeps names safe to embed in any store's query language.
func (p *parser) fieldName(start int, w word) (string, error) {
	if w.wild() {
		return "", p.errAt(start, "wildcards in field names are not supported")
	}
	if w.escaped {
		return "", p.errAt(start, "escapes are not allowed in field names")
	}
	name := w.parts[0]
	if err := CheckField(name); err != nil {
		return "", p.errAt(start, err.Error())
	}
	return name, nil
}

// CheckField returns an error unless name is a valid field name: dotted
// segments of ASCII letters, digits, '_', '@' and '-', at most
// MaxFieldLength bytes. Stores may embed a valid name in their query
// language (e.g. a JSON path) without further quoting.
func CheckField(name string) error {
	if name == "" {
		return errors.New("empty field name")
	}
	if len(name) > MaxFieldLength {
		return fmt.Errorf("field name is longer than %d bytes", MaxFieldLength)
	}
	seg := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if seg == 0 {
				return fmt.Errorf("invalid field name %q: empty segment", name)
			}
			seg = 0
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '@', c == '-':
		default:
			return fmt.Errorf("invalid field name %q: character %q is not allowed (letters, digits, _ @ - and dots only)", name, rune(c))
		}
		seg++
	}
	if seg == 0 {
		return fmt.Errorf("invalid field name %q: empty segment", name)
	}
	return nil
}

// readQuoted reads a phrase at p.pos (which is '"').
func (p *parser) readQuoted() (string, error) {
	open := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\\':
			if p.pos+1 >= len(p.src) {
				return "", p.errf(`unterminated phrase started at column %d: expected "\"" after the backslash`, p.errAt(open, "").Column)
			}
			_, size := utf8.DecodeRuneInString(p.src[p.pos+1:])
			b.WriteString(p.src[p.pos+1 : p.pos+1+size])
			p.pos += 1 + size
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.errAt(open, `unterminated phrase: expected a closing "\""`)
}

// A word is a bare (unquoted) token: literal parts split at its unescaped
// wildcards.
type word struct {
	parts   []string // len 1 without wildcards
	escaped bool     // a backslash escape was used
}

func (w word) empty() bool    { return len(w.parts) == 1 && w.parts[0] == "" && !w.escaped }
func (w word) wild() bool     { return len(w.parts) > 1 }
func (w word) matchAll() bool { return len(w.parts) == 2 && w.parts[0] == "" && w.parts[1] == "" }

type stopSet int

const (
	stopTerm  stopSet = iota // free text or a field name: ends at space ( ) " : < >
	stopValue                // value after field: ends at space ( ) "
	stopBound                // range bound: ends at space ( ) " [ ] { }
)

func (s stopSet) stops(c byte) bool {
	switch c {
	case '(', ')', '"':
		return true
	case ':', '<', '>':
		return s == stopTerm
	case '[', ']', '{', '}':
		return s == stopBound
	}
	return false
}

// readWord reads a bare word. Unescaped '*' separates parts; consecutive
// wildcards collapse into one.
func (p *parser) readWord(stop stopSet) (word, error) {
	var w word
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\\' {
			if p.pos+1 >= len(p.src) {
				return w, p.errf(`expected a character after "\", found end of query`)
			}
			_, size := utf8.DecodeRuneInString(p.src[p.pos+1:])
			b.WriteString(p.src[p.pos+1 : p.pos+1+size])
			p.pos += 1 + size
			w.escaped = true
			continue
		}
		if c == '*' {
			p.pos++
			// Collapse "**" (and "a**b") into one wildcard: an empty part is
			// only kept at the ends.
			if len(w.parts) > 0 && b.Len() == 0 {
				continue
			}
			w.parts = append(w.parts, b.String())
			b.Reset()
			continue
		}
		if stop.stops(c) {
			break
		}
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if isSpace(r) {
			break
		}
		b.WriteString(p.src[p.pos : p.pos+size])
		p.pos += size
	}
	w.parts = append(w.parts, b.String())
	return w, nil
}
