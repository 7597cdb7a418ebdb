-- usage: the state of one key, read only (but for the memory-loss guard, which may repair).
-- ARGV: now|"", guard (6, see common.lua), horizon, penalty_decay
-- Returns the guard's {status, marker, since}, then {now, used, paused_until|"", level}.
local now = clock(ARGV[1])
local status, marker, since = guard(now)
local _, _, used = window(KEYS[1], now, tonumber(ARGV[8]), false)
local paused_until, level = penalty(KEYS[2], now, tonumber(ARGV[9]))
local until_text = ''
if paused_until ~= nil then
  until_text = fmt(paused_until)
end
return {status, marker, since, fmt(now), string.format('%d', used), until_text, string.format('%d', level)}
