"""Messages the service sends: rules (what to say when), outbox, transports."""
