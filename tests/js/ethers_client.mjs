// ethers v6 against a brainchain node, as a dApp uses it: see common.mjs for how it is run.
import { ethers } from 'ethers';
import {
  INITIAL,
  INFERENCE,
  NEW_VALUE,
  TOO_LARGE,
  WS_VALUE,
  compileClientCheck,
  deferred,
  report,
  within,
} from './common.mjs';

// A block every 0.2 s on the test node: ethers' default 4 s polling would dominate the run, and
// its 250 ms cache of identical requests would hand the next transaction the nonce of the one
// just mined (getTransactionCount "pending" asked twice within 250 ms): no cache.
const OPTIONS = { pollingInterval: 200, cacheTimeout: -1 };

async function deploy(wallet, compiled) {
  const factory = new ethers.ContractFactory(compiled.abi, compiled.bytecode, wallet);
  const contract = await factory.deploy(INITIAL);
  await within(contract.waitForDeployment(), 'the deployment');
  return contract;
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

/** The revert decoded from the node's error data: ethers does it for a static call; for
 * estimateGas, which ethers decodes only for Error(string) and Panic, the contract's interface
 * parses the custom error from `e.data`, as ethers' documentation advises. */
async function revertOf(via, value, contract, attempt) {
  try {
    await attempt();
  } catch (e) {
    const revert =
      e.code === 'CALL_EXCEPTION' && (e.revert ?? contract.interface.parseError(e.data));
    if (!revert) throw e;
    return { via, value, name: revert.name, args: [...revert.args], reason: e.reason };
  }
  throw new Error(`${via} of set(${value}) did not revert`);
}

async function http({ rpcUrl, privateKey, model }) {
  const provider = new ethers.JsonRpcProvider(rpcUrl, undefined, OPTIONS);
  const wallet = new ethers.Wallet(privateKey, provider);
  const compiled = compileClientCheck();
  const contract = await deploy(wallet, compiled);
  const initial = await contract.value();

  const tx = await contract.set(NEW_VALUE);
  const receipt = await within(tx.wait(), 'the set receipt');
  const filter = contract.filters.ValueChanged(wallet.address);
  const events = await contract.queryFilter(filter, receipt.blockNumber, receipt.blockNumber);

  const reverts = [];
  for (const value of [TOO_LARGE, 0n]) {
    const { staticCall, estimateGas } = contract.set;
    reverts.push(await revertOf('call', value, contract, () => staticCall(value)));
    reverts.push(await revertOf('estimateGas', value, contract, () => estimateGas(value)));
  }

  // BRAIN's INFERENCE precompile, reached through the contract: the fee is the model's price
  // per token (brain_listModels, a brainchain method any client can send) times maxTokens.
  const models = await provider.send('brain_listModels', []);
  const price = BigInt(models.find((m) => m.id === model).pricePerToken);
  const maxTokens = 4n;
  const ask = await contract.ask(model, ethers.toUtf8Bytes('hello'), maxTokens, {
    value: price * maxTokens,
  });
  const asked = await within(ask.wait(), 'the ask receipt');
  const inference = new ethers.Interface(compiled.inferenceAbi);
  const requested = asked.logs
    .filter((log) => log.address.toLowerCase() === INFERENCE)
    .map((log) => inference.parseLog(log))
    .find((parsed) => parsed?.name === 'InferenceRequested');
  const id = requested.args.id;
  const [requester, modelId, status, tokens] = await contract.requestOf(id);
  return {
    chainId: Number((await provider.getNetwork()).chainId),
    address: await contract.getAddress(),
    initial,
    value: await contract.value(),
    setTx: receipt.hash,
    events: events.map(eventJson),
    reverts,
    inference: {
      tx: asked.hash,
      id,
      lastRequest: await contract.lastRequest(),
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

async function ws({ rpcUrl, wsUrl, privateKey }) {
  const wallet = new ethers.Wallet(
    privateKey,
    new ethers.JsonRpcProvider(rpcUrl, undefined, OPTIONS),
  );
  const contract = await deploy(wallet, compileClientCheck());
  const address = await contract.getAddress();
  const socket = new ethers.WebSocketProvider(wsUrl);
  const watched = new ethers.Contract(address, contract.interface, socket);

  // Subscribe to the logs first: requests on one socket are answered in order, so once a head
  // has arrived the logs subscription is in place and the transaction cannot slip past it.
  const logged = deferred();
  await watched.on('ValueChanged', (by, newValue, oldValue, event) => {
    logged.resolve(eventJson({ args: { by, newValue, oldValue }, ...event.log }));
  });
  const numbers = [];
  const twoHeads = deferred();
  await socket.on('block', (number) => {
    numbers.push(number);
    if (numbers.length === 2) twoHeads.resolve();
  });
  await within(twoHeads.promise, 'two newHeads');
  const tx = await contract.set(WS_VALUE);
  const log = await within(logged.promise, 'the ValueChanged log');
  const heads = [];
  for (const number of numbers.slice(0, 2)) {
    heads.push({ number, hash: (await socket.getBlock(number)).hash });
  }
  await socket.destroy();
  return { address, tx: tx.hash, heads, logs: [log] };
}

await report((s) => (s.phase === 'http' ? http(s) : ws(s)));
