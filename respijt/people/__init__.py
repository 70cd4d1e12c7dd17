"""People: who is calling (callers, roles, tokens), accounts, sign-in throttling, feedback."""
