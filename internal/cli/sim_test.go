package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startSim runs `flarehose sim args...` until the test ends and returns
// the API base URL and what it printed.
func startSim(t *testing.T, args ...string) (base, printed string) {
	t.Helper()
	var out, errb syncBuffer
	root := newRoot(streams{strings.NewReader(""), &out, &errb})
	root.SetArgs(append([]string{"sim", "--listen", "127.0.0.1:0"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim: %v", err)
		}
	})
	urlRe := regexp.MustCompile(`Cloudflare API at (http://\S+/client/v4)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := urlRe.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "logpull retention") {
			return m[1], out.String()
		}
		if time.Now().After(deadline) {
			t.Fatalf("no base URL printed; stdout %q stderr %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSimCommand(t *testing.T) {
	base, printed := startSim(t, "--token", "cli-test-token", "--email", "me@example.com",
		"--zone", "0123456789abcdef0123456789abcdef", "--zone", "fedcba9876543210fedcba9876543210=adatum.dev", "--retention")
	for _, want := range []string{"token:    cli-test-token", "X-Auth-Email: me@example.com  X-Auth-Key: ",
		"zone:     0123456789abcdef0123456789abcdef  northwind-traders.com", "zone:     fedcba9876543210fedcba9876543210  adatum.dev", "logpull retention on"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/zones/fedcba9876543210fedcba9876543210/logs/control/retention/flag", nil)
	req.Header.Set("Authorization", "Bearer cli-test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Success bool
		Result  struct{ Flag bool }
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || !env.Success || !env.Result.Flag {
		t.Fatalf("retention flag: %d %+v %v", resp.StatusCode, env, err)
	}
}

func TestSimCommandUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--key", "abc"}, "--key needs --email"},
		{[]string{"sim", "--zone", "nothex", "--listen", "127.0.0.1:0"}, "32 lower-case hex"},
		{[]string{"sim", "--zone", "0123456789abcdef0123456789abcdef=nope.example", "--listen", "127.0.0.1:0"}, "not a simulated zone"},
		{[]string{"sim", "--email", "me@example.com", "--key", "short", "--listen", "127.0.0.1:0"}, "37 lower-case hex"},
		{[]string{"sim", "--ownership-dir", "/tmp/x", "--gcs-endpoint", "http://127.0.0.1:4443"}, "does not mix"},
		{[]string{"sim", "--s3-endpoint", "http://127.0.0.1:9000", "--s3-access-key", "a"}, "both access key and secret key"},
		{[]string{"sim", "--s3-access-key", "a", "--s3-secret-key", "hunter2hunter2"}, "without an S3 endpoint"},
		{[]string{"sim", "--azure-endpoint", "ftp://127.0.0.1/devstoreaccount1"}, "Azure endpoint"},
		{[]string{"sim", "--r2-endpoint", "http://127.0.0.1:9000/?x=1"}, "R2 endpoint"},
	} {
		code, _, errs := run(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q (want %q)", c.args, code, errs, c.want)
		}
	}
	code, out, _ := run(t, "", "sim", "--help")
	for _, flag := range []string{"--ownership-dir", "--s3-endpoint", "--s3-access-key", "--s3-secret-key", "--r2-endpoint", "--gcs-endpoint", "--azure-endpoint", "--http-endpoints", "FLAREHOSE_SIM_S3_SECRET_KEY"} {
		if code != 0 || !strings.Contains(out, flag) {
			t.Errorf("sim --help: exit %d, no %s", code, flag)
		}
	}
}

// simAPI calls the simulator with its token.
func simAPI(t *testing.T, method, url, token string, body any) map[string]any {
	t.Helper()
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(js))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestSimObjectStorageDir(t *testing.T) {
	dir := t.TempDir()
	base, printed := startSim(t, "--token", "cli-test-token", "--ownership-dir", dir, "--relaxed-limits", "--push-rate", "200")
	if !strings.Contains(printed, "object storage: every bucket under "+dir) {
		t.Errorf("output lacks the storage line:\n%s", printed)
	}
	zone := "023e105f4ecef8ad9ca31a8372d0c353"
	for _, m := range regexp.MustCompile(`zone:\s+([0-9a-f]{32})`).FindAllStringSubmatch(printed, 1) {
		zone = m[1]
	}
	conf := "r2://cflogs/http/{DATE}?account-id=0123456789abcdef&access-key-id=AKID&secret-access-key=not-a-secret"
	env := simAPI(t, http.MethodPost, base+"/zones/"+zone+"/logpush/jobs", "cli-test-token",
		map[string]any{"dataset": "http_requests", "destination_conf": conf, "enabled": true, "max_upload_records": 10})
	if env["success"] != true {
		t.Fatalf("create: %v", env)
	}
	// test.txt.gz at creation, then batches, in DIR/r2/<bucket>/<key>.
	root := filepath.Join(dir, "r2", "cflogs", "http")
	keyRe := regexp.MustCompile(`^\d{8}/(\d{8}T\d{6}Z_\d{8}T\d{6}Z_[0-9a-f]{8}\.log\.gz|test\.txt\.gz)$`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var keys []string
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				rel, _ := filepath.Rel(root, p)
				keys = append(keys, filepath.ToSlash(rel))
			}
			return nil
		})
		batches, validation := 0, 0
		for _, k := range keys {
			switch {
			case !keyRe.MatchString(k):
				t.Fatalf("unexpected object %s", k)
			case strings.HasSuffix(k, "test.txt.gz"):
				validation++
			default:
				batches++
			}
		}
		if validation == 1 && batches >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("objects under %s: %v", root, keys)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSimObjectStorageEndpoints(t *testing.T) {
	// The secret comes from the environment and is never printed.
	const secret = "sim-secret-from-env-123"
	t.Setenv("FLAREHOSE_SIM_S3_ACCESS_KEY", "sim-access")
	t.Setenv("FLAREHOSE_SIM_S3_SECRET_KEY", secret)
	base, printed := startSim(t, "--token", "cli-test-token", "--s3-endpoint", "http://127.0.0.1:9", "--gcs-endpoint", "http://127.0.0.1:4443",
		"--azure-endpoint", "http://127.0.0.1:10000/devstoreaccount1", "--http-endpoints")
	for _, want := range []string{"s3:// -> http://127.0.0.1:9", "gs:// -> http://127.0.0.1:4443", "azure:// -> http://127.0.0.1:10000/devstoreaccount1", "over http"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	if strings.Contains(printed, secret) || strings.Contains(printed, "sim-access") {
		t.Errorf("output shows the S3 keys:\n%s", printed)
	}
	// An r2:// destination has no endpoint configured: the ownership-free
	// job creation fails validation with a clear message, quickly.
	zone := regexp.MustCompile(`zone:\s+([0-9a-f]{32})`).FindStringSubmatch(printed)[1]
	start := time.Now()
	env := simAPI(t, http.MethodPost, base+"/zones/"+zone+"/logpush/jobs", "cli-test-token",
		map[string]any{"dataset": "http_requests", "destination_conf": "r2://b/p?account-id=0123&access-key-id=a&secret-access-key=" + secret})
	errs, _ := env["errors"].([]any)
	if env["success"] != false || len(errs) == 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("r2 without --r2-endpoint: %v", env)
	}
	if msg := errs[0].(map[string]any)["message"].(string); !strings.Contains(msg, "--r2-endpoint") || strings.Contains(msg, secret) {
		t.Fatalf("message %q", msg)
	}
	// The S3 endpoint (nothing listens on port 9) fails creation quickly,
	// without the keys in the message.
	start = time.Now()
	env = simAPI(t, http.MethodPost, base+"/zones/"+zone+"/logpush/validate/destination", "cli-test-token",
		map[string]any{"destination_conf": "s3://b/p?access-key-id=a&secret-access-key=" + secret + "&endpoint=127.0.0.1:9"})
	res, _ := env["result"].(map[string]any)
	if res["valid"] != false || time.Since(start) > 20*time.Second {
		t.Fatalf("unreachable endpoint: %v after %v", env, time.Since(start))
	}
	if msg, _ := res["message"].(string); !strings.HasPrefix(msg, "error validating destination: error writing object:") || strings.Contains(msg, secret) {
		t.Fatalf("message %q", msg)
	}
}
