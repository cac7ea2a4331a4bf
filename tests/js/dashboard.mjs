// Open a node's dashboard in headless Debian Chromium (playwright-core); once it has drawn a
// head, print {"first": height}, then wait until the page, updating live, shows `ADVANCE` more
// heads, an empty pending pool and, when TXS is set, TXS committed transactions in its recent
// blocks (the test sends them once it reads the first line), and print what the page shows as
// a second JSON line.
//
// Run by tests/node/test_dashboard.py and tests/node/test_brain_live.py as
//   [TXS=n] node tests/js/dashboard.mjs http://127.0.0.1:PORT/dashboard SCREENSHOT_DIR
// Every request and WebSocket the page opens is recorded, so the test can check that the page
// talks to nothing but the node.
import { chromium } from 'playwright-core';

const ADVANCE = 3; // heads the page must draw after its first one
const WAIT_MS = 30_000;
const TXS = process.env.TXS === undefined ? null : Number(process.env.TXS);

const [url, shots] = process.argv.slice(2);
if (!url || !shots) throw new Error('usage: node dashboard.mjs DASHBOARD_URL SCREENSHOT_DIR');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  const requests = [];
  const sockets = [];
  const errors = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('websocket', (socket) => sockets.push(socket.url()));
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-height]', { timeout: WAIT_MS });
  const first = Number(await page.getAttribute('body', 'data-height'));
  await page.screenshot({ path: `${shots}/dashboard-first.png`, fullPage: true });
  console.log(JSON.stringify({ first })); // the test now sends its transactions
  // The snapshot is taken inside the page in one go, so no redraw can fall in the middle of it;
  // it is the first drawn `ADVANCE` heads on that shows all `TXS` transactions committed.
  const snapshot = await page.waitForFunction(
    ([target, txs]) => {
      const text = (id, root = document) =>
        root.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
      const rows = (id) => [...document.querySelectorAll(`[data-testid="${id}"]`)];
      const blocks = rows('block-row').map((row) => ({
        height: text('block-height', row),
        hash: row.querySelector('[data-testid="block-hash"]').title,
        txs: text('block-txs', row),
        proposer: text('block-proposer', row),
      }));
      const height = Number(document.body.dataset.height);
      const shownTxs = blocks.reduce((sum, b) => sum + Number(b.txs), 0);
      const pending = text('mempool-pending-count');
      if (height < target || (txs !== null && shownTxs !== txs) || pending !== '0') return null;
      return {
        height,
        blocks,
        headHeight: text('head-height'),
        headHash: text('head-hash'),
        chainId: text('chain-id'),
        transport: text('transport'),
        status: text('status'),
        peerCount: text('peer-count'),
        peers: rows('peer-row').map((row) => row.textContent),
        mempoolPending: pending,
        mempoolQueued: text('mempool-queued'),
        mempoolRows: rows('mempool-row').length,
        validators: rows('validator-row').map((row) => ({
          index: row.dataset.index,
          name: text('validator-name', row),
          address: text('validator-address', row),
          power: text('validator-power', row),
        })),
        voteRows: rows('vote-row').map((row) => row.dataset.height),
        inferencePhases: text('inference-phases'),
        inferences: rows('inference-row').map((row) => ({
          id: row.dataset.id,
          phase: row.dataset.phase,
          cells: [...row.cells].map((cell) => cell.textContent),
        })),
        flTasks: rows('fl-task').map((task) => ({
          id: task.dataset.id,
          title: task.querySelector('h3').textContent,
          points: [...task.querySelectorAll('[data-testid="fl-chart"] circle')].map((dot) => [
            Number(dot.getAttribute('cx')),
            Number(dot.getAttribute('cy')),
          ]),
        })),
      };
    },
    [first + ADVANCE, TXS],
    { timeout: WAIT_MS },
  );
  const shown = await snapshot.jsonValue();
  await page.screenshot({ path: `${shots}/dashboard-live.png`, fullPage: true });
  console.log(JSON.stringify({ first, shown, requests, sockets, errors }));
} finally {
  await browser.close();
}
