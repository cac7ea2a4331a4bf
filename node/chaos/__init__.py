"""Fault injection users run: scenarios, the runner, the history of client operations and the
checkers that judge it (`brainchain chaos`, README "Fault injection")."""
