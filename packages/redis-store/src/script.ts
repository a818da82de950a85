/**
 * The one Lua script of a verdict: read the key's state, move its windows step by step,
 * count, decide the outcome, write it back and set its TTL, atomically in one round trip.
 * It is the arithmetic of core's `MemoryDetectorStore.updateNow`, line for line; the tests
 * run the same sequences through both and compare every reply.
 *
 * State, one hash per key:
 *   w   JSON {h = newest bucket index, t/d/b = rings of BUCKETS counts (total, denied,
 *       alerting verdicts), st/sd/sb = their sums}; ring slot of bucket i is i % BUCKETS
 *   c   end of the cooldown (ms), as the exact decimal string the caller computed
 *   ev, de, cv, av, sv   lifetime counts (events, denied events, clean, alert, suppressed verdicts)
 *
 * KEYS[1] the key. ARGV: now, windowMs, alerts, deniedLimit, totalLimit, budget,
 * cooldownUntil-if-exhausted (string), keepMs, BUCKETS, n, then n × (bucket, total, denied).
 * Reply: { outcome, cooldownUntil or '', total0, denied0, total1, denied1, … } (sums before each step).
 */
export const UPDATE_SCRIPT = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local alerts = tonumber(ARGV[3])
local deniedLimit = tonumber(ARGV[4])
local totalLimit = tonumber(ARGV[5])
local budget = tonumber(ARGV[6])
local exhaustedUntil = ARGV[7]
local keepMs = tonumber(ARGV[8])
local N = tonumber(ARGV[9])
local n = tonumber(ARGV[10])

local raw = redis.call('HMGET', key, 'w', 'c')
local w
if raw[1] then
  w = cjson.decode(raw[1])
else
  w = { h = tonumber(ARGV[11]), t = {}, d = {}, b = {}, st = 0, sd = 0, sb = 0 }
  for i = 1, N do w.t[i] = 0; w.d[i] = 0; w.b[i] = 0 end
end
local c = raw[2]

local function advance(bucket)
  if bucket <= w.h then return end
  local steps = bucket - w.h
  if steps >= N then
    for i = 1, N do w.t[i] = 0; w.d[i] = 0; w.b[i] = 0 end
    w.st = 0; w.sd = 0; w.sb = 0
  else
    for i = 1, steps do
      local s = ((w.h + i) % N) + 1
      w.st = w.st - w.t[s]; w.t[s] = 0
      w.sd = w.sd - w.d[s]; w.d[s] = 0
      w.sb = w.sb - w.b[s]; w.b[s] = 0
    end
  end
  w.h = bucket
end

local out = {}
local peakT, peakD, events, denied = 0, 0, 0, 0
for i = 0, n - 1 do
  local bucket = tonumber(ARGV[11 + 3 * i])
  local t = tonumber(ARGV[12 + 3 * i])
  local d = tonumber(ARGV[13 + 3 * i])
  advance(bucket)
  out[#out + 1] = w.st
  out[#out + 1] = w.sd
  local s = (w.h % N) + 1
  if t > 0 then
    w.t[s] = w.t[s] + t; w.st = w.st + t
    if w.st > peakT then peakT = w.st end
  end
  if d > 0 then
    w.d[s] = w.d[s] + d; w.sd = w.sd + d
    if w.sd > peakD then peakD = w.sd end
  end
  events = events + t
  denied = denied + d
end

local rate = (deniedLimit > 0 and peakD > deniedLimit) or (totalLimit > 0 and peakT > totalLimit)
local outcome, counter
if c and now < tonumber(c) then
  outcome = 'cooling'; counter = 'sv'
elseif alerts == 0 and not rate then
  outcome = 'clean'; counter = 'cv'
elseif budget > 0 and w.sb >= budget then
  c = exhaustedUntil
  outcome = 'exhausted'; counter = 'sv'
else
  if budget > 0 then
    local s = (w.h % N) + 1
    w.b[s] = w.b[s] + 1; w.sb = w.sb + 1
  end
  outcome = 'alert'; counter = 'av'
end

redis.call('HSET', key, 'w', cjson.encode(w))
if c then redis.call('HSET', key, 'c', c) end
if events > 0 then redis.call('HINCRBY', key, 'ev', events) end
if denied > 0 then redis.call('HINCRBY', key, 'de', denied) end
redis.call('HINCRBY', key, counter, 1)
local ttl = math.max(keepMs, windowMs)
if c and tonumber(c) - now > ttl then ttl = tonumber(c) - now end
redis.call('PEXPIRE', key, math.ceil(ttl))

local reply = { outcome, c or '' }
for i = 1, #out do reply[#reply + 1] = out[i] end
return reply
`;
