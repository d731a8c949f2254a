import { startRegions } from './harness.ts';
import { arbiterSetup } from './arbiter-config.ts';
const t0 = Date.now();
const r = await startRegions({ arbiter: arbiterSetup, log: (l) => console.log(l) });
console.log('up in', Date.now() - t0);
for (let i = 0; i < 6; i++) {
  await new Promise((res) => setTimeout(res, 5000));
  const f = await r.observeForgers();
  console.log(
    new Date().toISOString().slice(11, 23),
    'forging',
    f.forging.map((p) => p.options.name),
    'unknown',
    f.unknown.map((p) => p.options.name),
  );
}
console.log('overlap', (await r.overlap()).totalOverlapMs);
await r.stop({ keepDir: true });
console.log('dir', r.dir, 'total', Date.now() - t0);
