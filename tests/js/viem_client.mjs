// viem against a brainchain node, as a dApp uses it: see common.mjs for how it is run.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http as httpTransport,
  parseEventLogs,
  stringToHex,
  webSocket,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  INITIAL,
  NEW_VALUE,
  TOO_LARGE,
  WS_VALUE,
  compileClientCheck,
  deferred,
  report,
  within,
} from './common.mjs';

// A block every 0.2 s on the test node: viem's default 4 s polling would dominate the run.
const POLLING_MS = 200;

/** The devnet as a viem chain: its id from eth_chainId, as a wallet's "add network" does. */
async function devnetChain(rpcUrl, wsUrl) {
  const probe = createPublicClient({ transport: httpTransport(rpcUrl) });
  return defineChain({
    id: await probe.getChainId(),
    name: 'brainchain devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl], webSocket: [wsUrl] } },
  });
}

async function clients({ rpcUrl, wsUrl, privateKey }) {
  const chain = await devnetChain(rpcUrl, wsUrl);
  const transport = httpTransport(rpcUrl);
  const account = privateKeyToAccount(privateKey);
  return {
    chain,
    account,
    reader: createPublicClient({ chain, transport, pollingInterval: POLLING_MS }),
    writer: createWalletClient({ chain, transport, account }),
  };
}

async function receipt(reader, hash, what) {
  return within(reader.waitForTransactionReceipt({ hash, pollingInterval: POLLING_MS }), what);
}

async function deploy({ reader, writer }, { abi, bytecode }) {
  const hash = await writer.deployContract({ abi, bytecode, args: [INITIAL] });
  return (await receipt(reader, hash, 'the deployment')).contractAddress;
}

function eventJson(log) {
  const { by, newValue, oldValue } = log.args;
  return {
    by,
    newValue,
    oldValue,
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
  };
}

/** The revert viem decodes from the node's error data with the contract's ABI. */
async function revertOf(via, value, attempt) {
  try {
    await attempt();
  } catch (e) {
    const reverted =
      e instanceof BaseError && e.walk((c) => c instanceof ContractFunctionRevertedError);
    if (!reverted?.data) throw e;
    const { errorName, args } = reverted.data;
    return { via, value, name: errorName, args: [...args], reason: reverted.reason ?? null };
  }
  throw new Error(`${via} of set(${value}) did not revert`);
}

async function http(settings) {
  const c = await clients(settings);
  const { reader, writer, account } = c;
  const compiled = compileClientCheck();
  const { abi } = compiled;
  const address = await deploy(c, compiled);
  const read = (functionName, args = []) =>
    reader.readContract({ address, abi, functionName, args });
  const initial = await read('value');

  const setHash = await writer.writeContract({
    address,
    abi,
    functionName: 'set',
    args: [NEW_VALUE],
  });
  const setReceipt = await receipt(reader, setHash, 'the set receipt');
  const events = await reader.getContractEvents({
    address,
    abi,
    eventName: 'ValueChanged',
    args: { by: account.address },
    fromBlock: setReceipt.blockNumber,
    toBlock: setReceipt.blockNumber,
  });

  const reverts = [];
  for (const value of [TOO_LARGE, 0n]) {
    const request = { address, abi, functionName: 'set', args: [value], account };
    reverts.push(await revertOf('call', value, () => reader.simulateContract(request)));
    reverts.push(await revertOf('estimateGas', value, () => reader.estimateContractGas(request)));
  }

  // BRAIN's INFERENCE precompile, reached through the contract: the fee is the model's price
  // per token (brain_listModels, a brainchain method any client can send) times maxTokens.
  const models = await reader.request({ method: 'brain_listModels', params: [] });
  const price = BigInt(models.find((m) => m.id === settings.model).pricePerToken);
  const maxTokens = 4n;
  const askHash = await writer.writeContract({
    address,
    abi,
    functionName: 'ask',
    args: [settings.model, stringToHex('hello'), maxTokens],
    value: price * maxTokens,
  });
  const asked = await receipt(reader, askHash, 'the ask receipt');
  const [requested] = parseEventLogs({
    abi: compiled.inferenceAbi,
    eventName: 'InferenceRequested',
    logs: asked.logs,
  });
  const { id } = requested.args;
  const [requester, modelId, status, tokens] = await read('requestOf', [id]);
  return {
    chainId: c.chain.id,
    address,
    initial,
    value: await read('value'),
    setTx: setHash,
    events: events.map(eventJson),
    reverts,
    inference: {
      tx: askHash,
      id,
      lastRequest: await read('lastRequest'),
      eventRequester: requested.args.requester,
      eventModel: requested.args.model,
      fee: requested.args.fee,
      requester,
      model: modelId,
      status,
      maxTokens: tokens,
    },
  };
}

async function ws(settings) {
  const c = await clients(settings);
  const compiled = compileClientCheck();
  const { abi } = compiled;
  const address = await deploy(c, compiled);
  const socket = createPublicClient({ chain: c.chain, transport: webSocket(settings.wsUrl) });
  const failed = deferred();

  // Subscribe to the logs first: requests on one socket are answered in order, so once a head
  // has arrived the logs subscription is in place and the transaction cannot slip past it.
  const logged = deferred();
  const unwatchLogs = socket.watchContractEvent({
    address,
    abi,
    eventName: 'ValueChanged',
    onLogs: (logs) => logged.resolve(logs.map(eventJson)),
    onError: failed.resolve,
  });
  const heads = [];
  const twoHeads = deferred();
  const unwatchBlocks = socket.watchBlocks({
    onBlock: (block) => {
      heads.push({ number: block.number, hash: block.hash });
      if (heads.length === 2) twoHeads.resolve();
    },
    onError: failed.resolve,
  });
  const fail = failed.promise.then((e) => {
    throw e;
  });
  await within(Promise.race([twoHeads.promise, fail]), 'two newHeads');
  const tx = await c.writer.writeContract({
    address,
    abi,
    functionName: 'set',
    args: [WS_VALUE],
  });
  const logs = await within(Promise.race([logged.promise, fail]), 'the ValueChanged log');
  unwatchLogs();
  unwatchBlocks();
  return { address, tx, heads: heads.slice(0, 2), logs };
}

await report((s) => (s.phase === 'http' ? http(s) : ws(s)));
