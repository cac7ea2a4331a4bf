// The node dashboard: JSON-RPC to the node that served this page, nothing else.
// Live over the WebSocket endpoint on the same port (eth_subscribe "newHeads", as geth serves
// HTTP and WS on one port); polls over HTTP only when the socket cannot be opened or drops.

const POLL_MS = 1000; // HTTP polling period, the fallback only
const CALL_TIMEOUT_MS = 10000;
const BLOCKS = 10; // recent blocks shown
const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

// --- transports ------------------------------------------------------------------------------

async function httpCall(method, params = []) {
  const response = await fetch("/", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const answer = await response.json();
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result;
}

class Socket {
  // One WebSocket carrying calls (matched by id) and subscription notifications.
  constructor(url) {
    this.url = url;
    this.nextId = 1;
    this.waiting = new Map(); // id → {resolve, reject}
    this.handlers = new Map(); // subscription id → callback
  }

  open(onClose) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("WebSocket failed"));
      ws.onclose = () => {
        for (const { reject: fail } of this.waiting.values()) fail(new Error("socket closed"));
        this.waiting.clear();
        onClose();
      };
      ws.onmessage = (event) => this.receive(JSON.parse(event.data));
      this.ws = ws;
    });
  }

  receive(message) {
    if (message.method === "eth_subscription") {
      this.handlers.get(message.params.subscription)?.(message.params.result);
      return;
    }
    const waiter = this.waiting.get(message.id);
    if (!waiter) return;
    this.waiting.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  }

  call(method, params = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.waiting.delete(id)) reject(new Error(`${method}: no answer`));
      }, CALL_TIMEOUT_MS);
      this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  async subscribe(kind, callback) {
    const id = await this.call("eth_subscribe", [kind]);
    this.handlers.set(id, callback);
  }
}

// --- rendering helpers -----------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children.map((c) => (c instanceof Node ? c : String(c ?? "–"))));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

const short = (hex) => (hex && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex);
const num = (hex) => Number(BigInt(hex));

function fillRows(testid, rows) {
  $(testid).querySelector("tbody").replaceChildren(...rows);
}

// --- sections --------------------------------------------------------------------------------

function renderHead(block, status) {
  $("head-height").textContent = num(block.number);
  $("head-hash").textContent = block.hash;
  $("head-hash").title = block.hash;
  $("consensus-step").textContent = `${status.round} · ${status.step}`;
}

function renderBlocks(blocks) {
  fillRows(
    "blocks",
    blocks.map((b) =>
      el(
        "tr",
        { "data-testid": "block-row", "data-height": num(b.number) },
        el("td", { "data-testid": "block-height" }, num(b.number)),
        el("td", { "data-testid": "block-hash", class: "mono", title: b.hash }, short(b.hash)),
        el("td", { "data-testid": "block-txs" }, b.transactions.length),
        el("td", { "data-testid": "block-proposer", class: "mono" }, short(b.miner)),
        el("td", {}, new Date(num(b.timestamp) * 1000).toLocaleTimeString()),
      ),
    ),
  );
}

function renderConsensus(votes) {
  const names = votes.validators.map((v) => v.name);
  fillRows(
    "validators",
    votes.validators.map((v) =>
      el(
        "tr",
        { "data-testid": "validator-row", "data-index": v.index },
        el("td", {}, v.index),
        el("td", { "data-testid": "validator-name" }, v.name),
        el("td", { "data-testid": "validator-address", class: "mono" }, v.address),
        el("td", { "data-testid": "validator-power" }, v.power),
      ),
    ),
  );
  const current = votes.current;
  $("current-votes").replaceChildren(
    ...current.votes.map((v) =>
      el(
        "li",
        { "data-testid": "current-vote" },
        `h${num(current.height)} r${v.round} ${v.kind} ${names[v.validator]}: `,
        v.blockHash ? short(v.blockHash) : "nil",
      ),
    ),
  );
  const grid = $("vote-grid");
  grid.querySelector("thead tr").replaceChildren(
    el("th", {}, "height"),
    el("th", {}, "round"),
    ...names.map((n) => el("th", {}, n)),
  );
  fillRows(
    "vote-grid",
    votes.heights.map((h) => {
      const signed = new Set(h.precommits);
      return el(
        "tr",
        { "data-testid": "vote-row", "data-height": num(h.height) },
        el("td", {}, num(h.height)),
        el("td", {}, h.round),
        ...names.map((_, i) =>
          signed.has(i) ? el("td", { class: "yes" }, "✓") : el("td", { class: "no" }, "·"),
        ),
      );
    }),
  );
}

function renderPeers(peers) {
  $("peer-count").textContent = peers.length;
  $("peers").replaceChildren(
    ...peers.map((p) => el("li", { "data-testid": "peer-row" }, p.id)),
  );
}

function renderMempool(pool) {
  $("mempool-pending").textContent = `${pool.pending} + ${pool.queued}`;
  $("mempool-pending-count").textContent = pool.pending;
  $("mempool-queued").textContent = pool.queued;
  fillRows(
    "mempool",
    pool.transactions.map((tx) =>
      el(
        "tr",
        { "data-testid": "mempool-row" },
        el("td", { class: "mono", title: tx.hash }, short(tx.hash)),
        el("td", { class: "mono" }, short(tx.from)),
        el("td", {}, num(tx.nonce)),
        el("td", { class: "mono" }, short(tx.to)),
        el("td", {}, tx.status),
      ),
    ),
  );
}

const committee = (members) =>
  members.map((m) => `${short(m.member)} ${m.weight}${m.revealed ? "✓" : ""}`).join(", ") || "–";

function renderInferences(requests) {
  const phases = {};
  for (const r of requests) phases[r.phase] = (phases[r.phase] ?? 0) + 1;
  $("inference-phases").textContent =
    Object.entries(phases)
      .map(([phase, n]) => `${phase}: ${n}`)
      .join(", ") || "no requests yet";
  fillRows(
    "inferences",
    requests.map((r) =>
      el(
        "tr",
        { "data-testid": "inference-row", "data-phase": r.phase, "data-id": num(r.id) },
        el("td", {}, num(r.id)),
        el("td", {}, r.model),
        el("td", { class: `phase-${r.phase}` }, r.phase),
        el("td", {}, r.includedAt),
        el("td", { class: "mono" }, committee(r.committee)),
        el(
          "td",
          {},
          r.latencyBlocks === null ? "–" : `${r.latencyBlocks} blocks, ${r.latencySeconds} s`,
        ),
      ),
    ),
  );
}

function accuracyChart(versions) {
  // Test accuracy (0..1) over versions; versions this node has not evaluated are left out.
  const width = 280;
  const height = 100;
  const pad = 18;
  const points = versions.filter((v) => v.testAccuracy !== null);
  const chart = svg("svg", {
    class: "fl-chart",
    "data-testid": "fl-chart",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
  });
  chart.append(svg("text", { x: 2, y: 10 }, "accuracy"), svg("text", { x: 2, y: height - 2 }, "0"));
  if (points.length === 0) return chart;
  const last = Math.max(1, versions[versions.length - 1].version);
  const first = versions[0].version;
  const x = (v) => pad + ((v - first) / Math.max(1, last - first)) * (width - 2 * pad);
  const y = (a) => height - pad - a * (height - 2 * pad);
  chart.append(
    svg("polyline", {
      points: points.map((p) => `${x(p.version)},${y(p.testAccuracy)}`).join(" "),
    }),
    ...points.map((p) =>
      svg("circle", { cx: x(p.version), cy: y(p.testAccuracy), r: 2.5 }, undefined),
    ),
    svg("text", { x: width - pad - 20, y: height - 2 }, `v${last}`),
  );
  return chart;
}

function renderFl(tasks) {
  $("fl-tasks").replaceChildren(
    ...(tasks.length
      ? tasks.map((t) => {
          const latest = t.versions[t.versions.length - 1];
          const accuracy = latest.testAccuracy === null ? "–" : latest.testAccuracy.toFixed(4);
          return el(
            "div",
            { class: "fl-task", "data-testid": "fl-task", "data-id": num(t.id) },
            el("h3", {}, `task ${num(t.id)} · ${t.model} · v${t.version} · accuracy ${accuracy}`),
            accuracyChart(t.versions),
          );
        })
      : [el("p", {}, "no tasks yet")]),
  );
}

// --- refresh loop ----------------------------------------------------------------------------

let call = httpCall;
let refreshing = false;
let again = false;

async function refresh() {
  // One refresh at a time; heads arriving meanwhile coalesce into one more.
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    const head = await call("eth_getBlockByNumber", ["latest", false]);
    const top = num(head.number);
    const heights = [];
    for (let h = top; h >= Math.max(0, top - BLOCKS + 1); h--) heights.push(h);
    const [status, blocks, votes, peers, pool, inferences, tasks] = await Promise.all([
      call("brain_nodeStatus"),
      Promise.all(heights.map((h) => call("eth_getBlockByNumber", [`0x${h.toString(16)}`, false]))),
      call("brain_consensusVotes", [BLOCKS]),
      call("brain_peers"),
      call("brain_mempool"),
      call("brain_listInferences"),
      call("brain_listFlTasks"),
    ]);
    renderHead(head, status);
    renderBlocks(blocks);
    renderConsensus(votes);
    renderPeers(peers);
    renderMempool(pool);
    renderInferences(inferences);
    renderFl(tasks);
    $("status").textContent = "";
    document.body.dataset.height = top; // what the page shows, for tests and scripts
  } catch (error) {
    $("status").textContent = String(error.message ?? error);
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

function poll() {
  call = httpCall;
  $("transport").textContent = "polling";
  refresh();
  setInterval(refresh, POLL_MS);
}

async function start() {
  $("chain-id").textContent = num(await httpCall("eth_chainId"));
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new Socket(`${scheme}//${location.host}/`);
  let live = false;
  try {
    await socket.open(() => {
      if (live) poll(); // the socket dropped: keep the page current over HTTP
      live = false;
    });
    call = (method, params) => socket.call(method, params);
    await socket.subscribe("newHeads", () => refresh());
    live = true;
    $("transport").textContent = "websocket";
    refresh();
  } catch (error) {
    $("status").textContent = `live updates unavailable (${error.message}); polling`;
    poll();
  }
}

start();
