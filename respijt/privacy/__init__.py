"""Privacy (NEN 7513): the access log and retention."""
