package normalize

import (
	"strings"
	"sync"

	"github.com/zeebo/xxh3"
)

// lru is a bounded, goroutine-safe LRU cache keyed by string. It is split
// into shards, each behind its own mutex, so concurrent normalizers rarely
// contend.
type lru[V any] struct {
	shards []lruShard[V]
	mask   uint64
}

type lruShard[V any] struct {
	mu   sync.Mutex
	m    map[string]*lruEntry[V]
	head lruEntry[V] // sentinel: head.next is the most recently used
	cap  int
	_    [32]byte // keep hot shards on separate cache lines
}

type lruEntry[V any] struct {
	key        string
	val        V
	prev, next *lruEntry[V]
}

// newLRU returns a cache holding about size entries (at least one per shard).
func newLRU[V any](size int) *lru[V] {
	n := 16
	for n > 1 && size/n < 8 {
		n /= 2
	}
	c := &lru[V]{shards: make([]lruShard[V], n), mask: uint64(n - 1)}
	per := max(1, size/n)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.m = make(map[string]*lruEntry[V], per)
		sh.cap = per
		sh.head.next, sh.head.prev = &sh.head, &sh.head
	}
	return c
}

func (c *lru[V]) shard(key string) *lruShard[V] {
	return &c.shards[xxh3.HashString(key)&c.mask]
}

// Get returns the cached value and marks it recently used.
func (c *lru[V]) Get(key string) (V, bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	e, ok := sh.m[key]
	if !ok {
		sh.mu.Unlock()
		var zero V
		return zero, false
	}
	sh.unlink(e)
	sh.pushFront(e)
	v := e.val
	sh.mu.Unlock()
	return v, true
}

// Add stores a value (the key is copied), evicting the least recently used
// entry of its shard when full.
func (c *lru[V]) Add(key string, v V) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok {
		e.val = v
		sh.unlink(e)
		sh.pushFront(e)
		return
	}
	var e *lruEntry[V]
	if len(sh.m) >= sh.cap {
		e = sh.head.prev // least recently used: reuse its entry
		sh.unlink(e)
		delete(sh.m, e.key)
	} else {
		e = new(lruEntry[V])
	}
	e.key = strings.Clone(key)
	e.val = v
	sh.m[e.key] = e
	sh.pushFront(e)
}

// Len returns the number of cached entries.
func (c *lru[V]) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

func (sh *lruShard[V]) unlink(e *lruEntry[V]) {
	e.prev.next = e.next
	e.next.prev = e.prev
}

func (sh *lruShard[V]) pushFront(e *lruEntry[V]) {
	e.prev = &sh.head
	e.next = sh.head.next
	sh.head.next.prev = e
	sh.head.next = e
}
