-- Suspend: the processors stop consuming; the consumer keeps its position (spec.suspend).
if obj.spec == nil then
  obj.spec = {}
end
obj.spec.suspend = true
return obj
