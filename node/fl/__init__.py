"""The learning side of federated learning (DESIGN.md §6): data sets and shards, the models,
local training and scoring, and the deterministic mixing every node recomputes the global model
with. The rules the chain enforces are in brainchain/fl.py. numpy, torch and scikit-learn are
imported inside these modules' functions only, so the CLI and the RPC start without them."""
