// A full garbage collection on demand, for heap measurements, without starting node with
// --expose-gc (the benchmarks run under tsx).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
export const collectGarbage = runInNewContext('gc') as () => void;
