'use strict';
// test.js: the node-gyp example's tests (node --test test.js, after
// node-gyp rebuild). test/consumers/npm.sh runs them in a new project that
// installed uvev from its npm tarball. Every wait is bounded: a promise that
// has not settled in time fails its test, and a child process is killed
// after a bound.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const path = require('node:path');

const ADDON = path.join(__dirname, 'build', 'Release', 'uvev_example.node');
const addon = require(ADDON);

// Resolves or rejects as `promise` does, or rejects after `ms`.
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ` +
      `${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Runs `node -e code` with ADDON in its environment; resolves with
// { code, signal, stdout, stderr }, or kills it and rejects after `ms`.
function runNode(code, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], {
      env: { ...process.env, ADDON },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after ${ms} ms\n${stderr}`));
    }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// An onBatch that checks that the values come as 0, 1, 2, ... once each.
function inOrder() {
  const c = { next: 0, batches: 0 };
  c.onBatch = (batch) => {
    assert.ok(batch instanceof Float64Array);
    assert.ok(batch.length > 0, 'an empty batch');
    for (const v of batch) {
      if (v !== c.next) {
        assert.fail(`got ${v}, expected ${c.next}`);
      }
      c.next++;
    }
    c.batches++;
  };
  return c;
}

test('links no libuv: its uv_* calls bind to the ones node exports', () => {
  const dynamic = execFileSync('readelf', ['-d', ADDON], { encoding: 'utf8' });
  const needed = dynamic.split('\n').filter((l) => l.includes('(NEEDED)'));
  assert.ok(needed.length > 0, 'readelf shows the NEEDED entries');
  for (const line of needed) assert.doesNotMatch(line, /libuv/);

  const symbols = execFileSync('readelf', ['--dyn-syms', '--wide', ADDON],
    { encoding: 'utf8' }).split('\n');
  for (const name of ['uv_async_send', 'uv_thread_create']) {
    const line = symbols.find((l) => l.endsWith(` ${name}`));
    assert.ok(line, `${name} is referenced`);
    assert.match(line, / UND /, `${name} is undefined in the module`);
  }
  // uvev itself stays inside: nothing of it is exported.
  const exported = symbols.filter((l) => / uvev_\w+$/.test(l) &&
    !/ UND /.test(l));
  assert.deepEqual(exported, []);
});

test('every value once, in order', { timeout: 120000 }, async (t) => {
  const cases = [[200000, 64], [300000, 1024], [5000, 1], [0, 4]];
  for (const [count, capacity] of cases) {
    await t.test(`${count} values through a channel of ${capacity}`,
      async () => {
        const c = inOrder();
        const result = await within(addon.stream(count, capacity, c.onBatch),
          60000, 'the stream');
        assert.deepEqual(result, { delivered: count, stopped: false });
        assert.equal(c.next, count);
        assert.equal(addon.liveStreams(), 0);
      });
  }

  await t.test('6 streams at once on one loop', async () => {
    const checkers = Array.from({ length: 6 }, inOrder);
    const results = await within(Promise.all(checkers.map((c) =>
      addon.stream(50000, 16, c.onBatch))), 60000, 'all streams');
    for (const [i, r] of results.entries()) {
      assert.deepEqual(r, { delivered: 50000, stopped: false });
      assert.equal(checkers[i].next, 50000);
    }
    assert.equal(addon.liveStreams(), 0);
  });
});

test('onBatch returning false stops the stream and its thread',
  { timeout: 30000 }, async () => {
    // The thread would send 10^12 values: only the stop can end it.
    const c = inOrder();
    let stopped = false;
    const result = await within(addon.stream(1e12, 16, (batch) => {
      assert.equal(stopped, false, 'no batch after returning false');
      c.onBatch(batch);
      stopped = c.next >= 10000;
      return !stopped;
    }), 20000, 'the stopped stream');
    assert.deepEqual(result, { delivered: c.next, stopped: true });
    assert.equal(addon.liveStreams(), 0);
  });

test('a throw in onBatch rejects the promise', { timeout: 30000 },
  async () => {
    const uncaught = [];
    const onUncaught = (err) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      for (const thrown of [new Error('boom'), 42]) {
        let calls = 0;
        await assert.rejects(within(addon.stream(1e12, 16, () => {
          calls++;
          if (calls === 3) throw thrown;
        }), 20000, 'the failed stream'), (err) => err === thrown);
        assert.equal(calls, 3, 'no batch after the throw');
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual(uncaught, []);
    assert.equal(addon.liveStreams(), 0);
  });

test('bad arguments throw', () => {
  const f = () => {};
  assert.throws(() => addon.stream(1, 1), { name: 'TypeError' });
  assert.throws(() => addon.stream('1', 1, f), { name: 'TypeError' });
  assert.throws(() => addon.stream(1.5, 1, f), { name: 'TypeError' });
  assert.throws(() => addon.stream(-1, 1, f), { name: 'RangeError' });
  assert.throws(() => addon.stream(1, 0, f), { name: 'RangeError' });
  assert.throws(() => addon.stream(1, 2 ** 21, f), { name: 'RangeError' });
  assert.equal(addon.liveStreams(), 0);
});

test('clean shutdown', { timeout: 90000 }, async (t) => {
  await t.test('the process exits by itself once its stream ends',
    async () => {
      // The waker keeps the loop alive only while a receive is pending: a
      // waker that held it would leave this process running (and killed).
      const r = await runNode(`
        const addon = require(process.env.ADDON);
        addon.stream(100000, 64, () => {}).then((r) =>
          console.log(JSON.stringify(r)));`, 30000);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout),
        { delivered: 100000, stopped: false });
    });

  await t.test('workers terminated while their threads are sending',
    async () => {
      // Each worker is an environment with its own loop and waker. On
      // terminate(), the addon's cleanup hook must close the channel (the
      // blocked thread returns), join the thread and close the waker;
      // otherwise the worker's exit hangs or Node aborts. Whether a stream
      // is still running when the hook comes (rather than stopped by a
      // failed onBatch call) depends on where terminate() lands, so 20
      // workers: a hook that left the thread blocked hung 10 runs of 10.
      const r = await runNode(`
        const { Worker } = require('node:worker_threads');
        const worker = \`
          const { parentPort, workerData } = require('node:worker_threads');
          const addon = require(process.env.ADDON);
          let told = false;
          addon.stream(1e12, workerData, () => {
            if (!told) parentPort.postMessage('streaming');
            told = true;
          });\`;
        let left = 20;
        function next() {
          if (left-- === 0) return console.log('ok');
          const w = new Worker(worker, { eval: true,
                                         workerData: left % 2 ? 1 : 4 });
          w.once('message', () => w.terminate());
          w.once('error', (err) => { console.error(err); process.exit(1); });
          w.once('exit', next);
        }
        next();`, 30000);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.signal, null);
      assert.equal(r.stdout.trim(), 'ok');
    });
});
