"""The one scheduler process: a database lease, the job registry and the runner.

See docs/operations.md. Web workers never import the runner; only `respijt scheduler` and
`respijt serve` start it.
"""
