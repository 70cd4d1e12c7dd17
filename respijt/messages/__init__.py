"""Messages: transport only. The outbox, quiet hours, Twilio, delivery news and mail; each room's
`notices.py` says what its changes send.
"""
