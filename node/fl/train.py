"""Local training and scoring of FL weights (DESIGN.md §6): what a trainer runs on its shard
and what a committee member runs on its validation shard.

Both run on the CPU under node/executors/determinism.py's settings with one thread, and
training shuffles with a generator of its own seed, so the same blob, data and seed give the
same bytes: a trainer's proposal can be reproduced, and a test can compare blobs exactly.
Committee members need not agree bit for bit (each scores on its own data; the chain takes the
median), but a model scored twice on the same data gets the same score.
"""

from __future__ import annotations

import math

from brainchain.fl import SCORE_SCALE
from node.executors.determinism import configure
from node.fl.data import Dataset
from node.fl.model import from_blob, from_module, to_blob, to_module

THREADS = 1  # one thread: the same reductions in the same order on every run
EPOCHS = 5
LEARNING_RATE = 0.1
MOMENTUM = 0.9
BATCH_SIZE = 32
LOSS_SCORE_RATE = 0.1  # a language model's score is exp(−0.1·loss) (the reference simulation)


def train_local(
    blob: bytes,
    shard: Dataset,
    epochs: int = EPOCHS,
    lr: float = LEARNING_RATE,
    seed: int = 0,
) -> bytes:
    """The weights after `epochs` of minibatch SGD with momentum on `shard`, from `blob`.

    Raises:
        ValueError: `blob` is not a canonical blob of the model, or `shard` is empty.
    """
    if not len(shard):
        raise ValueError("cannot train on an empty shard")
    torch = configure(THREADS)
    module = to_module(from_blob(blob))
    module.train()
    features, labels = torch.from_numpy(shard.features), torch.from_numpy(shard.labels)
    optimizer = torch.optim.SGD(module.parameters(), lr=lr, momentum=MOMENTUM)
    shuffle = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=shuffle)
        for start in range(0, len(labels), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(module(features[batch]), labels[batch])
            loss.backward()
            optimizer.step()
    return to_blob(from_module(module))


def evaluate(blob: bytes, dataset: Dataset) -> tuple[float, float]:
    """The weights' accuracy and mean cross-entropy loss on `dataset`.

    Raises:
        ValueError: `blob` is not a canonical blob of the model, or `dataset` is empty.
    """
    if not len(dataset):
        raise ValueError("cannot evaluate on an empty data set")
    torch = configure(THREADS)
    module = to_module(from_blob(blob))
    module.eval()
    labels = torch.from_numpy(dataset.labels)
    with torch.no_grad():
        logits = module(torch.from_numpy(dataset.features))
        loss = torch.nn.functional.cross_entropy(logits, labels).item()
        correct = int((logits.argmax(dim=1) == labels).sum().item())
    return correct / len(dataset), loss


def score_units(x: float) -> int:
    """A score in [0, 1] as an integer in 1/SCORE_SCALE units (brainchain/fl.py), rounded half
    to even; outside [0, 1] clamped, NaN counted as 0 (the worst)."""
    if math.isnan(x):
        return 0
    return min(SCORE_SCALE, max(0, round(x * SCORE_SCALE)))


def loss_score(loss: float) -> int:
    """A language model's score from its mean loss: exp(−0.1·loss), in score units."""
    return score_units(math.exp(-LOSS_SCORE_RATE * loss))


def score(blob: bytes, dataset: Dataset) -> int:
    """What a committee member reveals for a classifier's weights: accuracy, in score units.

    Raises:
        ValueError: `blob` is not a canonical blob of the model, or `dataset` is empty.
    """
    accuracy, _ = evaluate(blob, dataset)
    return score_units(accuracy)
