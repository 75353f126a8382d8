'use strict';
// test.js: the addon's tests, run by `meson test --suite node` through Node's
// own test runner (node --test test.js). UVEV_ADDON names the built module.
// Every wait is bounded: a promise that does not settle in time fails the
// test instead of hanging it, and child processes are killed after a bound.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const path = require('node:path');

const ADDON = process.env.UVEV_ADDON || path.join(__dirname, '..', '..',
  'build', 'examples', 'node-addon', 'uvev_addon.node');
const addon = require(ADDON);

// Resolves as `promise` does, or rejects if it has not settled after `ms`.
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ` +
      `${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls cond() every millisecond until it is true; rejects after `ms`.
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not true after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

// Runs `node args...`; resolves with { code, signal, stdout, stderr }, or
// kills it and rejects after `ms`.
function runNode(args, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, UVEV_ADDON: ADDON },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')}: still running after ${ms} ms` +
        `\n${stderr}`));
    }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function fixture(name) {
  return path.join(__dirname, 'fixtures', name);
}

// Checks a finished stream's result against what onBatch saw: every value
// 0 .. producers*count-1 exactly once, in order per producer.
function streamChecker(producers, count) {
  const total = producers * count;
  const seen = new Uint8Array(total);
  const last = new Float64Array(producers).fill(-1);
  const c = { n: 0, sum: 0, duplicates: 0, disorder: 0, batches: 0, max: 0 };
  c.onBatch = (batch) => {
    assert.ok(batch instanceof Float64Array);
    c.batches++;
    c.max = Math.max(c.max, batch.length);
    for (const v of batch) {
      const p = Math.floor(v / count);
      const i = v - p * count;
      if (seen[v]) c.duplicates++;
      seen[v] = 1;
      if (i <= last[p]) c.disorder++;
      last[p] = i;
      c.n++;
      c.sum += v;
    }
  };
  c.check = (result, stats) => {
    assert.equal(c.duplicates, 0, 'duplicates');
    assert.equal(c.disorder, 0, 'out of order within a producer');
    assert.equal(c.n, total, 'values seen by onBatch');
    assert.equal(seen.indexOf(0), -1, 'a value never came');
    assert.equal(c.sum, total > 0 ? total * (total - 1) / 2 : 0);
    assert.equal(result.count, total);
    assert.equal(result.sum, BigInt(total) * BigInt(total - 1) / 2n);
    assert.equal(result.dropped, 0);
    assert.equal(result.closed, false);
    assert.deepEqual(stats, {
      sent: total, received: total, delivered: total, dropped: 0,
      capacity: stats.capacity, ended: true,
    });
  };
  return c;
}

test('uses the libuv inside node, not a copy of its own', () => {
  const dynamic = execFileSync('readelf', ['-d', ADDON], { encoding: 'utf8' });
  const needed = dynamic.split('\n').filter((l) => l.includes('(NEEDED)'));
  assert.ok(needed.length > 0, 'readelf shows the NEEDED entries');
  for (const line of needed) assert.doesNotMatch(line, /libuv|libnode/);

  const ldd = execFileSync('ldd', [ADDON], { encoding: 'utf8' });
  assert.doesNotMatch(ldd, /libuv/);

  // uv_* are undefined in the module: the loader binds them to node's.
  const symbols = execFileSync('readelf', ['--dyn-syms', '--wide', ADDON],
    { encoding: 'utf8' });
  for (const name of ['uv_async_send', 'uv_async_init', 'uv_thread_create']) {
    const line = symbols.split('\n').find((l) => l.endsWith(` ${name}`));
    assert.ok(line, `${name} is referenced`);
    assert.match(line, / UND /, `${name} is undefined in the module`);
  }
  // Compiled against node's uv.h, running on node's libuv.
  assert.equal(addon.uvVersion.compiled, process.versions.uv);
  assert.equal(addon.uvVersion.runtime, process.versions.uv);
});

test('every value exactly once', { timeout: 120000 }, async (t) => {
  const cases = [
    { producers: 4, count: 25000, capacity: 64 },
    { producers: 3, count: 3000, capacity: 1 },
    { producers: 1, count: 100000, capacity: 1024, batchSize: 7 },
    { producers: 2, count: 0, capacity: 4 },
  ];
  for (const options of cases) {
    await t.test(JSON.stringify(options), async () => {
      const c = streamChecker(options.producers, options.count);
      const h = addon.stream(options, c.onBatch);
      const result = await within(h.done, 60000, 'done');
      c.check(result, h.stats());
      assert.ok(c.max <= (options.batchSize || 1024), 'batch size bound');
    });
  }

  await t.test('8 streams at once on one loop', async () => {
    const checkers = [];
    const handles = [];
    for (let i = 0; i < 8; i++) {
      checkers.push(streamChecker(2, 20000));
      handles.push(addon.stream({ producers: 2, count: 20000, capacity: 16 },
        checkers[i].onBatch));
    }
    const results = await within(Promise.all(handles.map((h) => h.done)),
      60000, 'all done');
    results.forEach((r, i) => checkers[i].check(r, handles[i].stats()));
    assert.equal(addon.liveStreams(), 0);
  });
});

test('backpressure: producers stall while JavaScript is slow',
  { timeout: 60000 }, async () => {
    const capacity = 8;
    const producers = 2;
    const count = 1500;
    const c = streamChecker(producers, count);
    let worst = 0;
    let stalls = 0;
    let h;
    const onBatch = async (batch) => {
      // received counts values taken out of the channel; this batch is
      // taken and not yet delivered; sent counts values the producers have
      // put in. So the channel holds sent - received, never more than its
      // capacity, whatever JavaScript does.
      let s = h.stats();
      assert.equal(s.received - s.delivered, batch.length);
      worst = Math.max(worst, s.sent - s.received);
      c.onBatch(batch);
      // Slow JavaScript: busy for 0.2 ms per batch...
      const end = process.hrtime.bigint() + 200000n;
      while (process.hrtime.bigint() < end);
      // ... and now and then away on a timer, while the producers fill the
      // channel and block: wait until it is full, then check that they did
      // not get further.
      if (c.batches % 40 === 1 && c.n < producers * count / 2) {
        await until(() => {
          s = h.stats();
          return s.sent - s.received === capacity;
        }, 10000, 'the channel fills');
        await new Promise((resolve) => setTimeout(resolve, 10));
        s = h.stats();
        assert.equal(s.sent - s.received, capacity, 'producers stalled');
        stalls++;
      }
    };
    h = addon.stream({ producers, count, capacity, batchSize: 4 }, onBatch);
    const result = await within(h.done, 50000, 'done');
    c.check(result, h.stats());
    assert.ok(worst <= capacity, `at most ${capacity} in the channel, ` +
      `saw ${worst}`);
    assert.ok(stalls >= 5, `stalled ${stalls} times`);
  });

test('close() ends a stream early', { timeout: 60000 }, async (t) => {
  await t.test('from inside onBatch, with producers that never finish',
    async () => {
      let n = 0;
      let calls = 0;
      let closedAt = -1;
      const h = addon.stream({ producers: 2, count: 1e12, capacity: 16 },
        (batch) => {
          assert.equal(closedAt, -1, 'no batch after close()');
          calls++;
          n += batch.length;
          if (n >= 5000) {
            h.close();
            closedAt = calls;
          }
        });
      const result = await within(h.done, 10000, 'done after close()');
      const s = h.stats();
      assert.equal(result.closed, true);
      assert.equal(result.count, n);
      assert.equal(result.dropped, s.dropped);
      assert.equal(s.delivered, n);
      assert.equal(s.sent, s.delivered + s.dropped, 'every value accounted');
      assert.equal(s.ended, true);
    });

  await t.test('before the first batch', async () => {
    let calls = 0;
    const h = addon.stream({ producers: 3, count: 1e12, capacity: 4 },
      () => { calls++; });
    h.close();
    const result = await within(h.done, 10000, 'done');
    const s = h.stats();
    assert.equal(calls, 0);
    assert.equal(result.count, 0);
    assert.equal(result.closed, true);
    assert.equal(s.sent, s.dropped);
  });

  await t.test('from a timer while onBatch awaits', async () => {
    let n = 0;
    const h = addon.stream({ producers: 1, count: 1e12, capacity: 8 },
      (batch) => {
        n += batch.length;
        return new Promise((resolve) => setTimeout(resolve, 2));
      });
    await until(() => n > 100, 10000, 'batches arrive');
    h.close();
    h.close();  // twice is fine
    const result = await within(h.done, 10000, 'done');
    const s = h.stats();
    assert.equal(result.closed, true);
    assert.equal(s.sent, s.delivered + s.dropped);
    h.close();  // and after the end
    assert.deepEqual(h.stats(), s);
  });
});

test('an exception in onBatch rejects done and releases the producers',
  { timeout: 60000 }, async (t) => {
    const uncaught = [];
    const onUncaught = (err) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    t.after(() => process.off('uncaughtException', onUncaught));

    const throwing = {
      'an Error': new Error('boom'),
      'a primitive': 42,
      undefined,
    };
    for (const [name, thrown] of Object.entries(throwing)) {
      await t.test(`throws ${name} on the third batch`, async () => {
        let calls = 0;
        let n = 0;
        const h = addon.stream({ producers: 2, count: 1e12, capacity: 16 },
          (batch) => {
            calls++;
            n += batch.length;
            if (calls === 3) throw thrown;
          });
        await assert.rejects(within(h.done, 10000, 'done'),
          (err) => err === thrown);
        const s = h.stats();
        assert.equal(calls, 3, 'no batch after the throw');
        assert.equal(s.delivered, n);
        assert.equal(s.sent, s.delivered + s.dropped, 'every value accounted');
        assert.equal(s.ended, true);
      });
    }

    await t.test('returns a promise that rejects', async () => {
      const reason = new Error('async boom');
      let calls = 0;
      const h = addon.stream({ producers: 1, count: 1e12, capacity: 8 },
        async () => {
          calls++;
          await null;
          if (calls === 2) throw reason;
        });
      await assert.rejects(within(h.done, 10000, 'done'), reason);
      const s = h.stats();
      assert.equal(calls, 2);
      assert.equal(s.sent, s.delivered + s.dropped);
    });

    assert.deepEqual(uncaught, []);
    assert.equal(addon.liveStreams(), 0);
  });

test('bad arguments throw', () => {
  const f = () => {};
  const typeError = (code) => ({ name: 'TypeError', code });
  const rangeError = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
  assert.throws(() => addon.stream(), typeError('ERR_INVALID_ARG_TYPE'));
  assert.throws(() => addon.stream(null, f),
    typeError('ERR_INVALID_ARG_TYPE'));
  assert.throws(() => addon.stream({ count: 1 }),
    typeError('ERR_INVALID_ARG_TYPE'));
  assert.throws(() => addon.stream({ count: 1 }, 'f'),
    typeError('ERR_INVALID_ARG_TYPE'));
  assert.throws(() => addon.stream({}, f), typeError('ERR_MISSING_ARGS'));
  assert.throws(() => addon.stream({ count: '5' }, f),
    { ...typeError('ERR_INVALID_ARG_TYPE'), message: /options.count/ });
  assert.throws(() => addon.stream({ count: 1.5 }, f),
    typeError('ERR_INVALID_ARG_TYPE'));
  assert.throws(() => addon.stream({ count: NaN }, f),
    typeError('ERR_INVALID_ARG_TYPE'));
  assert.throws(() => addon.stream({ count: -1 }, f), rangeError);
  assert.throws(() => addon.stream({ count: 1, producers: 0 }, f),
    { ...rangeError, message: /options.producers must be from 1 to 64/ });
  assert.throws(() => addon.stream({ count: 1, producers: 65 }, f),
    rangeError);
  assert.throws(() => addon.stream({ count: 1, capacity: 0 }, f), rangeError);
  assert.throws(() => addon.stream({ count: 1, capacity: 2 ** 21 }, f),
    rangeError);
  assert.throws(() => addon.stream({ count: 1, batchSize: 0 }, f),
    rangeError);
  assert.throws(() => addon.stream({ count: 2 ** 53, producers: 2 }, f),
    { ...rangeError, message: /2\^53/ });
  assert.throws(() => addon.tsfnStream({ count: 1, capacity: -1 }, f),
    rangeError);

  // The methods check their receiver.
  const h = addon.stream({ count: 0 }, f);
  assert.throws(() => h.close.call({}), TypeError);
  assert.throws(() => h.stats.call(undefined), TypeError);
  return within(h.done, 10000, 'done');
});

test('the process exits by itself when its streams end', { timeout: 90000 },
  async (t) => {
    await t.test('a stream that runs to its end', async () => {
      const r = await runNode([fixture('exit.js'), 'plain'], 30000);
      assert.equal(r.code, 0, r.stderr);
      const { stats } = JSON.parse(r.stdout);
      assert.equal(stats.ended, true);
      assert.equal(stats.delivered, 200000);
    });

    await t.test('a stream left waiting, with its producers blocked',
      async () => {
        // Nothing keeps the loop alive, so node exits while the producers
        // are blocked in uvev_chan_send_sync: the cleanup hook must close
        // the channel and join them, or the exit hangs.
        const r = await runNode([fixture('exit.js'), 'stuck'], 30000);
        assert.equal(r.code, 0, r.stderr);
        const { stats } = JSON.parse(r.stdout);
        assert.equal(stats.ended, false);
      });

    await t.test('workers terminated while their producers are blocked',
      async () => {
        const r = await runNode([fixture('worker.js')], 60000);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), 'ok');
      });
  });

test('repeated streams do not grow memory', { timeout: 120000 }, async () => {
  const r = await runNode(['--expose-gc', fixture('memory.js'), '200'],
    100000);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.equal(m.live, 0, 'native streams left');
  // Generous: a leaked stream would cost about 200 KB (its ring and batch
  // buffer), so 200 of them 40 MB.
  assert.ok(m.rss < 16 * 2 ** 20, `rss grew by ${m.rss} bytes`);
  assert.ok(m.heapUsed < 4 * 2 ** 20, `heap grew by ${m.heapUsed} bytes`);
});
