package crash

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// What the crash tests check, end to end:
//
//   - nothing acknowledged is lost: the receiver answers 200 only once an
//     upload is fsynced in the queue, the queue survives SIGKILL, the sink
//     re-reads what it had not committed its cursor for;
//   - re-deliveries are deduplicated: uploads whose answer was lost are sent
//     again (by the killed connections, and on purpose: lostAckRate), and the
//     queue re-delivers batches the store committed just before a kill; the
//     store keeps one copy of each record;
//   - SIGTERM stops cleanly (exit status 0) after the store caught up.
//
// SIGKILL ends the process, not the machine: data handed to the kernel
// survives it, so this proves ordering and recovery, not that fsync reaches
// the disk (see internal/queue/crash_test.go).

func skipUnlessCrashTests(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests run child processes for a minute: skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL/SIGTERM")
	}
}

// goTool is the go command of the toolchain running the test, else the one
// on PATH.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); runtime.GOROOT() != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// buildFlarehose builds cmd/flarehose into a temporary directory.
func buildFlarehose(t *testing.T) string {
	t.Helper()
	root, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "flarehose")
	cmd := exec.Command(goTool(), "build", "-o", bin, "./cmd/flarehose")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCrashKillRestart runs the real binary through 20 rounds of load, each
// ended by SIGKILL at a random moment (round 10 by SIGTERM), then a last
// start that gets every upload acknowledged and a SIGTERM, and checks the
// store.
func TestCrashKillRestart(t *testing.T) {
	skipUnlessCrashTests(t)
	start := time.Now()
	bin := buildFlarehose(t)
	t.Logf("built flarehose in %v", time.Since(start).Round(time.Millisecond))

	const rounds = 20
	const gracefulRound = 10
	srv := newServer(t, []string{bin}, nil, "duckdb")
	seed := rand.Uint64()
	t.Logf("simulator seed %d", seed)
	lg := newLoadGen(t, srv, 4, 3000, 0.05, seed)
	for round := 1; round <= rounds; round++ {
		srv.start()
		load := time.Duration(300+rand.IntN(1200)) * time.Millisecond
		time.Sleep(load)
		if round == gracefulRound {
			if code := srv.stop(); code != 0 {
				t.Fatalf("round %d: SIGTERM under load: exit status %d:\n%s", round, code, srv.tail(srv.logs[len(srv.logs)-1]))
			}
			// A graceful stop lets the store commit everything queued: all
			// that was acknowledged is in the store now, not only in the queue.
			checkStored(t, srv, lg.ackedNow())
		} else {
			srv.kill()
		}
		st, acked := lg.stats()
		how := "SIGKILL"
		if round == gracefulRound {
			how = "SIGTERM"
		}
		t.Logf("round %2d: %s after %v of load; so far %d uploads, %d acknowledged records", round, how, load, st.uploads, acked)
	}
	// The last start: Cloudflare re-sends what is missing, then we stop.
	srv.start()
	acked := lg.finish(t)
	if code := srv.stop(); code != 0 {
		t.Fatalf("final SIGTERM: exit status %d:\n%s", code, srv.tail(srv.logs[len(srv.logs)-1]))
	}
	counts := storedRays(t, srv)
	checkExactlyOnce(t, acked, lg.sent, counts)
	if dl := deadLetters(t, srv); dl != "" {
		t.Errorf("dead letters (simulated records are all valid):\n%s", dl)
	}
	report(t, srv, lg, counts, start)
}

// TestSinkFailsMidBatch runs serve (this test binary as the CLI, with the
// test-only flaky sink) with a quarter of the store writes failing: before
// writing, interrupted mid-transaction, after committing half the batch, or
// after committing all of it; plus a few SIGKILLs. Once the load stops and
// the sink catches up, every record is stored exactly once.
func TestSinkFailsMidBatch(t *testing.T) {
	skipUnlessCrashTests(t)
	start := time.Now()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, []string{self}, []string{childEnv + "=0.25"}, flakySinkType)
	seed := rand.Uint64()
	t.Logf("simulator seed %d", seed)
	lg := newLoadGen(t, srv, 4, 3000, 0, seed)
	for round := 1; round <= 4; round++ {
		srv.start()
		time.Sleep(time.Duration(800+rand.IntN(700)) * time.Millisecond)
		srv.kill()
	}
	srv.start()
	time.Sleep(time.Second)
	acked := lg.finish(t)
	if code := srv.stop(); code != 0 {
		t.Fatalf("SIGTERM: exit status %d:\n%s", code, srv.tail(srv.logs[len(srv.logs)-1]))
	}
	counts := storedRays(t, srv)
	checkExactlyOnce(t, acked, lg.sent, counts)
	if dl := deadLetters(t, srv); dl != "" {
		t.Errorf("dead letters (simulated records are all valid):\n%s", dl)
	}
	ls := report(t, srv, lg, counts, start)
	injected := 0
	for _, n := range ls.injected {
		injected += n
	}
	if injected == 0 || ls.sinkFailures == 0 {
		t.Errorf("no sink failure was injected (%v) or retried (%d): the test tested nothing", ls.injected, ls.sinkFailures)
	}
	if ls.injected["half"]+ls.injected["after"] > 0 && ls.duplicates == 0 {
		t.Errorf("writes failed after committing (%v) but their retries skipped no duplicate", ls.injected)
	}
}

func report(t *testing.T, srv *server, lg *loadGen, counts map[string]int, start time.Time) logStats {
	t.Helper()
	st, acked := lg.stats()
	ls := srv.scanLogs()
	t.Logf("serve started %d times; %d uploads (%d records) made, %d requests: %d acknowledged, %d refused (down), %d unanswered (killed), %d rejected (429/503)",
		srv.starts, st.uploads, st.uploads*recordsPerUpload, st.posts, st.acked, st.refused, st.unanswered, st.rejected)
	t.Logf("re-sent after they may have been stored: %d records (%d uploads re-sent on purpose after a 200)", st.resentRecords, st.lostAckResent)
	t.Logf("store: %d distinct records (%d acknowledged), %d duplicates skipped by the store's dedup; sink write failures retried: %d, injected: %v",
		len(counts), acked, ls.duplicates, ls.sinkFailures, ls.injected)
	for _, e := range ls.errors {
		t.Logf("logged error: %.400s", e)
	}
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
	if st.lostAckResent > 0 && ls.duplicates == 0 {
		t.Errorf("acknowledged uploads were sent again but the store never skipped a duplicate")
	}
	for _, r := range ls.races {
		t.Errorf("race detector in serve: %s", r)
	}
	return ls
}
