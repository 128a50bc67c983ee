-- wrk script: cycles through presigned URLs (one per line in the file given as the first
-- script argument) with the method given as the second; PUT bodies are random bytes of the
-- size given as the third argument (incompressible, generated once per thread).
--   wrk -t1 -c32 -d10s -s presigned.lua http://127.0.0.1:PORT -- urls.txt PUT 4096
local urls = {}
local method = "GET"
local body = nil
local index = 0

function init(args)
  for line in io.lines(args[1]) do
    urls[#urls + 1] = line
  end
  method = args[2] or "GET"
  local size = tonumber(args[3] or "0")
  if method == "PUT" then
    math.randomseed(os.time() + #urls)
    local bytes = {}
    for i = 1, size do
      bytes[i] = string.char(math.random(0, 255))
    end
    body = table.concat(bytes)
  end
  index = math.random(1, #urls)
end

function request()
  index = index % #urls + 1
  return wrk.format(method, urls[index], nil, body)
end

function response(status, headers, response_body)
  if status >= 300 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
