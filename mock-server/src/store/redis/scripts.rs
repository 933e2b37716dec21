//! The Lua scripts that make each store step one atomic round trip.
//!
//! Sent by `EVALSHA`, loaded again by the client when Redis answers `NOSCRIPT` (after a
//! restart). Keys built inside a script (an evicted record's) share the namespace prefix, so
//! the store needs a single Redis, not a Redis Cluster.

use std::sync::LazyLock;

use redis::Script;

/// Stores a new record unless its id is taken; indexes it by creation order. When the store
/// is full, it evicts `victim`, the record the caller chose by [`crate::store::eviction_victim`]
/// (then the oldest, for any room still missing); with no victim given it stores nothing and
/// answers -1, so the caller reads the oldest records and chooses one.
///
/// KEYS: record, index, evicted counter. ARGV: id, seq, capacity, key prefix of records,
/// victim id (empty: none chosen yet), then the record's fields as name/value pairs. Returns
/// 1 when stored, 0 when taken, -1 when full and no victim was given.
pub(crate) static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local over = redis.call('ZCARD', KEYS[2]) + 1 - tonumber(ARGV[3])
if over > 0 then
  if ARGV[5] == '' then return -1 end
  local evicted = 0
  if redis.call('ZREM', KEYS[2], ARGV[5]) == 1 then
    redis.call('DEL', ARGV[4] .. ARGV[5])
    evicted = 1
  end
  if over > evicted then
    local old = redis.call('ZPOPMIN', KEYS[2], over - evicted)
    for i = 1, #old, 2 do redis.call('DEL', ARGV[4] .. old[i]) end
    evicted = evicted + #old / 2
  end
  redis.call('INCRBY', KEYS[3], evicted)
end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
",
    )
});

/// A poll's read-observe-update: counts the poll (and, before the timeout of a scenario that
/// expires, counts it towards the scenario; while the journey holds, as held) and returns the
/// record as it was before, with the clock reading the poll happened at.
///
/// KEYS: record, manual clock. ARGV: now in nanoseconds, or empty to read the manual clock
/// in the same step. Returns `{d, pt, pc, hp, ver, now}` (before the update), or nil.
pub(crate) static POLL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('HMGET', KEYS[1], 'd', 'pt', 'pc', 'hp', 'ver', 'c', 't', 'x', 'h')
if not v[1] then return nil end
local now = ARGV[1]
if now == '' then now = redis.call('GET', KEYS[2]) or '0' end
redis.call('HINCRBY', KEYS[1], 'pt', 1)
local late = v[8] == '1' and tonumber(now) - tonumber(v[6]) >= tonumber(v[7])
if not late then
  redis.call('HINCRBY', KEYS[1], 'pc', 1)
  if v[9] == '1' then redis.call('HINCRBY', KEYS[1], 'hp', 1) end
end
return {v[1], v[2], v[3], v[4], v[5], now}
",
    )
});

/// Writes a changed record if nothing else wrote it since it was read: same version, same
/// poll count (a poll in between may have changed what the change was computed from).
///
/// KEYS: record. ARGV: version read, polls_total read, then fields as name/value pairs.
/// Returns 1 when written, 0 when the record changed (the caller reads again and retries),
/// -1 when it is gone.
pub(crate) static WRITE_IF_UNCHANGED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('HMGET', KEYS[1], 'ver', 'pt')
if not v[1] then return -1 end
if v[1] ~= ARGV[1] or v[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('HINCRBY', KEYS[1], 'ver', 1)
return 1
",
    )
});

/// Counts a create for an account (create faults' `nth`), forgetting every count when the
/// table is full so it stays bounded.
///
/// KEYS: counts hash. ARGV: account, limit. Returns the 1-based ordinal.
pub(crate) static COUNT_CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  redis.call('DEL', KEYS[1])
end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
",
    )
});

/// Forgets every validation, the evicted counter, the armed scenarios and the create counts
/// in one step, so no create or poll from another replica lands halfway through a reset.
///
/// KEYS: index, evicted counter, armed list, create counts. ARGV: key prefix of records.
pub(crate) static CLEAR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for i = 1, #ids do
  redis.call('DEL', ARGV[1] .. ids[i])
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
",
    )
});
