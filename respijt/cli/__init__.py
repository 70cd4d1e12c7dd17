"""The `respijt` command: operations, demo data and the stand-in Twilio."""
