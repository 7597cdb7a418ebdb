-- Shared prelude of every budget script (prepended to acquire.lua, penalize.lua and usage.lua, so
-- each operation is still ONE script). It mirrors router/budgets/memory.py in the same IEEE
-- doubles; every float crosses the wire as a "%.17g" string, which round-trips exactly.
--
-- KEYS[1]  {prefix:provider:credential}:log      sorted set, score = grant time, member = "cost:id"
-- KEYS[2]  {prefix:provider:credential}:penalty  hash: paused_until (end of the last pause), level
-- ARGV[1]  "now" in seconds, or "" to read Redis's own clock (TIME); the override is for tests.

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

