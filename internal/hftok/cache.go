package hftok

import (
	"hash/maphash"
	"strings"
	"sync"
)

// cache remembers the ids of recently seen pieces. It is sharded, each
// shard a mutex-guarded map emptied when it reaches its capacity, so memory
// stays bounded and concurrent encoders rarely contend. A nil *cache caches
// nothing.
type cache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const (
	cacheShards   = 64
	cacheShardCap = 2048 // entries per shard
	cacheMaxKey   = 64   // longer pieces are not cached
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
	_  [40]byte // keep shards on separate cache lines
}

func newCache() *cache { return &cache{seed: maphash.MakeSeed()} }

func (c *cache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

func (c *cache) get(key string) ([]int32, bool) {
	if c == nil || len(key) > cacheMaxKey {
		return nil, false
	}
	s := c.shard(key)
	s.mu.RLock()
	ids, ok := s.m[key]
	s.mu.RUnlock()
	return ids, ok
}

// put stores ids, which must not be modified afterwards.
func (c *cache) put(key string, ids []int32) {
	if c == nil || len(key) > cacheMaxKey {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	if s.m == nil || len(s.m) >= cacheShardCap {
		s.m = make(map[string][]int32, cacheShardCap/4)
	}
	s.m[strings.Clone(key)] = ids
	s.mu.Unlock()
}
