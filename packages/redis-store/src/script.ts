/**
 * The one Lua script of a verdict: read the key's state, move its windows step by step,
 * count, decide the outcome, write it back and set its TTL, atomically in one round trip.
 * It is the arithmetic of core's `MemoryDetectorStore.updateNow`, line for line; the tests
 * run the same sequences through both and compare every reply.
 *
 * State, one hash per key (plain fields, so a verdict in the same bucket touches a handful
 * of them instead of decoding and re-encoding the rings):
 *   h          newest bucket index
 *   st sd sb   sums of the total, denied and alerting-verdict windows
 *   tS dS bS   the rings' non-zero buckets, S = bucket index % BUCKETS (dropped when they leave the window)
 *   c          end of the cooldown (ms), as the exact decimal string the caller computed
 *   ev de cv av sv   lifetime counts (events, denied events, clean, alert, suppressed verdicts)
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

local f = redis.call('HMGET', key, 'h', 'st', 'sd', 'sb', 'c')
local h = tonumber(f[1])
local st = tonumber(f[2]) or 0
local sd = tonumber(f[3]) or 0
local sb = tonumber(f[4]) or 0
local c = f[5]

-- Drops the buckets between the newest and bucket (all of them past a whole window).
local function advance(bucket)
  if h == nil then h = bucket return end
  if bucket <= h then return end
  local steps = bucket - h
  if steps > N then steps = N end
  local names = {}
  for i = 1, steps do
    local s = (h + i) % N
    names[#names + 1] = 't' .. s
    names[#names + 1] = 'd' .. s
    names[#names + 1] = 'b' .. s
  end
  if steps == N then
    st = 0; sd = 0; sb = 0
  else
    local v = redis.call('HMGET', key, unpack(names))
    for i = 1, #names, 3 do
      st = st - (tonumber(v[i]) or 0)
      sd = sd - (tonumber(v[i + 1]) or 0)
      sb = sb - (tonumber(v[i + 2]) or 0)
    end
  end
  redis.call('HDEL', key, unpack(names))
  h = bucket
end

local out = {}
local peakT, peakD, events, denied = 0, 0, 0, 0
for i = 0, n - 1 do
  local bucket = tonumber(ARGV[11 + 3 * i])
  local t = tonumber(ARGV[12 + 3 * i])
  local d = tonumber(ARGV[13 + 3 * i])
  advance(bucket)
  out[#out + 1] = st
  out[#out + 1] = sd
  local s = h % N
  if t > 0 then
    redis.call('HINCRBY', key, 't' .. s, t)
    st = st + t
    if st > peakT then peakT = st end
  end
  if d > 0 then
    redis.call('HINCRBY', key, 'd' .. s, d)
    sd = sd + d
    if sd > peakD then peakD = sd end
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
elseif budget > 0 and sb >= budget then
  c = exhaustedUntil
  outcome = 'exhausted'; counter = 'sv'
else
  if budget > 0 then
    redis.call('HINCRBY', key, 'b' .. (h % N), 1)
    sb = sb + 1
  end
  outcome = 'alert'; counter = 'av'
end

redis.call('HSET', key, 'h', h, 'st', st, 'sd', sd, 'sb', sb)
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
