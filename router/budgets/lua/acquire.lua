-- try_acquire: check and book `cost` units in one step.
-- ARGV: now|"", guard (6, see common.lua), cost, allowed, horizon, penalty_decay, log_ttl_ms,
--       member ("cost:unique-id")
-- Returns the guard's {status, marker, since}, then {"ok"} | {"rate_limited", now, paused_until}
-- | {"budget_exhausted", now, granted_at} where granted_at is the grant whose expiry frees enough
-- units; the caller turns the times into an exact delay.
local now = clock(ARGV[1])
local status, marker, since = guard(now)
local cost = tonumber(ARGV[8])
local allowed = tonumber(ARGV[9])
local horizon = tonumber(ARGV[10])
local decay = tonumber(ARGV[11])

local paused_until = penalty(KEYS[2], now, decay)
local entries, first, used = window(KEYS[1], now, horizon, true)
if paused_until ~= nil and now < paused_until then
  return {status, marker, since, 'rate_limited', fmt(now), fmt(paused_until)}
end
if used + cost > allowed then
  local need = used + cost - allowed
  local freed = 0
  for i = first, #entries, 2 do
    freed = freed + cost_of(entries[i])
    if freed >= need then
      return {status, marker, since, 'budget_exhausted', fmt(now),
              fmt(tonumber(entries[i + 1]))}
    end
  end
  return redis.error_reply('budget log inconsistent: need exceeds the units in the window')
end
redis.call('ZADD', KEYS[1], fmt(now), ARGV[13])
redis.call('PEXPIRE', KEYS[1], ARGV[12])
return {status, marker, since, 'ok'}
