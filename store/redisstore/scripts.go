package redisstore

import "github.com/redis/go-redis/v9"

// indexLua is shared by the scripts that write cache keys. It records key k in the owner
// index idx with score = the key's expiry time (server clock, ms), drops members whose
// keys have already expired, and makes the index live at least as long as its newest
// member. Every index is created here, with a TTL in the same atomic step, so an index
// never lives forever.
const indexLua = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function index(idx, k, now, ttl)
  redis.call('ZADD', idx, now + ttl, k)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. now)
  if redis.call('PTTL', idx) < ttl then
    redis.call('PEXPIRE', idx, ttl)
  end
end
local function unlink_members(idx)
  local ks = redis.call('ZRANGE', idx, 0, -1)
  local n = 0
  for i = 1, #ks, 500 do
    n = n + redis.call('UNLINK', unpack(ks, i, math.min(i + 499, #ks)))
  end
  redis.call('UNLINK', idx)
  return n
end
`

// setScript: KEYS = key1, index1, key2, index2, ...; ARGV = ttl_ms, value1, value2, ...
var setScript = redis.NewScript(indexLua + `
local now = now_ms()
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS, 2 do
  redis.call('SET', KEYS[i], ARGV[(i + 1) / 2 + 1], 'PX', ttl)
  index(KEYS[i + 1], KEYS[i], now, ttl)
end
return #KEYS / 2
`)

// replaceScript: KEYS = key, index; ARGV = ttl_ms, value, channel, message. Removes every
// key of the owner, then writes key: the owner ends up with exactly this one key. Then, if
// channel is not "", publishes message on it, in the same atomic step: a subscriber that
// reads the key after the message sees the new value.
var replaceScript = redis.NewScript(indexLua + `
local removed = unlink_members(KEYS[2])
local now = now_ms()
local ttl = tonumber(ARGV[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
index(KEYS[2], KEYS[1], now, ttl)
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return removed
`)

// deleteScript: KEYS = key1, index1, key2, index2, ...; returns how many keys existed.
var deleteScript = redis.NewScript(`
local n = 0
for i = 1, #KEYS, 2 do
  n = n + redis.call('UNLINK', KEYS[i])
  redis.call('ZREM', KEYS[i + 1], KEYS[i])
end
return n
`)

// invalidateScript: KEYS = index1, index2, ...; unlinks every key listed in the indexes and
// the indexes; returns how many keys existed.
var invalidateScript = redis.NewScript(indexLua + `
local n = 0
for _, idx in ipairs(KEYS) do
  n = n + unlink_members(idx)
end
return n
`)

// versionScript: KEYS = versions hash; ARGV = name, version (canonical decimal), channel
// ("" = don't publish). Raises the stored version, never lowers it, optionally publishes
// the resulting current version, and returns it. Versions are compared as decimal
// strings (length, then bytes), exact for every int64, where Lua numbers are not.
var versionScript = redis.NewScript(`
local function gt(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or gt(ARGV[2], cur) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  cur = ARGV[2]
end
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], '{"name":"' .. ARGV[1] .. '","version":' .. cur .. '}')
end
return cur
`)
