-- wrk script: each request posts the next line of bench/turnlines.py to the next conversation.
-- bench/service.py fills in `ids`, `lines` and `token` before this text.
local n = 0
local said = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  local k = (said[id] or 0)
  said[id] = k + 1
  local line = lines[(k % #lines) + 1]
  return wrk.format(nil, "/api/v1/conversations/" .. id .. "/messages", nil, line)
end

