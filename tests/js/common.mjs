// What the client scripts share: their settings, solc-js compilation and the JSON report.
//
// Each script is run by tests/node/test_js_clients.py as
//   RPC_URL=http://… WS_URL=ws://… PRIVATE_KEY=0x… node tests/js/<client>.mjs http|ws
// and prints one JSON object on stdout, which the test checks against the node's RPC.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const CONTRACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../contracts');
// How long any one wait (a receipt, a subscription's message) may take before the script fails.
export const WAIT_MS = 30_000;
export const INFERENCE = '0x0000000000000000000000000000000000000b03';
// The constructor argument, the accepted value, and the values each revert path refuses.
export const INITIAL = 41n;
export const NEW_VALUE = 42n;
export const TOO_LARGE = 1001n;
export const WS_VALUE = 7n;

/** The node and the funded dev key the test passes, and the phase to run. */
export function settings() {
  const { RPC_URL, WS_URL, PRIVATE_KEY, MODEL = 'tiny-gptj' } = process.env;
  const phase = process.argv[2];
  if (!RPC_URL || !WS_URL || !PRIVATE_KEY || !['http', 'ws'].includes(phase)) {
    throw new Error('usage: RPC_URL=… WS_URL=… PRIVATE_KEY=0x… node SCRIPT http|ws');
  }
  return { rpcUrl: RPC_URL, wsUrl: WS_URL, privateKey: PRIVATE_KEY, model: MODEL, phase };
}

/** Compile contracts/ClientCheck.sol with solc-js (imports resolve under contracts/), as a dApp
 * build does; returns its ABI and creation bytecode, and IInference's ABI for the
 * precompile's events. */
export function compileClientCheck() {
  const input = {
    language: 'Solidity',
    sources: { 'ClientCheck.sol': { content: read('ClientCheck.sol') } },
    settings: {
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const findImports = (p) => {
    try {
      return { contents: read(p) };
    } catch (e) {
      return { error: String(e) };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const check = output.contracts['ClientCheck.sol'].ClientCheck;
  return {
    abi: check.abi,
    bytecode: `0x${check.evm.bytecode.object}`,
    inferenceAbi: output.contracts['IInference.sol'].IInference.abi,
  };
}

function read(name) {
  return fs.readFileSync(path.join(CONTRACTS, name), 'utf8');
}

/** `promise`, or a rejection naming `what` after WAIT_MS. */
export function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve function, for values that callbacks deliver. */
export function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Run `main(settings)`, print its result as JSON (bigints as decimal strings) and exit: 0, or
 * 1 with the error on stderr. Exiting closes any WebSocket a failure left open. */
export async function report(main) {
  try {
    const result = await main(settings());
    const json = JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
    process.stdout.write(`${json}\n`);
    process.exit(0);
  } catch (e) {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exit(1);
  }
}
