package cfapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// Clock tells the time and waits. Sources use it for every decision that
// depends on the time (windows, backoff, budgets) so tests can run them
// against the simulator's clock.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Cloudflare's limits (PROTOCOL.md §1.3, §4.5).
const (
	// APIRequests per APIWindow per user or token, counted across the
	// dashboard and the API: going over blocks every call for 5 minutes.
	APIRequests = 1200
	APIWindow   = 5 * time.Minute
	// Logpull allows 15 requests per minute per zone and 180 per user.
	LogpullZoneRequests = 15
	LogpullUserRequests = 180
)

// Budget spreads requests so that no more than limit start in any window
// (a sliding window over the start times of the last limit requests). It
// also holds a block until a time, set from a 429's Retry-After, so every
// source sharing the credential waits instead of prolonging Cloudflare's
// block. Safe for concurrent use.
type Budget struct {
	mu           sync.Mutex
	limit        int
	window       time.Duration
	starts       []time.Time // ring of the last limit start times
	next         int
	blockedFrom  time.Time // when the block was set (per the clock then)
	blockedUntil time.Time
}

// NewBudget returns a budget of limit requests per window.
func NewBudget(limit int, window time.Duration) *Budget {
	return &Budget{limit: max(limit, 1), window: window}
}

// reserve takes a slot at now, or returns how long to wait for one.
func (b *Budget) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.blockedFrom) {
		b.blockedFrom, b.blockedUntil = time.Time{}, time.Time{} // the clock went back
	}
	if now.Before(b.blockedUntil) {
		return b.blockedUntil.Sub(now)
	}
	if len(b.starts) < b.limit {
		b.starts = append(b.starts, now)
		return 0
	}
	oldest := b.starts[b.next]
	if wait := oldest.Add(b.window).Sub(now); wait > 0 && !now.Before(oldest) {
		return wait
	}
	// The oldest start left the window (or the clock went back: start afresh from now).
	b.starts[b.next] = now
	b.next = (b.next + 1) % b.limit
	return 0
}

// Wait blocks until a request may start, then counts it.
func (b *Budget) Wait(ctx context.Context, clock Clock) error {
	for {
		d := b.reserve(clock.Now())
		if d <= 0 {
			return ctx.Err()
		}
		if err := clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Block makes Wait hold every request from now until until.
func (b *Budget) Block(now, until time.Time) {
	b.mu.Lock()
	if until.After(b.blockedUntil) {
		b.blockedFrom, b.blockedUntil = now, until
	}
	b.mu.Unlock()
}

var (
	budgetsMu sync.Mutex
	budgets   = map[string]*Budget{}
)

// SharedBudget returns the process-wide budget named key, making it with
// limit per window the first time. Sources that use the same credential
// against the same API share one, as Cloudflare counts them together.
func SharedBudget(key string, limit int, window time.Duration) *Budget {
	budgetsMu.Lock()
	defer budgetsMu.Unlock()
	b := budgets[key]
	if b == nil {
		b = NewBudget(limit, window)
		budgets[key] = b
	}
	return b
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte("flarehose-budget:" + s))
	return hex.EncodeToString(sum[:8])
}
