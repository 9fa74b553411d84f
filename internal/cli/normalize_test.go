package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func normalizeCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(append([]string{"normalize"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const (
	cliHTTP1 = `{"RayID":"8757d2a4bc1e2f01","EdgeStartTimestamp":"2024-04-17T12:00:00Z","ClientIP":"198.51.100.23","ClientRequestHost":"www.example.com","ClientRequestURI":"/"}`
	cliHTTP2 = `{"RayID":"8757d2a4bc1e2f02","EdgeStartTimestamp":1713355201000000000,"ClientRequestMethod":"GET"}`
)

func docs(t *testing.T, out string) []map[string]any {
	t.Helper()
	var res []map[string]any
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("output line is not JSON: %v: %s", err, l)
		}
		res = append(res, m)
	}
	return res
}

func TestNormalizeStdin(t *testing.T) {
	in := cliHTTP1 + "\n\n" + `{"content":"tests"}` + "\n" + cliHTTP2 // no final newline
	code, out, errs := normalizeCLI(t, in, "--dataset", "cloudflare_logpush.http_request")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	d := docs(t, out)
	if len(d) != 2 {
		t.Fatalf("%d documents, want 2 (probe and blank line dropped): %s", len(d), out)
	}
	if d[0]["event"].(map[string]any)["id"] != "8757d2a4bc1e2f01" || d[1]["event"].(map[string]any)["id"] != "8757d2a4bc1e2f02" {
		t.Fatalf("order or content wrong: %s", out)
	}
	if _, ok := d[0]["cloudflare_logpush"].(map[string]any)["http_request"].(map[string]any)["client"].(map[string]any)["ip"]; ok {
		t.Errorf("duplicate custom field written without --keep-duplicate-fields: %s", out)
	}
}

func TestNormalizeFlags(t *testing.T) {
	code, out, errs := normalizeCLI(t, cliHTTP1+"\n", "-d", "http_requests", "--preserve-original", "--keep-duplicate-fields", "--account-id", "abc123")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	d := docs(t, out)[0]
	if d["event"].(map[string]any)["original"] != cliHTTP1 {
		t.Errorf("event.original missing: %s", out)
	}
	if d["cloudflare_logpush"].(map[string]any)["http_request"].(map[string]any)["client"].(map[string]any)["ip"] != "198.51.100.23" {
		t.Errorf("duplicate custom field missing: %s", out)
	}
}

func TestNormalizeBadRecords(t *testing.T) {
	in := cliHTTP1 + "\n" + `{"RayID":` + "\n" + `[1,2]` + "\n" + cliHTTP2 + "\n"
	code, out, errs := normalizeCLI(t, in, "--dataset", "http_requests")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if n := len(docs(t, out)); n != 2 {
		t.Fatalf("%d documents, want the 2 good ones", n)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "<stdin>:2: invalid_json: ") || !strings.HasPrefix(lines[1], "<stdin>:3: not_object: ") {
		t.Fatalf("stderr %q", errs)
	}
}

func TestNormalizeFilesAndGzip(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.ndjson")
	if err := os.WriteFile(plain, []byte(cliHTTP1+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(dir, "b.log.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(cliHTTP2 + "\n" + `{"RayID":` + "\n"))
	zw.Close()
	// A second gzip member, as concatenated Logpush batches have.
	zw = gzip.NewWriter(&buf)
	zw.Write([]byte(`{"RayID":"8757d2a4bc1e2f03"}` + "\n"))
	zw.Close()
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := normalizeCLI(t, `{"RayID":"from-stdin"}`, "-d", "http_requests", plain, gz, "-")
	if code != 1 {
		t.Fatalf("exit %d (want 1 for the bad line), stderr %q", code, errs)
	}
	if !strings.Contains(errs, gz+":2: invalid_json") {
		t.Errorf("stderr %q lacks %s:2", errs, gz)
	}
	var ids []string
	for _, d := range docs(t, out) {
		ids = append(ids, d["event"].(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "8757d2a4bc1e2f01,8757d2a4bc1e2f02,8757d2a4bc1e2f03,from-stdin" {
		t.Fatalf("ids %v", ids)
	}
}

func TestNormalizeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{nil, "--dataset is required"},
		{[]string{"--dataset", "nope"}, `unknown dataset "nope"`},
		{[]string{"--dataset", "http_requests", "--bogus"}, "unknown flag"},
		{[]string{"--dataset", "http_requests", filepath.Join(dir, "missing.ndjson")}, "cannot read"},
		{[]string{"--dataset", "http_requests", dir}, "is a directory"},
		{[]string{"--dataset", "http_requests", "--geoip-dir", filepath.Join(dir, "nogeo")}, "geoip"},
	}
	for _, c := range cases {
		code, out, errs := normalizeCLI(t, cliHTTP1, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want 2 and %q)", c.args, code, out, errs, c.want)
		}
	}
}

func TestNormalizeHelp(t *testing.T) {
	code, out, _ := normalizeCLI(t, "", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--dataset", "--preserve-original", "--keep-duplicate-fields", "--geoip-dir", "--account-id", "Examples:", "http_requests", "FILE:LINE: REASON"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 300)
	in := "a\n" + long + "\nb\r\n\n" + long + long + "\nc"
	lr := lineReader{r: bufio.NewReaderSize(strings.NewReader(in), 16), max: 100}
	var got []string
	for {
		line, tooLong, err := lr.next()
		switch {
		case tooLong:
			got = append(got, "<too long>")
		default:
			got = append(got, string(line))
		}
		if err != nil {
			break
		}
	}
	want := []string{"a", "<too long>", "b\r", "", "<too long>", "c"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestNormalizeLongLine(t *testing.T) {
	// A record over the normalizer's 4 MiB limit is reported, the next one kept.
	in := `{"RayID":"` + strings.Repeat("x", 5<<20) + `"}` + "\n" + cliHTTP2 + "\n"
	code, out, errs := normalizeCLI(t, in, "-d", "http_requests")
	if code != 1 || !strings.Contains(errs, "<stdin>:1: too_large") || len(docs(t, out)) != 1 {
		t.Fatalf("exit %d, stderr %q, %d docs", code, errs, len(docs(t, out)))
	}
}
