-- usage: the state of one key, read only.
-- ARGV: now|"", horizon, penalty_decay
-- Returns {now, used, paused_until|"", level}.
local now = clock(ARGV[1])
local _, _, used = window(KEYS[1], now, tonumber(ARGV[2]), false)
local paused_until, level = penalty(KEYS[2], now, tonumber(ARGV[3]))
local until_text = ''
if paused_until ~= nil then
  until_text = fmt(paused_until)
end
return {fmt(now), string.format('%d', used), until_text, string.format('%d', level)}
