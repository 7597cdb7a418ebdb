-- try_acquire: check and book `cost` units in one step.
-- ARGV: now|"", cost, allowed, horizon, penalty_decay, log_ttl_ms, member ("cost:unique-id")
-- Returns {"ok"} | {"rate_limited", now, paused_until} | {"budget_exhausted", now, granted_at}
-- where granted_at is the grant whose expiry frees enough units; the caller turns the times
-- into an exact delay.
local now = clock(ARGV[1])
local cost = tonumber(ARGV[2])
local allowed = tonumber(ARGV[3])
local horizon = tonumber(ARGV[4])
local decay = tonumber(ARGV[5])

local paused_until = penalty(KEYS[2], now, decay)
local entries, first, used = window(KEYS[1], now, horizon, true)
if paused_until ~= nil and now < paused_until then
  return {'rate_limited', fmt(now), fmt(paused_until)}
end
if used + cost > allowed then
  local need = used + cost - allowed
  local freed = 0
  for i = first, #entries, 2 do
    freed = freed + cost_of(entries[i])
    if freed >= need then
      return {'budget_exhausted', fmt(now), fmt(tonumber(entries[i + 1]))}
    end
  end
  return redis.error_reply('budget log inconsistent: need exceeds the units in the window')
end
redis.call('ZADD', KEYS[1], fmt(now), ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {'ok'}
