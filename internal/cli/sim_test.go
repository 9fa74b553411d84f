package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSimCommand(t *testing.T) {
	var out, errb syncBuffer
	root := newRoot(streams{strings.NewReader(""), &out, &errb})
	root.SetArgs([]string{"sim", "--listen", "127.0.0.1:0", "--token", "cli-test-token", "--email", "me@example.com",
		"--zone", "0123456789abcdef0123456789abcdef", "--zone", "fedcba9876543210fedcba9876543210=adatum.dev", "--retention"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim: %v", err)
		}
	}()
	urlRe := regexp.MustCompile(`Cloudflare API at (http://\S+/client/v4)`)
	deadline := time.Now().Add(10 * time.Second)
	var base string
	for base == "" {
		if m := urlRe.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "logpull retention") {
			base = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no base URL printed; stdout %q stderr %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	printed := out.String()
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
	} {
		code, _, errs := run(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q (want %q)", c.args, code, errs, c.want)
		}
	}
	if code, out, _ := run(t, "", "sim", "--help"); code != 0 || !strings.Contains(out, "--ownership-dir") {
		t.Errorf("sim --help: exit %d", code)
	}
}
