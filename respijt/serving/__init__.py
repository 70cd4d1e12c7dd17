"""How the app is served: logs, metrics, input and rate limits, installed by the app factory,
and the problem+json answer that both faces give."""
