import { runFuzz } from '../fuzz.js';
const s = runFuzz({ cases: 30, seed: 3, hangMs: 0.5, log: (l) => console.log(l.slice(0, 300)) });
console.log(s.hangs, s.failures.length);
