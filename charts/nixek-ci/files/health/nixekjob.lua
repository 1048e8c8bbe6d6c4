-- Argo CD health check of a NixekJob (ci.nixek.dev/v1alpha1), read from its Succeeded condition:
-- Unknown (Evaluating, Queued, WaitingForImage, Launching, Running, ...) is Progressing, True is Healthy, False
-- (a failed step, a timeout, a cancelled or invalid job, ...) is Degraded. A status the operator computed for an
-- older generation is Progressing. Lua 5.1 as Argo CD runs it; docs/operations.md shows the argocd-cm entry.
local hs = { status = "Progressing", message = "waiting for the nixek-ci operator" }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= generation then
  hs.message = "the nixek-ci operator has not seen generation " .. generation .. " yet"
  return hs
end
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Succeeded" then
    hs.message = (c.reason or "") .. ": " .. (c.message or "")
    if c.status == "True" then
      hs.status = "Healthy"
    elseif c.status == "False" then
      hs.status = "Degraded"
    end
    return hs
  end
end
return hs
