"""Model executors of a validator (DESIGN.md §5 step 3): torch and transformers are imported
inside these modules' functions only, so the CLI, the RPC and a node without models start fast."""
