-- penalize: the provider said "too many"; pause the key and raise the penalty level.
-- ARGV: now|"", guard (6, see common.lua), penalty_decay, retry_after|"", ttl_grace_ms,
--       penalty_base, penalty_factor, penalty_max, table_is_final ("1"/"0"), pause for level 0,
--       level 1, ...
-- The pause table is computed by the caller with the memory store's own formula; past its end
-- the pause stays at the last entry (final) or falls back to base * factor ^ level (C pow, as
-- Python's float ** int), capped at penalty_max.
-- Returns the guard's {status, marker, since}, then {now, paused_until}.
local now = clock(ARGV[1])
local status, marker, since = guard(now)
local decay = tonumber(ARGV[8])
local paused_until, level = penalty(KEYS[2], now, decay)

local known = #ARGV - 14
local pause
if level < known then
  pause = tonumber(ARGV[15 + level])
elseif ARGV[14] == '1' then
  pause = tonumber(ARGV[14 + known])
else
  pause = math.min(tonumber(ARGV[11]) * tonumber(ARGV[12]) ^ level, tonumber(ARGV[13]))
end
if ARGV[9] ~= '' then
  local retry_after = tonumber(ARGV[9])
  if retry_after > pause then
    pause = retry_after
  end
end

level = level + 1
if paused_until == nil or now + pause > paused_until then
  paused_until = now + pause
end
redis.call('HSET', KEYS[2], 'paused_until', fmt(paused_until), 'level', string.format('%d', level))
-- Needed until the pause is over and the level forgiven (capped: PEXPIRE takes an integer).
local ttl = math.min(math.ceil((paused_until - now + decay) * 1000), 1e15) + tonumber(ARGV[10])
redis.call('PEXPIRE', KEYS[2], string.format('%d', ttl))
return {status, marker, since, fmt(now), fmt(paused_until)}
