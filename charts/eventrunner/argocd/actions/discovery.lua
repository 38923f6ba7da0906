-- Argo CD resource actions of an eventrunner.io Pipeline: which ones the UI offers now.
-- Suspend while running, resume while suspended; redrive whenever dead letters may be waiting.
local actions = {}
local suspended = obj.spec ~= nil and obj.spec.suspend == true
actions["suspend"] = { ["disabled"] = suspended }
actions["resume"] = { ["disabled"] = not suspended }
local deadLetters = obj.status ~= nil and obj.status.deadLetters or nil
actions["redrive"] = { ["disabled"] = deadLetters == 0 }
return actions
