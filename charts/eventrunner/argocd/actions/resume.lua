-- Resume: consumption continues where it stopped.
if obj.spec == nil then
  obj.spec = {}
end
obj.spec.suspend = false
return obj
