package cfapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter counts requests per key in fixed windows. Going over the limit
// blocks the key for the penalty (PROTOCOL.md §1.3: all calls for the next
// 5 minutes); a penalty of 0 blocks until the window ends.
type limiter struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	penalty time.Duration
	m       map[string]*rateWindow
}

type rateWindow struct {
	start        time.Time
	n            int
	blockedUntil time.Time
}

func newLimiter(limit int, win, penalty time.Duration) *limiter {
	if limit < 0 {
		return nil
	}
	return &limiter{limit: limit, window: win, penalty: penalty, m: map[string]*rateWindow{}}
}

// take counts one request. It returns the requests left in the window and
// the time until the window resets; retry > 0 means the request is refused
// and may be retried after that long.
func (l *limiter) take(key string, now time.Time) (remaining int, reset, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.m[key]
	if w == nil {
		w = &rateWindow{start: now}
		l.m[key] = w
	}
	if now.Before(w.blockedUntil) {
		return 0, w.blockedUntil.Sub(now), w.blockedUntil.Sub(now)
	}
	if now.Sub(w.start) >= l.window || now.Before(w.start) {
		w.start, w.n = now, 0
	}
	w.n++
	reset = w.start.Add(l.window).Sub(now)
	if w.n > l.limit {
		w.blockedUntil = w.start.Add(l.window)
		if l.penalty > 0 {
			w.blockedUntil = now.Add(l.penalty)
		}
		return 0, w.blockedUntil.Sub(now), w.blockedUntil.Sub(now)
	}
	return l.limit - w.n, reset, 0
}

// ceilSeconds rounds d up to whole seconds (Retry-After rounds up).
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

func setRateHeaders(h http.Header, l *limiter, remaining int, reset time.Duration) {
	h.Set("Ratelimit", `"default";r=`+strconv.Itoa(remaining)+`;t=`+strconv.FormatInt(ceilSeconds(reset), 10))
	h.Set("Ratelimit-Policy", `"default";q=`+strconv.Itoa(l.limit)+`;w=`+strconv.FormatInt(ceilSeconds(l.window), 10))
}

func rateLimited(w http.ResponseWriter, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(max(ceilSeconds(retry), 1), 10))
	writeError(w, errorf(http.StatusTooManyRequests, CodeRateLimited, msgRateLimited))
}
