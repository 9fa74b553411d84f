package ecsjson

// Nester writes (path, value) pairs as one nested JSON object. Paths must
// arrive sorted segment by segment (so every pair sharing a prefix is
// contiguous), and no path may be a prefix of another; the Nester then only
// diffs each path against the previous one to know which objects to close
// and open. Values are pre-encoded JSON.
//
// Segments are identified by ids (equal ids mean equal segments) and come
// with their keys pre-encoded (`"name":`, see AppendKey), so the hot path
// neither compares nor escapes strings. Field is the convenience form that
// takes plain strings.
//
//	var n Nester
//	n.Begin(dst)
//	n.Field([]string{"event", "kind"}, []byte(`"event"`))
//	n.Field([]string{"event", "type"}, []byte(`["info"]`))
//	dst = n.End()   // {"event":{"kind":"event","type":["info"]}}
type Nester struct {
	buf   []byte
	open  []int32 // ids of the objects currently open below the root
	comma bool    // the current object already has a member

	// for Field
	ids    []int32
	keys   [][]byte
	intern map[string]int32
}

// Begin starts an object appended to dst.
func (n *Nester) Begin(dst []byte) {
	n.buf = append(dst, '{')
	n.open = n.open[:0]
	n.comma = false
}

// FieldIDs adds one leaf whose path has the segment ids ids and the encoded
// keys keys (same length, at least one).
func (n *Nester) FieldIDs(ids []int32, keys [][]byte, value []byte) {
	last := len(ids) - 1
	common := 0
	for common < len(n.open) && common < last && n.open[common] == ids[common] {
		common++
	}
	for len(n.open) > common {
		n.buf = append(n.buf, '}')
		n.open = n.open[:len(n.open)-1]
		n.comma = true
	}
	for i := common; i < last; i++ {
		if n.comma {
			n.buf = append(n.buf, ',')
		}
		n.buf = append(n.buf, keys[i]...)
		n.buf = append(n.buf, '{')
		n.open = append(n.open, ids[i])
		n.comma = false
	}
	if n.comma {
		n.buf = append(n.buf, ',')
	}
	n.buf = append(n.buf, keys[last]...)
	n.buf = append(n.buf, value...)
	n.comma = true
}

// FieldAt is FieldIDs for a caller that already knows how many leading
// segments the path shares with the objects currently open (common, at
// most the number of open objects and at most len(keys)-1), e.g. from
// precomputed common prefixes of sorted paths.
func (n *Nester) FieldAt(common int, ids []int32, keys [][]byte, value []byte) {
	last := len(keys) - 1
	for len(n.open) > common {
		n.buf = append(n.buf, '}')
		n.open = n.open[:len(n.open)-1]
		n.comma = true
	}
	for i := common; i < last; i++ {
		if n.comma {
			n.buf = append(n.buf, ',')
		}
		n.buf = append(n.buf, keys[i]...)
		n.buf = append(n.buf, '{')
		n.open = append(n.open, ids[i])
		n.comma = false
	}
	if n.comma {
		n.buf = append(n.buf, ',')
	}
	n.buf = append(n.buf, keys[last]...)
	n.buf = append(n.buf, value...)
	n.comma = true
}

// Depth is the number of objects currently open below the root.
func (n *Nester) Depth() int { return len(n.open) }

// Field adds one leaf given as plain path segments. It interns the
// segments in the Nester; do not mix it with ids from elsewhere in the
// same document.
func (n *Nester) Field(path []string, value []byte) {
	if n.intern == nil {
		n.intern = map[string]int32{}
	}
	n.ids, n.keys = n.ids[:0], n.keys[:0]
	for _, seg := range path {
		id, ok := n.intern[seg]
		if !ok {
			id = int32(len(n.intern))
			n.intern[seg] = id
		}
		n.ids = append(n.ids, id)
		n.keys = append(n.keys, AppendKey(nil, seg))
	}
	n.FieldIDs(n.ids, n.keys, value)
}

// End closes every open object and returns the extended slice.
func (n *Nester) End() []byte {
	for range n.open {
		n.buf = append(n.buf, '}')
	}
	n.open = n.open[:0]
	n.buf = append(n.buf, '}')
	b := n.buf
	n.buf = nil
	return b
}

// ComparePaths orders two paths segment by segment (the order Nester needs).
func ComparePaths(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}
