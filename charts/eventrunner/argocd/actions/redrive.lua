-- Redrive: creates a Replay that sends every dead letter of this Pipeline not redriven before back
-- through it (eventrunner redrive does the same with filters). The Replay's name is the Pipeline's
-- (shortened to fit) and the time; it is owned by the Pipeline so Argo CD shows it in the tree.
local os = require("os")
local base = string.sub(obj.metadata.name, 1, 26)
base = string.gsub(base, "-+$", "")
local replay = {}
replay.apiVersion = "eventrunner.io/v1alpha1"
replay.kind = "Replay"
replay.metadata = {}
replay.metadata.name = base .. "-redrive-" .. os.date("!%Y%m%d%H%M%S")
replay.metadata.namespace = obj.metadata.namespace
replay.metadata.ownerReferences = {
  {
    apiVersion = obj.apiVersion,
    kind = obj.kind,
    name = obj.metadata.name,
    uid = obj.metadata.uid,
  },
}
replay.spec = {}
replay.spec.pipeline = obj.metadata.name
-- Every dead letter: none is older than the Pipeline (and an empty Lua table would reach the API
-- server as a JSON array).
replay.spec.deadLetters = { since = obj.metadata.creationTimestamp or "1970-01-01T00:00:00Z" }
local result = {}
result[1] = { operation = "create", resource = replay }
return result
