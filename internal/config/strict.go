package config

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var errEOF = io.EOF

// DecodeStrict decodes n into out (a pointer to a struct), first checking
// that every mapping key names a field, recursively, so a typo is an error
// with its line rather than a silently ignored setting. Keys "type" and
// "name" are allowed at the top of a component.
func DecodeStrict(n *yaml.Node, out any) error {
	if err := checkKeys(n, reflect.TypeOf(out), true); err != nil {
		return err
	}
	if err := n.Decode(out); err != nil {
		return cleanYAMLError(err)
	}
	return nil
}

func checkKeys(n *yaml.Node, t reflect.Type, top bool) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode || hasUnmarshaler(t) {
			return nil // scalar types with their own decoding (Duration, ByteSize)
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if top && (k.Value == "type" || k.Value == "name") {
				if _, ok := fields[k.Value]; !ok {
					continue
				}
			}
			ft, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("line %d: unknown key %q (known: %s)", k.Line, k.Value, strings.Join(sortedKeys(fields), ", "))
			}
			if err := checkKeys(n.Content[i+1], ft, false); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if err := checkKeys(c, t.Elem(), false); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				if err := checkKeys(n.Content[i], t.Elem(), false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func hasUnmarshaler(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(unmarshalerType)
}

// yamlFields maps yaml key names to field types, following ",inline".
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range yamlFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's default
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys(m map[string]reflect.Type) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
	return fmt.Errorf("%s", strings.TrimSpace(msg))
}

// envRef matches ${NAME} and ${NAME:-default}; $$ escapes a dollar.
var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandEnv replaces ${VAR} in scalar values (never in keys, and after
// parsing, so a value cannot inject YAML structure). An unset variable
// without a default is an error naming it and its line.
func expandEnv(n *yaml.Node, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var firstErr error
	var walk func(n *yaml.Node, isKey bool)
	walk = func(n *yaml.Node, isKey bool) {
		if n.Kind == yaml.ScalarNode && !isKey && strings.Contains(n.Value, "$") {
			n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
				if m == "$$" {
					return "$"
				}
				sub := envRef.FindStringSubmatch(m)
				if v, ok := lookup(sub[1]); ok && v != "" {
					return v
				}
				if sub[2] != "" {
					return sub[3]
				}
				if firstErr == nil {
					firstErr = fmt.Errorf("line %d: environment variable %s is not set (use ${%s:-} to allow empty)", n.Line, sub[1], sub[1])
				}
				return ""
			})
			if n.Tag != "!!str" && n.Style == 0 {
				n.Tag = "" // let the decoder re-resolve an expanded number or bool
			}
		}
		if n.Kind == yaml.MappingNode {
			for i, c := range n.Content {
				walk(c, i%2 == 0)
			}
			return
		}
		for _, c := range n.Content {
			walk(c, false)
		}
	}
	walk(n, false)
	return firstErr
}
