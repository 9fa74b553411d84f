package search

import (
	"strings"
)

// Node is one node of a parsed query. The concrete types are *MatchAll,
// *And, *Or, *Not, *Match, *Wildcard, *Exists and *Range. A Node's String()
// is query text that parses back to an equal tree.
//
// The tree only says what the user asked for; it says nothing about how a
// store evaluates it (typed column or JSON path, numeric or string compare,
// CIDR or exact IP): translators decide that from the field and the value.
type Node interface {
	String() string
	node()
}

// MatchAll matches every event: the empty query, `*` and `*:*`.
type MatchAll struct{}

// And matches when every one of Nodes matches (at least two; the parser
// flattens nested ANDs).
type And struct{ Nodes []Node }

// Or matches when any one of Nodes matches (at least two; the parser
// flattens nested ORs).
type Or struct{ Nodes []Node }

// Not matches when Node does not match, including events that do not have
// the field at all (as in Elasticsearch).
type Not struct{ Node Node }

// Match is `field:value`, `field:"phrase"` or, with Field "", free text
// searched anywhere in the event.
type Match struct {
	Field  string // ECS dotted path; "" = free text
	Value  string // unescaped
	Phrase bool   // the value was quoted: an exact phrase, never a wildcard
}

// Wildcard is `field:ab*c` or free text `*abc*`: Parts are the literal
// (unescaped) pieces between the wildcards, so there is one wildcard between
// consecutive parts. "ab*c*" is ["ab", "c", ""]. Only the first and last part
// may be empty, and there are at least two.
type Wildcard struct {
	Field string // "" = free text
	Parts []string
}

// Exists is `field:*`: the event has the field, with a non-null value.
type Exists struct{ Field string }

// Range is `field >= 400`, `field:[400 TO 499]` (inclusive), `field:{a TO b}`
// (exclusive) or a mix. A nil bound is unbounded; at least one is set. Values
// are the text the user typed: translators compare numerically, as IPs or
// as times when the value (and the field) allow it.
type Range struct {
	Field string
	Lower *Bound
	Upper *Bound
}

// Bound is one end of a Range.
type Bound struct {
	Value     string
	Inclusive bool
}

func (*MatchAll) node() {}
func (*And) node()      {}
func (*Or) node()       {}
func (*Not) node()      {}
func (*Match) node()    {}
func (*Wildcard) node() {}
func (*Exists) node()   {}
func (*Range) node()    {}

// Walk calls fn for n and then, while fn returns true, for its children,
// depth first.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	switch n := n.(type) {
	case *And:
		for _, c := range n.Nodes {
			Walk(c, fn)
		}
	case *Or:
		for _, c := range n.Nodes {
			Walk(c, fn)
		}
	case *Not:
		Walk(n.Node, fn)
	}
}

// Pattern returns the wildcard as text with `*` for each wildcard and every
// literal `*` or `\` escaped with a backslash (the form Elasticsearch's
// wildcard query takes, minus `?`, which is escaped too).
func (w *Wildcard) Pattern() string {
	var b strings.Builder
	for i, p := range w.Parts {
		if i > 0 {
			b.WriteByte('*')
		}
		for _, r := range p {
			if r == '*' || r == '?' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ---- printing ----

func (*MatchAll) String() string { return "*" }

func (n *And) String() string { return joinNodes(n.Nodes, " AND ", true) }

func (n *Or) String() string { return joinNodes(n.Nodes, " OR ", false) }

func joinNodes(nodes []Node, sep string, and bool) string {
	var b strings.Builder
	for i, c := range nodes {
		if i > 0 {
			b.WriteString(sep)
		}
		paren := false
		switch c.(type) {
		case *Or:
			paren = true
		case *And:
			paren = and // an AND inside an OR binds tighter: no parentheses needed
		}
		if paren {
			b.WriteByte('(')
			b.WriteString(c.String())
			b.WriteByte(')')
		} else {
			b.WriteString(c.String())
		}
	}
	return b.String()
}

func (n *Not) String() string {
	switch n.Node.(type) {
	case *And, *Or:
		return "NOT (" + n.Node.String() + ")"
	}
	return "NOT " + n.Node.String()
}

func (n *Match) String() string {
	if n.Phrase || n.Value == "" {
		if n.Field == "" {
			return quote(n.Value)
		}
		return n.Field + ":" + quote(n.Value)
	}
	if n.Field == "" {
		return escapeTerm(n.Value, true)
	}
	return n.Field + ":" + escapeValue(n.Value, true)
}

func (n *Wildcard) String() string {
	var b strings.Builder
	if n.Field != "" {
		b.WriteString(n.Field)
		b.WriteByte(':')
	}
	for i, p := range n.Parts {
		if i > 0 {
			b.WriteByte('*')
		}
		if n.Field == "" {
			b.WriteString(escapeTerm(p, i == 0))
		} else {
			b.WriteString(escapeValue(p, i == 0))
		}
	}
	return b.String()
}

func (n *Exists) String() string { return n.Field + ":*" }

func (n *Range) String() string {
	switch {
	case n.Lower != nil && n.Upper != nil:
		var b strings.Builder
		b.WriteString(n.Field)
		b.WriteByte(':')
		if n.Lower.Inclusive {
			b.WriteByte('[')
		} else {
			b.WriteByte('{')
		}
		b.WriteString(boundText(n.Lower.Value))
		b.WriteString(" TO ")
		b.WriteString(boundText(n.Upper.Value))
		if n.Upper.Inclusive {
			b.WriteByte(']')
		} else {
			b.WriteByte('}')
		}
		return b.String()
	case n.Lower != nil:
		return n.Field + compareOp(n.Field, ">", n.Lower.Inclusive) + boundText(n.Lower.Value)
	case n.Upper != nil:
		return n.Field + compareOp(n.Field, "<", n.Upper.Inclusive) + boundText(n.Upper.Value)
	}
	return n.Field + ":*"
}

// compareOp prints " >= " and friends; after a field named like a keyword
// ("not >= 1" would read as NOT) it uses the field:>=1 form.
func compareOp(field, op string, inclusive bool) string {
	if inclusive {
		op += "="
	}
	if isKeyword(field) {
		return ":" + op
	}
	return " " + op + " "
}

// quote returns s as a quoted phrase.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// escapeTerm escapes a free-text word so that it reads back as the same
// literal text: no operator, field, wildcard or keyword meaning.
func escapeTerm(s string, first bool) string {
	if first && isKeyword(s) {
		return `\` + s
	}
	var b strings.Builder
	for _, r := range s {
		if isSpace(r) || strings.ContainsRune(`\"():*<>`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapeValue escapes the value of field:value. A colon needs no escape
// there (IPv6 addresses); a leading range opener does.
func escapeValue(s string, first bool) string {
	var b strings.Builder
	for i, r := range s {
		if isSpace(r) || strings.ContainsRune(`\"()*`, r) || (first && i == 0 && strings.ContainsRune(`[{<>`, r)) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// boundText prints a range bound bare when it reads back unchanged, quoted
// otherwise.
func boundText(s string) string {
	if s == "" || strings.EqualFold(s, "to") || isKeyword(s) {
		return quote(s)
	}
	for _, r := range s {
		if isSpace(r) || strings.ContainsRune(`\"()[]{}*<>`, r) {
			return quote(s)
		}
	}
	return s
}

func isKeyword(s string) bool {
	return strings.EqualFold(s, "and") || strings.EqualFold(s, "or") || strings.EqualFold(s, "not")
}
