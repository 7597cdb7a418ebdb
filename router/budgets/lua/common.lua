-- Shared prelude of every budget script (prepended to acquire.lua, penalize.lua and usage.lua, so
-- each operation is still ONE script). It mirrors router/budgets/memory.py in the same IEEE
-- doubles; every float crosses the wire as a "%.17g" string, which round-trips exactly.
--
-- KEYS[1]  {prefix:provider:credential}:log      sorted set, score = grant time, member = "cost:id"
-- KEYS[2]  {prefix:provider:credential}:penalty  hash: paused_until (end of the last pause), level
-- KEYS[3]  {prefix:provider:credential}:epoch    string "token since": set on first use, no TTL
-- ARGV[1]  "now" in seconds, or "" to read Redis's own clock (TIME); the override is for tests.
-- ARGV[2..7] the memory-loss guard (see guard() below): the marker this store last saw ("" if
--          none), a fresh token, the store's own loss instant ("" if none), cap, horizon,
--          ttl_grace_ms. Each operation's own arguments start at ARGV[8].

local function fmt(x)
  return string.format('%.17g', x)
end

local function clock(override)
  if override ~= '' then
    return tonumber(override)
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function cost_of(member)
  return tonumber(string.match(member, '^(%d+):'))
end

-- The penalty state at `now`: paused_until (nil if never paused) and the level, forgiven (0)
-- once `decay` seconds have passed since the last pause ended.
local function penalty(key, now, decay)
  local state = redis.call('HMGET', key, 'paused_until', 'level')
  local paused_until = tonumber(state[1])
  local level = tonumber(state[2]) or 0
  if level > 0 and now - paused_until >= decay then
    level = 0
  end
  return paused_until, level
end

-- The grants still in the window at `now` (t + horizon > now, the memory store's test in the
-- same doubles): returns the flat ZRANGE reply, the index of the first live member and the units
-- they hold. With `prune`, the expired grants are removed (they are oldest first).
local function window(key, now, horizon, prune)
  local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local first = 1
  while first < #entries and tonumber(entries[first + 1]) + horizon <= now do
    first = first + 2
  end
  if prune and first > 1 then
    redis.call('ZREMRANGEBYRANK', key, 0, (first - 1) / 2 - 1)
  end
  local used = 0
  for i = first, #entries, 2 do
    used = used + cost_of(entries[i])
  end
  return entries, first, used
end


-- The memory-loss guard, run first by every operation. The epoch marker KEYS[3] ("token since")
-- is set on first use and never expires, so it is missing (or different from the one this store
-- saw) only if Redis lost its memory: FLUSHALL / FLUSHDB, a restart without persistence, a
-- failover to an empty replica. Then the grants of the last horizon are gone too, and the key is
-- treated as fully spent for one horizon from `since` (when the loss was first noticed): one
-- synthetic grant of `cap` units at `since`, the same member for every store that notices the
-- same marker (ZADD NX), so several detectors do not stack seeds. A key this store never saw is
-- seeded from the store's own loss instant ARGV[4] when it has one (another key told it).
-- Returns status ("" or "lost"), the marker now in force, and `since` ("" unless lost).
local function seed(log, since, now)
  local cap, horizon = tonumber(ARGV[5]), tonumber(ARGV[6])
  if since + horizon <= now then
    return  -- the lost grants have all left the window by now
  end
  redis.call('ZADD', log, 'NX', fmt(since), ARGV[5] .. ':lost@' .. fmt(since))
  local need = math.ceil((since + horizon - now) * 1000) + tonumber(ARGV[7])
  if redis.call('PTTL', log) < need then
    redis.call('PEXPIRE', log, string.format('%d', need))
  end
end

local function guard(now)
  local seen = ARGV[2]
  local marker = redis.call('GET', KEYS[3])
  if marker and marker == seen then
    return '', marker, ''
  end
  local lost, since = false, nil
  if not marker then
    marker = ARGV[3] .. ' ' .. fmt(now)
    redis.call('SET', KEYS[3], marker)
    if seen ~= '' then
      lost, since = true, now
    end
  elseif seen ~= '' then
    lost, since = true, tonumber(string.match(marker, ' (%S+)$')) or now
  end
  if lost then
    seed(KEYS[1], since, now)
    return 'lost', marker, fmt(since)
  end
  if ARGV[4] ~= '' then
    seed(KEYS[1], tonumber(ARGV[4]), now)
  end
  return '', marker, ''
end
