package queue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The crash test checks the contract sources rely on: once Append returned
// nil the entry survives the process dying at any moment. The parent test
// runs this test binary again as a child (TestCrashChild) that appends
// numbered entries from several goroutines and prints "ack <seq>" right
// after each Append returns; the parent SIGKILLs it at a random moment,
// reopens the queue (recovery) and checks that every acknowledged entry is
// there, byte for byte, exactly once.
//
// SIGKILL kills the process, not the machine: data already handed to the
// kernel survives it even without fsync, so this test proves the write
// path, acknowledgement order and recovery (torn tails happen: a record is
// written by several syscalls), not that fsync reaches the platter. That
// would take power-cut emulation (dm-log-writes, LazyFS).

const (
	crashDirEnv  = "FLAREHOSE_QUEUE_CRASH_DIR"
	crashBaseEnv = "FLAREHOSE_QUEUE_CRASH_BASE"
)

func crashOpts(dir string) Options {
	// Small segments so that kills land during rolls too.
	return Options{Dir: dir, SegmentBytes: 256 << 10, MaxEntryBytes: 64 << 10, MaxBytes: 1 << 30}
}

// crashEntry is entry seq: its number, then deterministic bytes of a
// seq-dependent length, so the parent can check content, not only presence.
func crashEntry(seq uint64) []byte {
	n := 1 + int(seq*2654435761%(40<<10))
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+n), seq)
	return append(b, payload(int(seq), n)...)
}

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as the child of TestCrash")
	}
	base, err := strconv.ParseUint(os.Getenv(crashBaseEnv), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(crashOpts(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the parent kills us long before
	defer cancel()
	var out sync.Mutex
	const appenders = 6
	var wg sync.WaitGroup
	for g := range appenders {
		wg.Go(func() {
			for k := uint64(0); ctx.Err() == nil; k++ {
				seq := base + uint64(g) + k*appenders
				if err := q.Append(ctx, crashEntry(seq)); err != nil {
					if ctx.Err() == nil {
						fmt.Fprintf(os.Stderr, "append %d: %v\n", seq, err)
					}
					return
				}
				// One unbuffered write per ack: it is in the pipe before the
				// next Append starts, so a kill cannot lose a printed ack.
				out.Lock()
				os.Stdout.WriteString("ack " + strconv.FormatUint(seq, 10) + "\n")
				out.Unlock()
			}
		})
	}
	wg.Wait()
	q.Close()
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	rounds := 10
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill delays seeded with %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	var totalAcked, totalRead int
	for round := range rounds {
		base := uint64(round+1) * 1_000_000_000
		acked := runCrashChild(t, dir, base, time.Duration(rng.IntN(400))*time.Millisecond)
		if len(acked) == 0 {
			t.Fatalf("round %d: child acknowledged nothing", round)
		}

		log, lb := testLogger(t)
		o := crashOpts(dir)
		o.Logger = log
		q, err := Open(o)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		r := mustReader(t, q, "verify")
		entries := drain(t, r)
		seen := make(map[uint64]bool, len(entries))
		for _, e := range entries {
			if len(e.Data) < 8 {
				t.Fatalf("round %d: short entry of %d bytes", round, len(e.Data))
			}
			seq := binary.BigEndian.Uint64(e.Data)
			if !bytes.Equal(e.Data, crashEntry(seq)) {
				t.Fatalf("round %d: entry %d is not what was written", round, seq)
			}
			if seen[seq] {
				t.Fatalf("round %d: entry %d read twice", round, seq)
			}
			if seq < base {
				t.Fatalf("round %d: entry %d from an earlier round was committed already", round, seq)
			}
			seen[seq] = true
		}
		for seq := range acked {
			if !seen[seq] {
				t.Fatalf("round %d: acknowledged entry %d lost (acked %d, read %d)\nrecovery log:\n%s",
					round, seq, len(acked), len(entries), lb)
			}
		}
		if c := q.Stats().Corrupt; c != 0 {
			t.Fatalf("round %d: %d corrupt regions after a process crash\n%s", round, c, lb)
		}
		// Commit, so next round checks only its own entries and old segments
		// are deleted (cursor persistence across crashes is exercised too).
		if len(entries) > 0 {
			if err := r.Commit(entries[len(entries)-1].Pos); err != nil {
				t.Fatal(err)
			}
		}
		cut := strings.Contains(lb.String(), "cut torn tail")
		t.Logf("round %d: acked %d, read %d (unacked survivors %d), torn tail cut: %v",
			round, len(acked), len(entries), len(entries)-len(acked), cut)
		totalAcked += len(acked)
		totalRead += len(entries)
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rounds: %d acknowledged, %d read back", rounds, totalAcked, totalRead)
}

// runCrashChild starts the child, kills it with SIGKILL delay after its first
// acknowledgement and returns every sequence number it acknowledged.
func runCrashChild(t *testing.T, dir string, base uint64, delay time.Duration) map[uint64]bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=30s")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashBaseEnv+"="+strconv.FormatUint(base, 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]bool{}
	first := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		once := sync.OnceFunc(func() { close(first) })
		for sc.Scan() {
			s, ok := strings.CutPrefix(sc.Text(), "ack ")
			if !ok {
				continue
			}
			seq, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				continue
			}
			acked[seq] = true
			once()
		}
	}()
	select {
	case <-first:
		time.Sleep(delay)
	case <-time.After(10 * time.Second):
		t.Errorf("child produced no ack within 10s")
	case <-readDone:
		// exited early; reported below
	}
	_ = cmd.Process.Kill() // SIGKILL on unix
	<-readDone
	_ = cmd.Wait()
	if s := stderr.String(); strings.Contains(s, "append") || strings.Contains(s, "FAIL") {
		t.Fatalf("child failed:\n%s", s)
	}
	return acked
}
