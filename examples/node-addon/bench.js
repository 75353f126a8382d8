'use strict';
// bench.js: native producer threads -> JavaScript, two ways, in one process
// and one run:
//
//   uvev  addon.stream(): blocking sends into a bounded uvev channel; the main
//         loop drains it and calls JavaScript once per batch.
//   tsfn  addon.tsfnStream(): napi_threadsafe_function in its ordinary use:
//         blocking calls, max_queue_size = the channel's capacity, one
//         JavaScript call per value.
//
// Both do the same JavaScript work per value (add it to a sum) and check that
// every value arrived once. Each configuration runs several interleaved
// repetitions; the table shows medians of values/s and their ratio.
//
// With 2 producers only uvev runs by default: a blocking tsfn with more than
// one producer thread can deadlock in Node 20 (nodejs/node#58723: a pop
// signals one blocked producer only when the queue was full, so a second one
// can wait forever once the first has finished). Here that happened in 39 of
// 60 runs. --tsfn2 runs it anyway, under a watchdog.
//
//   node bench.js [--short] [--reps N] [--seconds S] [--tsfn2]
//   --short: tiny runs, one repetition: proves it works (used by meson test).
const os = require('node:os');
const path = require('node:path');

const addon = require(process.env.UVEV_ADDON ||
  path.join(__dirname, '..', '..', 'build', 'examples', 'node-addon',
    'uvev_addon.node'));

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const short = process.argv.includes('--short');
const reps = option('--reps', short ? 1 : 7);
const seconds = option('--seconds', short ? 0.02 : 0.3);
const tsfn2 = process.argv.includes('--tsfn2');
const configs = [
  { capacity: 1024, producers: 1, goal: 3 },
  { capacity: 16, producers: 1, goal: 10 },
  { capacity: 1024, producers: 2 },
  { capacity: 16, producers: 2 },
];

function waysFor(c) {
  return c.producers === 1 || tsfn2 ? ['uvev', 'tsfn'] : ['uvev'];
}

const ways = {
  async uvev(producers, capacity, count) {
    let n = 0;
    let sum = 0;
    const h = addon.stream({ producers, count, capacity }, (batch) => {
      for (let i = 0; i < batch.length; i++) sum += batch[i];
      n += batch.length;
    });
    const result = await h.done;
    return { n, sum, native: result };
  },
  async tsfn(producers, capacity, count) {
    let n = 0;
    let sum = 0;
    const result = await addon.tsfnStream({ producers, count, capacity },
      (value) => {
        sum += value;
        n++;
      });
    return { n, sum, native: result };
  },
};

// One run: returns values/s, after checking that every value came once.
async function run(way, producers, capacity, count) {
  const total = producers * count;
  const t0 = process.hrtime.bigint();
  const watchdog = setTimeout(() => {
    console.log(`${way} with ${producers} producers, capacity ${capacity}: ` +
      'no result after 120 s: deadlocked?' +
      (way === 'tsfn' ? ' (nodejs/node#58723)' : ''));
    process.exit(2);
  }, 120000);
  const r = await ways[way](producers, capacity, count);
  clearTimeout(watchdog);
  const ns = Number(process.hrtime.bigint() - t0);
  const sum = total * (total - 1) / 2;
  if (r.n !== total || r.sum !== sum || r.native.count !== total ||
      r.native.sum !== BigInt(sum))
    throw new Error(`${way}: wrong result: ${r.n} values, sum ${r.sum}`);
  return total / (ns / 1e9);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(rate) {
  return (rate / 1e6).toFixed(rate < 1e6 ? 3 : 2).padStart(7) + ' M/s';
}

async function main() {
  const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`node ${process.version}, libuv ${process.versions.uv}, ` +
    `${os.cpus().length} CPUs, load average ${load()}; ` +
    `${reps} repetition(s), ~${seconds} s per run`);

  // Size each run to last about `seconds`, from a small first run.
  const counts = new Map();
  for (const c of configs) {
    for (const way of waysFor(c)) {
      const probe = short ? 2000 : 20000;
      const rate = await run(way, c.producers, c.capacity, probe);
      const count = Math.max(probe,
        Math.round(rate * seconds / c.producers));
      counts.set(`${way}/${c.capacity}/${c.producers}`, count);
    }
  }

  const rates = new Map();
  for (let rep = 0; rep < reps; rep++) {
    for (const c of configs) {
      // Alternate which way goes first.
      const order = rep % 2 ? waysFor(c).reverse() : waysFor(c);
      for (const way of order) {
        const key = `${way}/${c.capacity}/${c.producers}`;
        const rate = await run(way, c.producers, c.capacity, counts.get(key));
        if (!rates.has(key)) rates.set(key, []);
        rates.get(key).push(rate);
      }
    }
  }

  console.log('capacity producers        uvev        tsfn   ratio  ' +
    '(medians; ratio range over repetitions)');
  let missed = 0;
  for (const c of configs) {
    const u = rates.get(`uvev/${c.capacity}/${c.producers}`);
    const t = rates.get(`tsfn/${c.capacity}/${c.producers}`);
    if (!t) {
      console.log(`${String(c.capacity).padStart(8)} ` +
        `${String(c.producers).padStart(9)} ${fmt(median(u))} ` +
        '         -       -   (tsfn: see --tsfn2)');
      continue;
    }
    const ratio = median(u) / median(t);
    const each = u.map((x, i) => x / t[i]);
    let line = `${String(c.capacity).padStart(8)} ` +
      `${String(c.producers).padStart(9)} ${fmt(median(u))} ` +
      `${fmt(median(t))} ${ratio.toFixed(1).padStart(6)}x  ` +
      `(${Math.min(...each).toFixed(1)}-${Math.max(...each).toFixed(1)})`;
    if (c.goal) {
      const met = ratio >= c.goal;
      if (!met) missed++;
      line += `  goal >= ${c.goal}x: ${met ? 'met' : 'MISSED'}`;
    }
    console.log(line);
  }
  console.log(`load average at the end: ${load()}`);
  if (short) console.log('(short mode: the timings mean nothing)');
  else if (missed) console.log(`${missed} goal(s) missed`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
