-- Argo CD health of eventrunner.io EventSource, Pipeline and Sink objects (one script for all
-- three: they share the status shape). Argo CD runs it in gopher-lua (Lua 5.1) with the live
-- object in `obj`.
--
--   Healthy      Ready=True and the operator has observed the current generation
--   Suspended    as Healthy, for a Pipeline with spec.suspend: true
--   Degraded     Ready=False (rules that do not compile, a sink that refuses connections, no
--                ready pods, ...), for the current generation
--   Progressing  anything else: no status yet, a generation the operator has not reconciled yet
--                (a stale Ready=False is not reported as Degraded), a rollout in progress,
--                Ready=Unknown, deletion behind a finalizer
local hs = {}

local function progressing(message)
  hs.status = "Progressing"
  hs.message = message
  return hs
end

-- Ready=False reasons that describe a change under way rather than a failure.
local transitional = {
  Reconciling = true,
  IngestProgressing = true,
  WorkloadProgressing = true,
}

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  return progressing("Deleting: the operator is removing its JetStream state")
end

local status = obj.status
if status == nil or status.conditions == nil then
  return progressing("Waiting for the operator to report status")
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= generation then
  return progressing(string.format("Waiting for the operator to reconcile generation %d", generation))
end

local ready = nil
for _, condition in ipairs(status.conditions) do
  if condition.type == "Ready" then
    ready = condition
  end
end
if ready == nil then
  return progressing("Waiting for the Ready condition")
end
if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration ~= generation then
  return progressing(string.format("Waiting for the operator to reconcile generation %d", generation))
end

local message = ready.message or ""
if ready.reason ~= nil and ready.reason ~= "" then
  message = ready.reason .. ": " .. message
end

if ready.status == "True" then
  if obj.spec ~= nil and obj.spec.suspend == true then
    hs.status = "Suspended"
    hs.message = "Suspended: spec.suspend is true"
    return hs
  end
  hs.status = "Healthy"
  hs.message = message
  return hs
end
if ready.status == "False" and not transitional[ready.reason] then
  hs.status = "Degraded"
  hs.message = message
  return hs
end
return progressing(message)
